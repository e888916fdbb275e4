"""Snakemake adapter: zero-shot transfer of one task for one pretrained run (fine-tune, select, test)."""

from xstruct.finetune import finetune_transfer
from xstruct.io import log_to

log_to(snakemake.log[0])
p = snakemake.params
finetune_transfer(snakemake.wildcards.task, p.spec, snakemake.input.data, p.run_dir, p.target, snakemake.output.json,
                  source=p.source, maps=p.maps, top_k=p.top_k, device=p.device, threads=snakemake.threads)
