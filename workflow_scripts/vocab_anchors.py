"""Snakemake adapter: anchor statistics of a vocabulary from its id arrays."""

from xstruct.io import log_to
from xstruct.vocab.anchors import write_anchor_stats

log_to(snakemake.log[0])
arrays = {}
for (lang, part), path in zip(snakemake.params.layout, snakemake.input.arrays, strict=True):
    arrays.setdefault(lang, {})[part] = path
write_anchor_stats(snakemake.input.tsv, snakemake.input.meta, arrays, snakemake.output[0])
