"""Snakemake adapter: encode one evaluation set with one model view (cached sentence/word/type vectors)."""

import torch

from xstruct.analysis.extract import extract_set
from xstruct.io import log_to

log_to(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
p, w = snakemake.params, snakemake.wildcards
extract_set(snakemake.input.model, p.sets, w.set, w.text, snakemake.output.features, init=w.init, seed=p.seed,
            batch_size=p.batch_size, max_length=p.max_length, device=p.device, precision=p.precision)
