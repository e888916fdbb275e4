# Human cross-references between Bible verses.
from xstruct.corpora.bible import build_crossref, locate_db
from xstruct.io import log_to

log_to(snakemake.log[0])
build_crossref(locate_db(snakemake.params.package, snakemake.params.cache), snakemake.output.tsv)
