"""Snakemake adapter: build every table, figure and the claims report (xstruct.report.build)."""
from xstruct.io import log_to

log_to(snakemake.log[0])   # before the report's imports: matplotlib and pandas warnings belong in the log

from pathlib import Path  # noqa: E402

from xstruct.report.build import build_report  # noqa: E402
from xstruct.study import Study  # noqa: E402

root = Path(snakemake.scriptdir).parent
analysis = {kind: list(getattr(snakemake.input, kind)) for kind in snakemake.params.analysis_kinds}
build_report(Study(snakemake.config, root=root), snakemake.config, list(snakemake.input.transfer), analysis,
             snakemake.params.skipped, Path(snakemake.output.claims).parent,
             results=Path(snakemake.output.claims).parent, root=root, pretraining=list(snakemake.input.pretraining))
