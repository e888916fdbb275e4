"""Snakemake adapter: encode one evaluation set with one model view (cached sentence/word/type vectors)."""
import sys

import torch

from xstruct.analysis.extract import extract_set

sys.stderr = open(snakemake.log[0], "w", buffering=1)
torch.set_num_threads(snakemake.threads)
p, w = snakemake.params, snakemake.wildcards
extract_set(snakemake.input.model, p.sets, w.set, w.text, snakemake.output.features, init=w.init, seed=p.seed,
            batch_size=p.batch_size, max_length=p.max_length, device=p.device, precision=p.precision)
