# Debian documentation and man pages of one language: filtered, deduplicated, capped, split a/b/valid.
from pathlib import Path

from xstruct.corpora.debian import build_text
from xstruct.io import log_to

log_to(snakemake.log[0])
p = snakemake.params
build_text([Path(m).parent for m in snakemake.input.manifests], snakemake.wildcards.lang, p.cleaning,
           p.max_lines, p.valid_fraction, paths={k: snakemake.output[k] for k in ("a", "b", "valid")},
           stats_path=snakemake.output.stats, threads=snakemake.threads)
