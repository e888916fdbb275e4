"""Snakemake adapter: prepare one task's English and target-language data files."""

from xstruct.io import log_to
from xstruct.tasks.prepare import prepare_task

log_to(snakemake.log[0])
prepare_task(snakemake.wildcards.task, snakemake.params.spec, snakemake.params.source, snakemake.params.targets,
             snakemake.output.folder, heldout=snakemake.params.heldout, crossref=snakemake.input.get("crossref"))
