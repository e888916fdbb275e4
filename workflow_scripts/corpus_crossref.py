# Human cross-references between Bible verses.
from xstruct.corpora import logging_to
from xstruct.corpora.bible import build_crossref, locate_db

with logging_to(snakemake.log[0]):
    build_crossref(locate_db(snakemake.params.package, snakemake.params.cache), snakemake.output.tsv)
