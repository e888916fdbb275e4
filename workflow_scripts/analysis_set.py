"""Snakemake adapter: fetch one file of a remote evaluation set (XNLI from the Hub, Tatoeba from LASER)."""
import sys

from xstruct.analysis.fetch import fetch_set_file

sys.stderr = open(snakemake.log[0], "w", buffering=1)
fetch_set_file(snakemake.wildcards.name, snakemake.params.spec, snakemake.output[0])
