"""Which transfer jobs a config asks for: tasks (with their merged settings) x bilingual runs.

Config block `transfer`: `source` (the fine-tuning language), `languages` (transfer targets: a bilingual run
`en-xx` is evaluated when xx is one of them), `top_k`, `defaults` (settings every task inherits), `tasks`
({name: settings}) and `run` (the task names to run; all configured tasks when absent). A `ud` task without a
`source` is planned as not run (no treebank configured).
"""
from __future__ import annotations

import copy

from xstruct import paths
from xstruct.io import is_url
from xstruct.tasks import TaskDataError, task_kind

BIBLE_DOMAIN = "bible"   # the corpus domain whose held-out books the stand-in tasks (xref, punct) are built from
NOT_RUN_NO_TREEBANK = "not run: no treebank configured"
TRAINING_KEYS = ("epochs", "batch_size", "lr", "schedule", "warmup", "weight_decay", "max_grad_norm", "max_length",
                 "eval_batch_size", "bucket", "seeds", "head")
HEAD_KEYS = {"pair": ("dropout",), "tag": ("dropout",), "parse": ("dropout", "arc_dim", "rel_dim")}


def check_spec(spec: dict, name: str) -> str:
    """The task's kind, after checking that every fine-tuning setting is there."""
    kind = task_kind(spec, name)
    missing = [k for k in TRAINING_KEYS if k not in spec]
    missing += [f"head.{k}" for k in HEAD_KEYS[kind] if k not in (spec.get("head") or {})]
    if missing:
        raise TaskDataError(f"transfer.tasks.{name}: missing {', '.join(missing)} (set them there or in "
                            "transfer.defaults)")
    return kind


def task_spec(transfer: dict, name: str) -> dict:
    """The task's settings over the transfer defaults (nested dicts such as `head` merged key by key)."""
    tasks = transfer.get("tasks") or {}
    if name not in tasks:
        raise TaskDataError(f"transfer.tasks: no task {name!r}; configured: {', '.join(tasks) or 'none'}")
    spec = copy.deepcopy(transfer.get("defaults") or {})
    for key, value in tasks[name].items():
        if isinstance(value, dict) and isinstance(spec.get(key), dict):
            spec[key] = {**spec[key], **value}
        else:
            spec[key] = copy.deepcopy(value)
    check_spec(spec, name)
    return spec


def requested_tasks(transfer: dict) -> list[str]:
    tasks = transfer.get("tasks") or {}
    names = transfer.get("run", list(tasks))
    unknown = [n for n in names if n not in tasks]
    if unknown:
        raise TaskDataError(f"transfer.run: unknown task(s) {', '.join(unknown)}; configured: {', '.join(tasks)}")
    return list(names)


def skipped_tasks(transfer: dict) -> dict[str, str]:
    """Requested tasks that produce no job, with the reason the report prints."""
    return {name: NOT_RUN_NO_TREEBANK for name in requested_tasks(transfer)
            if transfer["tasks"][name].get("format") == "ud" and not transfer["tasks"][name].get("source")}


def active_tasks(transfer: dict) -> list[str]:
    """Requested tasks that run, in config order."""
    skipped = skipped_tasks(transfer)
    return [name for name in requested_tasks(transfer) if name not in skipped]


def transfer_runs(runs, transfer: dict) -> list:
    """Bilingual runs source-xx whose xx is a transfer target (Table 1's runs)."""
    source, targets = transfer.get("source", "en"), set(transfer.get("languages") or [])
    return [r for r in runs if len(r.langs) == 2 and r.langs[0] == source and r.langs[1] in targets]


def heldout_files(transfer: dict, name: str, langs: list[str]) -> dict[str, str]:
    """Held-out verse files a Bible stand-in task reads, by language (none for external data)."""
    if task_spec(transfer, name)["format"] not in ("xref", "punct"):
        return {}
    return {l: paths.heldout_verses(BIBLE_DOMAIN, l) for l in langs}


def local_files(transfer: dict, name: str) -> dict[str, tuple[str, str]]:
    """Local data files of an external task ({input name: (config key, path)}): the source language's three
    splits and the targets' test files, as `files` patterns or a local UD folder name them (URLs and Hub
    datasets are downloaded by the job instead)."""
    from xstruct.tasks.ud import treebank_location

    spec = task_spec(transfer, name)
    source, targets = transfer.get("source", "en"), transfer.get("languages") or []
    wanted = [(source, s) for s in ("train", "dev", "test")] + [(t, "test") for t in targets if t != source]
    out = {}
    for lang, split in wanted:
        if spec["format"] == "ud" and spec.get("source") and lang in spec.get("treebanks", {}):
            path, key = treebank_location(spec["source"], spec["treebanks"][lang], split), "source"
        elif spec["format"] in ("xnli", "wikiann") and split in (spec.get("files") or {}):
            path, key = spec["files"][split].format(lang=lang), f"files.{split}"
        else:
            continue
        if not is_url(path):
            out[f"{lang}_{split}"] = (f"transfer.tasks.{name}.{key}", path)
    return out


def task_inputs(transfer: dict, name: str, langs: list[str]) -> dict[str, str]:
    """Snakemake inputs of a task's data preparation: held-out verses and, for xref, the cross-references, or
    the local data files (so an updated file reruns the task)."""
    inputs = {f"heldout_{l}": p for l, p in heldout_files(transfer, name, langs).items()}
    if task_spec(transfer, name)["format"] == "xref":
        inputs["crossref"] = paths.crossrefs(BIBLE_DOMAIN)
    return inputs | {k: path for k, (_, path) in local_files(transfer, name).items()}


def id_maps(run) -> dict[str, str]:
    """Local -> global id maps of a run's language views (to swap shared embedding rows)."""
    return {l: paths.id_map(run.vocab_id, l) for l in run.langs}
