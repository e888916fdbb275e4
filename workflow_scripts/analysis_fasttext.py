"""Snakemake adapter: fastText vectors on a monolingual model's own pretraining text (BLI baseline)."""

from xstruct.analysis.fasttext import train_fasttext
from xstruct.io import log_to

log_to(snakemake.log[0])
ft = snakemake.params.fasttext
train_fasttext(list(snakemake.input.texts), snakemake.output.vectors, dim=ft["dim"], epochs=ft["epochs"],
               min_count=ft["min_count"], window=ft["window"], minn=ft["minn"], maxn=ft["maxn"],
               skipgram=ft["skipgram"], threads=snakemake.threads, seed=snakemake.params.seed)
