"""Snakemake adapter: symmetrised eflomal word links between xx and English parallel sentences."""
import sys

from xstruct.analysis.wordalign import run_links

sys.stderr = open(snakemake.log[0], "w", buffering=1)
p = snakemake.params
run_links(p.sets, p.set, snakemake.wildcards.xx, p.n_sentences, snakemake.output.links,
          symmetrize_with=p.symmetrize, eflomal=p.eflomal)
