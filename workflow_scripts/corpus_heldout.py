# Held-out Bible books of one language, aligned by verse key with every other configured language.
from xstruct.corpora.bible import build_heldout, locate_db
from xstruct.io import log_to

log_to(snakemake.log[0])
p = snakemake.params
build_heldout(locate_db(p.package, p.cache), p.versions, p.langs, snakemake.wildcards.lang, p.heldout_books,
              snakemake.output.tsv)
