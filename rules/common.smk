# Config validation and the helpers that turn the study (config + condition table) into target lists.
import sys

sys.path.insert(0, workflow.basedir)
from xstruct.local_inputs import check_local_inputs  # noqa: E402
from xstruct.study import ConfigError, Study, check_writable, validate_config  # noqa: E402

RESULTS = "results"

try:
    validate_config(config, workflow.source_path("../schemas/config.schema.yaml"))
    STUDY = Study(config, root=workflow.basedir)
    check_writable(RESULTS)
    check_local_inputs(config, STUDY, RESULTS)
except (ConfigError, FileNotFoundError) as err:
    raise WorkflowError(f"config error: {err}") from None

VOCAB_IDS = STUDY.vocab_ids
RUN_IDS = [r.id for r in STUDY.runs]


def _drop_stale_manifests():
    """A corpus part or exported model changed after it was made (Snakemake cannot see edits inside folder
    outputs, nor edits of an output it does not rerun): remove it and the manifest that recorded its checksum,
    a rule output, so a plain run rebuilds both and everything downstream (xstruct.integrity)."""
    from xstruct.corpora.text import part_files
    from xstruct.export import view_files
    from xstruct.integrity import drop_stale

    said = drop_stale([f"{RESULTS}/corpus/{d}/{l}.stats.json" for d, l in STUDY.corpus_texts()], part_files)
    said += drop_stale([f"{RESULTS}/pretrain/{r}/sharing.json" for r in RUN_IDS], view_files)
    for line in said:
        print(line, file=sys.stderr)


if workflow.is_main_process:
    _drop_stale_manifests()

# Job order on a few cores: everything pretraining reads, then pretraining (the long jobs), then the short jobs
# that read its exports. Without it the greedy scheduler fills the cores with whichever pretraining is ready and
# builds the last vocabularies late, so one long run ends alone (measured: the last ~9 min of an 81-min default).
PRIORITY = {"pretrain_inputs": 20, "pretrain": 10}


wildcard_constraints:
    domain=r"[a-z][a-z0-9_]*",
    lang=r"[a-z][a-z0-9]*",
    part=r"a|b|valid",
    pair=r"en-[a-z][a-z0-9]*",
    vocab=r"(joint|union|disjoint)/[a-z0-9_.+]+",
    run=r"[a-z][a-z0-9_]*\.[a-z0-9-]+\.s\d+",


def corpus_targets():
    return [
        f"{RESULTS}/corpus/{d}/{l}.stats.json" for d, l in STUDY.corpus_texts()
    ] + [f"{RESULTS}/dict/{p}.stats.json" for p in STUDY.dictionary_pairs()]


def vocab_targets():
    return [f"{RESULTS}/vocab/{v}/anchors.json" for v in VOCAB_IDS]


def all_targets():
    # held-out verses and cross-references are built where a task or analysis set reads them, so a study
    # without the Bible (the paper configuration) plans none
    return (corpus_targets() + vocab_targets() + pretrain_targets() + transfer_targets() + analysis_targets()
            + report_targets())


# --- pretrain: settings, input functions and targets (rules/pretrain.smk) ---

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
    return pretrain_run(wc).spec(config["parallel"])


def pretrain_outputs(run):
    return [f"{PRETRAIN}/{run.id}/{l}" for l in run.langs] + [
        f"{PRETRAIN}/{run.id}/{f}" for f in ("sharing.json", "metrics.json", "log.csv")]


def pretrain_targets():
    return [p for run in STUDY.runs for p in pretrain_outputs(run)]


# --- transfer: settings, input functions and targets (rules/transfer.smk) ---
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
    return [f"{RESULTS}/transfer/{t}/{r}.json" for t in TRANSFER_TASKS for r in TRANSFER_RUNS]


# --- analysis: settings, input functions and targets (rules/analysis.smk) ---
from xstruct.analysis.analysis_jobs import AnalysisPlan
from xstruct.analysis.texts import resolve_sets, set_paths, split_set_id

# Without an `analysis:` block the rules stay defined but plan nothing; settings are looked up lazily (A()).
# Fetched sets (paper: XNLI from the Hub, Tatoeba from LASER) get the `path` that rule analysis_set writes to.
if "analysis" in config:
    config["analysis"]["sets"] = resolve_sets(config["analysis"]["sets"])
APLAN = AnalysisPlan(STUDY, config) if "analysis" in config else None


def analysis_targets():
    return APLAN.targets() if APLAN else []


def A(*keys):
    """A setting under config `analysis`, looked up when a job is planned."""
    value = config["analysis"]
    for k in keys:
        value = value[k]
    return value


def _param(*keys):
    return lambda wc: A(*keys)


def _pair_set(name, xx):
    return APLAN.set_id(A(name, "set"), xx)


def _set_spec(set_id):
    """Only the named set's entry, so that editing another set re-runs nothing."""
    name = split_set_id(set_id)[0]
    return {name: A("sets", name)}


def _correlation_pairs():
    return APLAN.correlation_pairs() if APLAN else []


def _bli_inputs(wc):
    s = A("bli")
    out = {"en": APLAN.mono("en").features(s["set"]), "xx": APLAN.mono(wc.xx).features(s["set"]),
           "random_en": APLAN.random("en").features(s["set"]), "random_xx": APLAN.random(wc.xx).features(s["set"]),
           "train": s["train"].format(xx=wc.xx), "test": s["test"].format(xx=wc.xx)}
    if s.get("fasttext"):
        out |= {"fasttext_en": f"{RESULTS}/analysis/fasttext/en", "fasttext_xx": f"{RESULTS}/analysis/fasttext/{wc.xx}"}
    return out


def _retrieval_inputs(wc):
    """The monolingual models' features, and (random_*) their randomly initialised encoders': the control."""
    train, test = APLAN.retrieval_sets(wc.xx)
    out = {}
    for prefix, (en, xx) in {"": (APLAN.mono("en"), APLAN.mono(wc.xx)),
                             "random_": (APLAN.random("en"), APLAN.random(wc.xx))}.items():
        out |= {f"{prefix}en": en.features(train), f"{prefix}xx": xx.features(train),
                f"{prefix}en_eval": en.features(test), f"{prefix}xx_eval": xx.features(test)}
    return out


def _cka_inputs(wc):
    set_id = _pair_set("cka", wc.xx)
    out = {}
    for setting, (en, xx) in APLAN.cka_views(wc.xx).items():
        out[f"{setting}_en"], out[f"{setting}_xx"] = en.features(set_id), xx.features(set_id)
    return out


def _alignment_inputs(wc):
    set_id = _pair_set("alignment", wc.xx)
    en, xx = APLAN.alignment_views(wc.xx, wc.setting)
    return {"links": f"{RESULTS}/analysis/alignment/en-{wc.xx}/links.txt", "en": en.features(set_id),
            "xx": xx.features(set_id)}

from xstruct.tasks.transfer_jobs import task_spec as _task_spec


def _alignment_transfer_inputs(wc):
    out = {"data": f"{RESULTS}/tasks/{wc.task}"}
    for setting, v in APLAN.transfer_views(wc.xx).items():
        key = setting.replace("+", "_")
        out[f"{key}_en"], out[f"{key}_xx"] = v["source"], v["target"]
        if v["maps"]:
            out[f"{key}_maps"] = v["maps"]
    return out


# --- report: settings, input functions and targets (rules/report.smk) ---
from xstruct.report.inputs import analysis_inputs
from xstruct.tasks.transfer_jobs import skipped_tasks


def report_targets():
    return [f"{RESULTS}/claims.md"] if "report" in config else []
