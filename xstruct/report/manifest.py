"""Provenance: ties every number to its run (config hash, condition row, seed, data checksums, code, packages)."""
from __future__ import annotations

import hashlib
import json
import subprocess
from dataclasses import asdict
from importlib import metadata
from pathlib import Path

from xstruct.io import read_json

PACKAGES = ("torch", "transformers", "tokenizers", "sentencepiece", "snakemake", "numpy", "pandas", "datasets",
            "seqeval", "eflomal", "gensim", "jieba")


def config_hash(config: dict) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:16]


def git_commit(root: str | Path) -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return out.stdout.strip() + ("-dirty" if dirty else "") if out.returncode == 0 else "unknown"
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"


def versions() -> dict[str, str]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def build_manifest(study, config: dict, results: str | Path, root: str | Path) -> dict:
    results = Path(results)
    runs = []
    for run in study.runs:
        data = {}
        for lang in run.langs:
            domain = run.condition.domain_of(lang)
            stats = results / "corpus" / domain / f"{lang}.stats.json"
            if stats.is_file():
                data[f"{domain}.{lang}"] = {part: s.get("sha256", s.get("commit")) for part, s in read_json(stats).items()}
        row = asdict(run.condition)
        runs.append({"run": run.id, "condition": row, "langs": list(run.langs), "seed": run.seed,
                     "vocab": run.vocab_id, "data_sha256": data})
    return {"config": config.get("name"), "config_sha256": config_hash(config), "git_commit": git_commit(root),
            "packages": versions(), "runs": runs}
