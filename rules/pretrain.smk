# Pretraining (paper §3.1, §4): one job per run `<condition>.<langs>.s<seed>` trains the MLM its condition row
# describes, resuming from results/checkpoints/{run}/ (never a rule output, so Snakemake never deletes it), and
# writes one Hugging Face BertForMaskedLM folder per language view plus sharing.json, metrics.json and log.csv.
# Two rules, bilingual and monolingual, because the view folders are outputs and their names (the run's
# languages) must be wildcards; both run the same script. Settings: config `model` and `pretrain`.
from dataclasses import asdict

PRETRAIN = f"{RESULTS}/pretrain"
PRETRAIN_RESOURCES = config["pretrain"].get("resources", {})
PRETRAIN_WILDCARDS = dict(condition=r"[a-z][a-z0-9_]*", l1=r"[a-z][a-z0-9]*", l2=r"[a-z][a-z0-9]*", seed=r"\d+")


def pretrain_run(wc):
    run_id = f"{wc.condition}.{'-'.join(l for l in (wc.l1, wc.get('l2')) if l)}.s{wc.seed}"
    if run_id not in STUDY.by_id:
        raise WorkflowError(f"{PRETRAIN}/{run_id}: no such run in config 'runs' (known: {', '.join(RUN_IDS)})")
    return STUDY.run(run_id)


def pretrain_vocab(wc):
    return f"{RESULTS}/vocab/{pretrain_run(wc).vocab_id}"


def pretrain_inputs(wc):
    """The vocabulary files the run streams (its corpus parts + valid), and its dictionary for extra anchors."""
    run, vocab = pretrain_run(wc), pretrain_vocab(wc)
    inputs = {"meta": f"{vocab}/meta.json"}
    for lang, parts in run.parts(config["parallel"]).items():
        inputs[f"hf_{lang}"] = f"{vocab}/hf/{lang}"
        inputs[f"map_{lang}"] = f"{vocab}/ids/{lang}.map.npy"
        for part in (*parts, "valid"):
            inputs[f"ids_{lang}_{part}"] = f"{vocab}/ids/{lang}.{part}.npy"
            inputs[f"stats_{lang}_{part}"] = f"{vocab}/ids/{lang}.{part}.json"
    if run.condition.anchors == "dictionary":
        inputs["dictionary"] = f"{RESULTS}/dict/en-{run.langs[1]}.all.txt"
    return inputs


def pretrain_spec(wc):
    """The run as plain data for the recipe (condition row, languages, seed, corpus parts per language)."""
    run = pretrain_run(wc)
    return {"id": run.id, "langs": list(run.langs), "seed": run.seed, "condition": asdict(run.condition),
            "parts": {l: list(p) for l, p in run.parts(config["parallel"]).items()}}


def pretrain_outputs(run):
    return [f"{PRETRAIN}/{run.id}/{l}" for l in run.langs] + [
        f"{PRETRAIN}/{run.id}/{f}" for f in ("sharing.json", "metrics.json", "log.csv")]


def pretrain_targets():
    return [p for run in STUDY.runs for p in pretrain_outputs(run)]


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
    message:
        "pretrain {wildcards.condition}.{wildcards.l1}.s{wildcards.seed}"
