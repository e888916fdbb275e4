"""Snakemake adapter: zero-shot transfer of one word-level task through per-layer alignment, one en-xx pair."""

import torch

from xstruct.analysis.layer_transfer import Recipe, run_alignment_transfer
from xstruct.io import log_to

log_to(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
p = snakemake.params
run_alignment_transfer(snakemake.wildcards.task, p.spec, snakemake.input.data, snakemake.wildcards.xx, p.views,
                       snakemake.output.table, recipe=Recipe(**p.recipe), max_examples=p.max_examples, seed=p.seed,
                       source=p.source, device=p.device)
