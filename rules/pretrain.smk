# Pretraining (paper §3.1, §4): one job per run `<condition>.<langs>.s<seed>` trains the MLM its condition row
# describes, resuming from its checkpoint folder (never a rule output, so Snakemake never deletes it), and
# writes one Hugging Face BertForMaskedLM folder per language view plus sharing.json, metrics.json and log.csv.
# Two rules, bilingual and monolingual, because the view folders are outputs and their names (the run's
# languages) must be wildcards; both run the same script. Settings: config `model` and `pretrain`; threads,
# memory and GPUs: the profile (profiles/slurm sets the paper's 8 GPUs per run).

PRETRAIN_WILDCARDS = dict(condition=r"[a-z][a-z0-9_]*", l1=r"[a-z][a-z0-9]*", l2=r"[a-z][a-z0-9]*", seed=r"\d+")
BILINGUAL = paths.run_id("{condition}", ["{l1}", "{l2}"], "{seed}")
MONOLINGUAL = paths.run_id("{condition}", ["{l1}"], "{seed}")


def pretrain_run(wc):
    run_id = paths.run_id(wc.condition, [l for l in (wc.l1, wc.get("l2")) if l], wc.seed)
    if run_id not in STUDY.by_id:
        known = ", ".join(r.id for r in STUDY.runs)
        raise WorkflowError(f"{paths.run_dir(run_id)}: no such run in config 'runs' (known: {known})")
    return STUDY.run(run_id)


def pretrain_inputs(wc):
    """The vocabulary files the run streams (its corpus parts + valid), and its dictionary for extra anchors."""
    run = pretrain_run(wc)
    vid = run.vocab_id
    inputs = {"meta": paths.vocab_meta(vid)}
    for lang, parts in run.parts(config["parallel"]).items():
        inputs[f"hf_{lang}"] = paths.tokenizer(vid, lang)
        inputs[f"map_{lang}"] = paths.id_map(vid, lang)
        for part in (*parts, "valid"):
            inputs[f"ids_{lang}_{part}"] = paths.id_array(vid, lang, part)
            inputs[f"stats_{lang}_{part}"] = paths.id_stats(vid, lang, part)
    if run.condition.anchors == "dictionary":
        inputs["dictionary"] = paths.dictionary(run.langs[1], "all")
    return inputs


def pretrain_outputs(run):
    return [paths.view(run.id, l) for l in run.langs] + [
        f"{paths.run_dir(run.id)}/{f}" for f in ("sharing.json", "metrics.json", "log.csv")]


def pretrain_targets():
    return [p for run in STUDY.runs for p in pretrain_outputs(run)]


rule pretrain_bilingual:
    input:
        unpack(pretrain_inputs),
    output:
        view_en=directory(paths.view(BILINGUAL, "{l1}")),
        view_xx=directory(paths.view(BILINGUAL, "{l2}")),
        sharing=paths.sharing(BILINGUAL),
        metrics=paths.metrics(BILINGUAL),
        log_csv=f"{paths.run_dir(BILINGUAL)}/log.csv",
    wildcard_constraints:
        **PRETRAIN_WILDCARDS,
    params:
        run=lambda wc: pretrain_run(wc).spec(config["parallel"]),
        vocab_dir=lambda wc: paths.vocab(pretrain_run(wc).vocab_id),
        checkpoint_dir=lambda wc: paths.checkpoints(pretrain_run(wc).id),
        model=config["model"],
        pretrain=config["pretrain"],
    log:
        f"{paths.LOGS}/pretrain/{BILINGUAL}.log",
    benchmark:
        f"{paths.BENCHMARKS}/pretrain/{BILINGUAL}.tsv",
    priority: PRIORITY["pretrain"]
    threads: 1   # two 1-thread jobs beat one 2-thread job on a CPU; clusters set threads and GPUs in the profile
    resources:
        mem_mb=2000,
        runtime=60,
        gpu=0,       # > 1: DDP through torchrun, one process per GPU
    message:
        "pretrain {wildcards.condition}.{wildcards.l1}-{wildcards.l2}.s{wildcards.seed}"
    conda:
        "../envs/xstruct.yaml"
    script:
        "../workflow_scripts/pretrain.py"


use rule pretrain_bilingual as pretrain_monolingual with:
    output:
        view=directory(paths.view(MONOLINGUAL, "{l1}")),
        sharing=paths.sharing(MONOLINGUAL),
        metrics=paths.metrics(MONOLINGUAL),
        log_csv=f"{paths.run_dir(MONOLINGUAL)}/log.csv",
    log:
        f"{paths.LOGS}/pretrain/{MONOLINGUAL}.log",
    benchmark:
        f"{paths.BENCHMARKS}/pretrain/{MONOLINGUAL}.tsv",
    message:
        "pretrain {wildcards.condition}.{wildcards.l1}.s{wildcards.seed}"
