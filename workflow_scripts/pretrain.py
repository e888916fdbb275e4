"""Snakemake adapter: train (or resume) one pretraining run and export its language views."""
from pathlib import Path

from xstruct.io import log_to
from xstruct.pretrain import launch

log_to(snakemake.log[0], "a")   # append: a resumed job keeps the killed one's log
p = snakemake.params
launch({"run": p.run, "model": p.model, "pretrain": p.pretrain, "vocab_dir": p.vocab_dir,
        "out_dir": str(Path(snakemake.output.sharing).parent), "checkpoint_dir": p.checkpoint_dir,
        "dictionary": snakemake.input.get("dictionary"), "threads": snakemake.threads},
       gpus=snakemake.resources.gpu)
