# Word-translation train / test pairs of the en-xx dictionary, by English frequency rank (or MUSE's own split).
from xstruct.corpora.dictionaries import split_dictionary
from xstruct.io import log_to

log_to(snakemake.log[0])
split_dictionary(snakemake.params.source, snakemake.wildcards.lang, snakemake.input.pairs,
                 list(snakemake.input.english), snakemake.params.train_ranks, snakemake.params.test_ranks,
                 paths={p: snakemake.output[p] for p in ("train", "test")}, stats_path=snakemake.output.stats,
                 foreign_corpus=list(snakemake.input.foreign), min_count=snakemake.params.min_count)
