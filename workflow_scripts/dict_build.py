# Bilingual dictionary en-xx: normalised single-word pairs, English words in frequency-rank order.
from pathlib import Path

from xstruct.corpora.dictionaries import build_dictionary
from xstruct.io import log_to

log_to(snakemake.log[0])
package = snakemake.input.get("package")
build_dictionary(snakemake.params.source, snakemake.wildcards.lang, Path(package).parent if package else None,
                 list(snakemake.input.english), snakemake.output.pairs, snakemake.output.stats,
                 foreign_corpus=list(snakemake.input.foreign))
