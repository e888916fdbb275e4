"""Snakemake adapter: vocab.tsv and meta.json of a vocabulary from its models (named inputs, one per language)."""

from xstruct.io import log_to
from xstruct.vocab.table import write_vocab

log_to(snakemake.log[0])
write_vocab(snakemake.params.mode, snakemake.params.domains, dict(snakemake.input.items()),
            snakemake.output.tsv, snakemake.output.meta)
