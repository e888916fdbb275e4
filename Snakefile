# Emerging Cross-lingual Structure in Pretrained Language Models (Conneau et al., ACL 2020), end to end.
# The embedded default runs on one CPU offline; `--configfile configs/paper.yaml` is the paper's scale.
from snakemake.utils import min_version

min_version("9.27")


# The embedded default, wherever the working directory is (--directory); --configfile merges over it.
configfile: f"{workflow.basedir}/config.yaml"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/vocab.smk"
include: "rules/pretrain.smk"
include: "rules/transfer.smk"
include: "rules/analysis.smk"
include: "rules/report.smk"


rule all:
    default_target: True
    input:
        all_targets(),
