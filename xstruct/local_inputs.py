"""Local files a config points at, checked when Snakemake plans the study: a missing one fails in one line
naming its config key before any job runs (at paper scale, before any GPU hour is spent). Downloads (Hub
datasets, URLs) are not checked here; they fail in their own job with the address and the local alternative.
"""
from __future__ import annotations

from pathlib import Path

from xstruct import paths
from xstruct.analysis.texts import fetched, set_paths
from xstruct.corpora.local import text_files
from xstruct.io import is_url
from xstruct.tasks.transfer_jobs import active_tasks, local_files


def _has_text(location: str) -> bool:
    try:
        return bool(text_files(location, ""))
    except FileNotFoundError:
        return False


def local_inputs(config: dict, study) -> list[tuple[str, str, bool]]:
    """(config key, path, exists) of every local input the study reads; what the pipeline makes is left out."""
    out = {}

    def add(key: str, path: str, exists: bool | None = None) -> None:
        if not is_url(path) and not Path(path).is_relative_to(paths.RESULTS) and path not in out:
            out[path] = (key, path, Path(path).is_file() if exists is None else exists)

    corpora = config["corpora"]
    for domain, lang in study.corpus_texts():
        if corpora[domain]["source"] == "text":
            location = corpora[domain].get("files", {}).get(lang, "")
            add(f"corpora.{domain}.files.{lang}", location, _has_text(location))
    for lang in (pair.split("-")[1] for pair in study.dictionary_pairs()):
        source = config["dictionaries"]["sources"][lang]
        if source.get("source") == "muse" and source.get("path"):
            pattern = f"en-{lang}*.txt"     # en-xx.txt, or MUSE's en-xx.0-5000.txt and en-xx.5000-6500.txt
            add(f"dictionaries.sources.{lang}.path", f"{source['path'].rstrip('/')}/{pattern}",
                any(Path(source["path"]).glob(pattern)))

    transfer = config.get("transfer") or {}
    for name in active_tasks(transfer):
        for key, path in local_files(transfer, name).values():
            add(key, path)

    for name, spec in (config.get("analysis", {}).get("sets") or {}).items():
        if fetched(spec) or not spec.get("path"):     # fetched, or made by the pipeline (a corpus `domain`)
            continue
        if spec["format"] == "tatoeba":
            for pair in spec.get("codes", {}):
                for lang in ("en", pair):
                    add(f"analysis.sets.{name}.path", set_paths({name: spec}, f"{name}-{pair}", lang)[0])
        else:
            for lang in config["languages"]:
                for path in set_paths({name: spec}, name, lang):
                    add(f"analysis.sets.{name}.path", path)
    return list(out.values())


def check_local_inputs(config: dict, study) -> None:
    """Raise FileNotFoundError (one line: the first missing input's key and path, and how many more)."""
    missing = [(k, p) for k, p, ok in local_inputs(config, study) if not ok]
    if missing:
        key, path = missing[0]
        more = f" (and {len(missing) - 1} more local inputs missing)" if len(missing) > 1 else ""
        raise FileNotFoundError(f"{key}: {path} not found{more}")
