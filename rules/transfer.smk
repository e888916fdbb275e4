# Zero-shot cross-lingual transfer (paper §3.2): each task's data is prepared once (English train/dev/test and the
# target languages' test sets), then one fine-tuning job per (task, bilingual run) fine-tunes the English view,
# selects on English dev and tests the target view. Settings: config `transfer` (see xstruct/tasks/transfer_jobs.py).
from xstruct.tasks import TaskDataError
from xstruct.tasks.transfer_jobs import active_tasks, heldout_files, id_maps, task_inputs, task_spec, transfer_runs

TRANSFER = config.get("transfer") or {}
TRANSFER_SOURCE = TRANSFER.get("source", "en")
TRANSFER_RUNS = {r.id: r for r in transfer_runs(STUDY.runs, TRANSFER)}
TRANSFER_TARGETS = sorted({r.langs[1] for r in TRANSFER_RUNS.values()})
TRANSFER_LANGS = [TRANSFER_SOURCE, *TRANSFER_TARGETS]
try:
    TRANSFER_TASKS = active_tasks(TRANSFER)
    for _task in TRANSFER_TASKS:
        task_spec(TRANSFER, _task)
except TaskDataError as err:
    raise WorkflowError(f"config error: {err}") from None


def transfer_targets():
    """Every (task, run) score: the tasks that run x the bilingual runs whose target is a transfer language."""
    return [paths.transfer_result(t, r) for t in TRANSFER_TASKS for r in TRANSFER_RUNS]


localrules: task_data   # downloads the Hub datasets (no network on many cluster nodes), then a few CPU minutes

rule task_data:
    input:
        unpack(lambda wc: task_inputs(TRANSFER, wc.task, TRANSFER_LANGS)),
    output:
        folder=directory(paths.task_data("{task}")),
    wildcard_constraints:
        task=r"[a-z][a-z0-9_]*",
    params:
        spec=lambda wc: task_spec(TRANSFER, wc.task),
        source=TRANSFER_SOURCE,
        targets=TRANSFER_TARGETS,
        heldout=lambda wc: heldout_files(TRANSFER, wc.task, TRANSFER_LANGS),
    log:
        f"{paths.LOGS}/tasks/{{task}}.log",
    benchmark:
        f"{paths.BENCHMARKS}/tasks/{{task}}.tsv",
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
        sharing=paths.sharing("{run}"),
        maps=lambda wc: list(id_maps(TRANSFER_RUNS[wc.run]).values()),
    output:
        json=paths.transfer_result("{task}", "{run}"),
    wildcard_constraints:
        task=r"[a-z][a-z0-9_]*",
    params:
        spec=lambda wc: task_spec(TRANSFER, wc.task),
        run_dir=lambda wc: paths.run_dir(wc.run),
        source=TRANSFER_SOURCE,
        target=lambda wc: TRANSFER_RUNS[wc.run].langs[1],
        maps=lambda wc: id_maps(TRANSFER_RUNS[wc.run]),
        top_k=TRANSFER.get("top_k", 2),
        device=TRANSFER.get("device", "auto"),
    log:
        f"{paths.LOGS}/transfer/{{task}}/{{run}}.log",
    benchmark:
        f"{paths.BENCHMARKS}/transfer/{{task}}/{{run}}.tsv",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=720,
    message:
        "zero-shot {wildcards.task}: fine-tune {params.source} of {wildcards.run}, test {params.target}"
    conda:
        "../envs/xstruct.yaml"
    script:
        "../workflow_scripts/transfer_finetune.py"
