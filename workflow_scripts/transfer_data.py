"""Snakemake adapter: prepare one task's English and target-language data files."""
import sys

from xstruct.tasks.prepare import prepare_task

sys.stderr = open(snakemake.log[0], "w", buffering=1)
prepare_task(snakemake.wildcards.task, snakemake.params.spec, snakemake.params.source, snakemake.params.targets,
             snakemake.output.folder, heldout=snakemake.params.heldout, crossref=snakemake.input.get("crossref"))
