"""Snakemake adapter: per-layer Procrustes maps xx -> English on aligned contextual words, and their quality."""

import torch

from xstruct.analysis.wordalign import run_alignment
from xstruct.io import log_to

log_to(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
i, p = snakemake.input, snakemake.params
run_alignment(i.links, i.xx, i.en, snakemake.output.table, snakemake.output.maps, test_fraction=p.test_fraction,
              seed=p.seed, norm_iters=p.norm_iters, block=p.block)
