# Bible text of one language: pretraining parts a/b/valid and their stats.
from xstruct.corpora.bible import build_text, locate_db
from xstruct.io import log_to

log_to(snakemake.log[0])
p = snakemake.params
build_text(locate_db(p.package, p.cache), p.version, snakemake.wildcards.lang, p.heldout_books,
           p.valid_fraction, paths={k: snakemake.output[k] for k in ("a", "b", "valid")},
           stats_path=snakemake.output.stats)
