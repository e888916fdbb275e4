# Pretraining (paper §3.1, §4): one job per run `<condition>.<langs>.s<seed>` trains the MLM its condition row
# describes, resuming from results/checkpoints/{run}/ (never a rule output, so Snakemake never deletes it), and
# writes one Hugging Face BertForMaskedLM folder per language view plus sharing.json, metrics.json and log.csv.
# Two rules, bilingual and monolingual, because the view folders are outputs and their names (the run's
# languages) must be wildcards; both run the same script. Settings: config `model` and `pretrain`.

rule pretrain_bilingual:
    input:
        unpack(pretrain_inputs),
    output:
        view_en=directory(f"{PRETRAIN}/{{condition}}.{{l1}}-{{l2}}.s{{seed}}/{{l1}}"),
        view_xx=directory(f"{PRETRAIN}/{{condition}}.{{l1}}-{{l2}}.s{{seed}}/{{l2}}"),
        sharing=f"{PRETRAIN}/{{condition}}.{{l1}}-{{l2}}.s{{seed}}/sharing.json",
        metrics=f"{PRETRAIN}/{{condition}}.{{l1}}-{{l2}}.s{{seed}}/metrics.json",
        log_csv=f"{PRETRAIN}/{{condition}}.{{l1}}-{{l2}}.s{{seed}}/log.csv",
    wildcard_constraints:
        **PRETRAIN_WILDCARDS,
    params:
        run=pretrain_spec,
        vocab_dir=pretrain_vocab,
        checkpoint_dir=lambda wc: f"{RESULTS}/checkpoints/{pretrain_run(wc).id}",
        model=config["model"],
        pretrain={k: v for k, v in config["pretrain"].items() if k != "resources"},
    log:
        f"{RESULTS}/logs/pretrain/{{condition}}.{{l1}}-{{l2}}.s{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/pretrain/{{condition}}.{{l1}}-{{l2}}.s{{seed}}.tsv",
    priority: PRIORITY["pretrain"]
    threads: PRETRAIN_RESOURCES.get("threads", 1)
    resources:
        mem_mb=PRETRAIN_RESOURCES.get("mem_mb", 4000),
        runtime=PRETRAIN_RESOURCES.get("runtime", 60),
        gpu=PRETRAIN_RESOURCES.get("gpus", 0),
    message:
        "pretrain {wildcards.condition}.{wildcards.l1}-{wildcards.l2}.s{wildcards.seed}"
    conda:
        "../envs/xstruct.yaml"
    script:
        "../workflow_scripts/pretrain.py"


use rule pretrain_bilingual as pretrain_monolingual with:
    output:
        view=directory(f"{PRETRAIN}/{{condition}}.{{l1}}.s{{seed}}/{{l1}}"),
        sharing=f"{PRETRAIN}/{{condition}}.{{l1}}.s{{seed}}/sharing.json",
        metrics=f"{PRETRAIN}/{{condition}}.{{l1}}.s{{seed}}/metrics.json",
        log_csv=f"{PRETRAIN}/{{condition}}.{{l1}}.s{{seed}}/log.csv",
    log:
        f"{RESULTS}/logs/pretrain/{{condition}}.{{l1}}.s{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/pretrain/{{condition}}.{{l1}}.s{{seed}}.tsv",
    message:
        "pretrain {wildcards.condition}.{wildcards.l1}.s{wildcards.seed}"
