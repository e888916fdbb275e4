# Download and unpack one Debian package into the cache folder (no system install).
from pathlib import Path

from xstruct.corpora.debian import fetch
from xstruct.io import log_to

log_to(snakemake.log[0])
fetch(snakemake.wildcards.package, Path(snakemake.output.manifest).parent.parent)
