"""Snakemake adapter: word translation (BLI) table of one en-xx pair."""

import torch

from xstruct.analysis.bli import run_bli
from xstruct.io import log_to

log_to(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
i, p = snakemake.input, snakemake.params
run_bli(i.en, i.xx, i.train, i.test, snakemake.output.table, norm_iters=p.norm_iters, k=p.k, block=p.block,
        fasttext_en=i.get("fasttext_en"), fasttext_xx=i.get("fasttext_xx"), random_en=i.random_en,
        random_xx=i.random_xx)
