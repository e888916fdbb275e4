"""Snakemake adapter: per-layer parallel sentence retrieval table of one en-xx pair."""

import torch

from xstruct.analysis.sentence_retrieval import run_retrieval
from xstruct.io import log_to

log_to(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
i, p = snakemake.input, snakemake.params
random = {k: i[f"random_{k}"] for k in ("en", "xx", "en_eval", "xx_eval")}
run_retrieval(i.en, i.xx, snakemake.output.table, n_train=p.n_train, n_eval=p.n_eval, seed=p.seed,
              norm_iters=p.norm_iters, block=p.block, en_eval_dir=i.en_eval, xx_eval_dir=i.xx_eval, random=random)
