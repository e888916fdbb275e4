"""Snakemake adapter: train one SentencePiece BPE model (per-language or joint) on the named input texts;
the rule's params are train_model's keyword arguments."""

from xstruct.io import log_to
from xstruct.vocab.train import train_model

log_to(snakemake.log[0])
train_model({lang: list(paths) for lang, paths in snakemake.input.items()}, snakemake.output.model,
            **dict(snakemake.params.items()))
