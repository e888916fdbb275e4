"""Snakemake adapter: per-layer linear CKA table of one en-xx pair under each model setting."""

import torch

from xstruct.analysis.cka_layers import run_cka
from xstruct.io import log_to

log_to(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
i, p = snakemake.input, snakemake.params
run_cka({s: (i[f"{s}_en"], i[f"{s}_xx"]) for s in p.settings}, snakemake.output.table,
        n_sentences=p.n_sentences, seed=p.seed, debiased=p.debiased)
