"""Snakemake adapter: vocab.tsv and meta.json of a vocabulary from its models (named inputs, one per language)."""
import sys

from xstruct.vocab.table import write_vocab

sys.stderr = open(snakemake.log[0], "w", buffering=1)
write_vocab(snakemake.params.mode, snakemake.params.domains, dict(snakemake.input.items()),
            snakemake.output.tsv, snakemake.output.meta)
