# Hub text (Wikipedia, FineWeb-2) of one language, streamed at a pinned revision up to max_bytes.
from xstruct.corpora.hub_text import build_text
from xstruct.io import log_to

log_to(snakemake.log[0])
p = snakemake.params
build_text(p.dataset, snakemake.wildcards.lang, p.cleaning, p.max_bytes, p.valid_fraction,
           paths={k: snakemake.output[k] for k in ("a", "b", "valid")}, stats_path=snakemake.output.stats)
