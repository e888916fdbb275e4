"""Snakemake adapter: fetch one file of a remote evaluation set (XNLI from the Hub, Tatoeba from LASER)."""

from xstruct.analysis.fetch import fetch_set_file
from xstruct.io import log_to

log_to(snakemake.log[0])
fetch_set_file(snakemake.wildcards.name, snakemake.params.spec, snakemake.output[0])
