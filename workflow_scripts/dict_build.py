# Bilingual dictionary en-xx: normalised single-word pairs, split train/test by English frequency rank.
from pathlib import Path

from xstruct.corpora.dictionaries import build_dictionary
from xstruct.io import log_to

log_to(snakemake.log[0])
package = snakemake.input.get("package")
build_dictionary(snakemake.params.source, snakemake.wildcards.lang, Path(package).parent if package else None,
                 list(snakemake.input.english), snakemake.params.train_ranks, snakemake.params.test_ranks,
                 paths={p: snakemake.output[p] for p in ("all", "train", "test")},
                 stats_path=snakemake.output.stats, foreign_corpus=list(snakemake.input.foreign))
