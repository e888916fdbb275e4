# Zero-shot cross-lingual transfer (paper §3.2): each task's data is prepared once (English train/dev/test and the
# target languages' test sets), then one fine-tuning job per (task, bilingual run) fine-tunes the English view,
# selects on English dev and tests the target view. Settings: config `transfer` (see xstruct/tasks/transfer_jobs.py).

localrules: task_data   # downloads the Hub datasets (no network on many cluster nodes), then a few CPU minutes

rule task_data:
    input:
        unpack(lambda wc: task_inputs(TRANSFER, wc.task, TRANSFER_LANGS, RESULTS)),
    output:
        folder=directory(f"{RESULTS}/tasks/{{task}}"),
    wildcard_constraints:
        task=r"[a-z][a-z0-9_]*",
    params:
        spec=lambda wc: task_spec(TRANSFER, wc.task),
        source=TRANSFER_SOURCE,
        targets=TRANSFER_TARGETS,
        heldout=lambda wc: heldout_files(TRANSFER, wc.task, TRANSFER_LANGS, RESULTS),
    log:
        f"{RESULTS}/logs/tasks/{{task}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/tasks/{{task}}.tsv",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    message:
        "task data {wildcards.task}: {params.source} train/dev/test, test in {params.targets}"
    conda:
        "../envs/xstruct.yaml"
    script:
        "../workflow_scripts/transfer_data.py"


rule finetune:
    input:
        data=rules.task_data.output.folder,
        sharing=f"{RESULTS}/pretrain/{{run}}/sharing.json",
        maps=lambda wc: list(id_maps(TRANSFER_RUNS[wc.run], RESULTS).values()),
    output:
        json=f"{RESULTS}/transfer/{{task}}/{{run}}.json",
    wildcard_constraints:
        task=r"[a-z][a-z0-9_]*",
    params:
        spec=lambda wc: task_spec(TRANSFER, wc.task),
        run_dir=lambda wc: f"{RESULTS}/pretrain/{wc.run}",
        source=TRANSFER_SOURCE,
        target=lambda wc: TRANSFER_RUNS[wc.run].langs[1],
        maps=lambda wc: id_maps(TRANSFER_RUNS[wc.run], RESULTS),
        top_k=TRANSFER.get("top_k", 2),
        device=TRANSFER.get("device", "auto"),
    log:
        f"{RESULTS}/logs/transfer/{{task}}/{{run}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/transfer/{{task}}/{{run}}.tsv",
    threads: TRANSFER.get("threads", 2)
    resources:
        mem_mb=TRANSFER.get("mem_mb", 8000),
        runtime=TRANSFER.get("runtime", 720),
    message:
        "zero-shot {wildcards.task}: fine-tune {params.source} of {wildcards.run}, test {params.target}"
    conda:
        "../envs/xstruct.yaml"
    script:
        "../workflow_scripts/transfer_finetune.py"
