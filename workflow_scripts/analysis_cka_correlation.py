"""Snakemake adapter: Pearson correlation across layers between CKA and sentence retrieval, per pair."""
import sys

from xstruct.analysis.similarity import run_correlation

sys.stderr = open(snakemake.log[0], "w", buffering=1)
p = snakemake.params
run_correlation(dict(zip(p.pairs, snakemake.input.cka)), dict(zip(p.pairs, snakemake.input.retrieval)),
                snakemake.output.table, setting=p.setting, mapped=p.mapped)
