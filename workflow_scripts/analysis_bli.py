"""Snakemake adapter: word translation (BLI) table of one en-xx pair."""
import sys

import torch

from xstruct.analysis.bli import run_bli

sys.stderr = open(snakemake.log[0], "w", buffering=1)
torch.set_num_threads(snakemake.threads)
i, p = snakemake.input, snakemake.params
run_bli(i.en, i.xx, i.train, i.test, snakemake.output.table, norm_iters=p.norm_iters, k=p.k, block=p.block,
        fasttext_en=i.get("fasttext_en"), fasttext_xx=i.get("fasttext_xx"), random_en=i.random_en,
        random_xx=i.random_xx)
