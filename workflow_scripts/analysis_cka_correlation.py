"""Snakemake adapter: Pearson correlation across layers between CKA and sentence retrieval, per pair."""

from xstruct.analysis.cka_layers import run_correlation
from xstruct.io import log_to

log_to(snakemake.log[0])
p = snakemake.params
run_correlation(dict(zip(p.pairs, snakemake.input.cka)), dict(zip(p.pairs, snakemake.input.retrieval)),
                snakemake.output.table, setting=p.setting, mapped=p.mapped)
