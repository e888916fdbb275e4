# Local text (a Wikipedia or Common Crawl extract on shared storage) of one language: filtered, capped, split.
from xstruct.corpora.local import build_text
from xstruct.io import log_to

log_to(snakemake.log[0])
p = snakemake.params
build_text(list(snakemake.input.files), snakemake.wildcards.lang, p.cleaning, p.max_bytes, p.valid_fraction,
           paths={k: snakemake.output[k] for k in ("a", "b", "valid")}, stats_path=snakemake.output.stats)
