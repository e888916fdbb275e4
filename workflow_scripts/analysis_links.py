"""Snakemake adapter: symmetrised eflomal word links between xx and English parallel sentences."""

from xstruct.analysis.wordalign import run_links
from xstruct.io import log_to

log_to(snakemake.log[0])
p = snakemake.params
run_links(p.sets, p.set, snakemake.wildcards.xx, p.n_sentences, snakemake.output.links,
          symmetrize_with=p.symmetrize, eflomal=p.eflomal)
