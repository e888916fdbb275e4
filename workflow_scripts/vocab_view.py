"""Snakemake adapter: a language view's tokenizer, local -> global id map and encoded corpus parts."""
import os

os.environ["RAYON_NUM_THREADS"] = str(snakemake.threads)  # the tokenizers library's thread pool
from xstruct.io import log_to  # noqa: E402
from xstruct.vocab.view import build_view  # noqa: E402

log_to(snakemake.log[0])
i, o = snakemake.input, snakemake.output
build_view(snakemake.wildcards.lang, i.model, i.tsv, i.meta, o.hf, o.map, i.texts, o.ids, o.stats)
