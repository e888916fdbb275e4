"""The study as data: the condition table and the list of pretraining runs derived from the config.

A condition is a row of `configs/conditions.tsv` (checked against `schemas/conditions.schema.yaml`); a run is
(condition, language set, seed). What decides an artifact's path (the vocabulary a run needs, the corpus parts it
streams) is derived here; `xstruct.paths` spells the paths and ids.
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

from . import paths
from .configs import check_recipe

CONDITION_SCHEMA = Path(__file__).resolve().parents[1] / "schemas" / "conditions.schema.yaml"


class ConfigError(ValueError):
    """A bad configuration value; the message is one line naming the file or key and what was expected."""


def validate_config(config: dict, schema_path: str | Path) -> None:
    """Check `config` against the JSON schema; the first error becomes one line naming the key."""
    import jsonschema
    import yaml

    schema = yaml.safe_load(Path(schema_path).read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(config))
    if error is None:
        try:                    # what the schema cannot say: cross-key checks the pretraining job would make
            check_recipe(config.get("model", {}), config.get("pretrain", {}))
        except ValueError as err:
            raise ConfigError(str(err)) from None
        return
    key = ".".join(str(p) for p in error.absolute_path) or "(top level)"
    if error.validator == "additionalProperties":
        unknown = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        hint = ("; if a target path followed --configfile, Snakemake read it as a config file: put targets before "
                "--configfile" if not error.absolute_path else "")
        raise ConfigError(f"{key}: unknown key(s) {', '.join(unknown)}{hint}")
    raise ConfigError(f"{key}: {error.message}")


def check_writable(results: str | Path) -> None:
    """Fail before any job if the results folder or a folder in it cannot take new files: a job would fail
    only after Snakemake had deleted its previous outputs."""
    results = Path(results)
    holder = results
    while not holder.exists() and holder != holder.parent:
        holder = holder.parent
    folders = [holder] + ([p for p in sorted(results.iterdir()) if "." not in p.name] if results.is_dir() else [])
    for folder in folders:
        if not folder.is_dir():
            raise ConfigError(f"{folder}: expected a folder for results, found a file; move it away")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise ConfigError(f"{folder}: not writable by this user; fix its permissions or run elsewhere "
                              "(snakemake --directory)")


@dataclass(frozen=True)
class Condition:
    name: str
    label: str
    section: str
    vocab: str                       # joint | union | disjoint
    anchors: str                     # none | dictionary
    domain: str                      # corpus domain of English (and of every language unless domain_xx is set)
    domain_xx: str | None            # corpus domain of the non-English language, if different
    separate_embeddings: bool        # language-specific token+position embeddings (and so the tied softmax)
    separate_layers: tuple[int, ...]  # 1-based transformer layers that are language-specific
    pretrain: str = "mlm"            # mlm | none (zero training steps: a control, the floor of every score)

    @property
    def is_control(self) -> bool:
        """Not pretrained: its scores are floors for the other conditions, not a condition of the paper."""
        return self.pretrain == "none"

    def domain_of(self, lang: str) -> str:
        return self.domain if lang == "en" or self.domain_xx is None else self.domain_xx


@dataclass(frozen=True)
class Run:
    condition: Condition
    langs: tuple[str, ...]           # ("en", "fr") or ("fr",)
    seed: int

    @property
    def id(self) -> str:
        return paths.run_id(self.condition.name, self.langs, self.seed)

    @property
    def vocab_id(self) -> str:
        return paths.vocab_id(self.condition.vocab, [(self.condition.domain_of(l), l) for l in self.langs])

    def spec(self, parallel: bool) -> dict:
        """The run as plain data for the pretraining recipe (condition row, languages, seed, corpus parts)."""
        return {"id": self.id, "langs": list(self.langs), "seed": self.seed, "condition": asdict(self.condition),
                "parts": {l: list(p) for l, p in self.parts(parallel).items()}}

    def parts(self, parallel: bool) -> dict[str, tuple[str, ...]]:
        """Corpus parts each language streams: halves a/b keep bilingual text non-parallel."""
        if len(self.langs) == 1 or parallel:
            return {l: ("a", "b") for l in self.langs}
        return {self.langs[0]: ("a",), self.langs[1]: ("b",)}


def read_conditions(path: str | Path, schema: str | Path = CONDITION_SCHEMA) -> dict[str, Condition]:
    """The condition table, each row checked against `schemas/conditions.schema.yaml` (one-line errors naming
    the file, line and column)."""
    import jsonschema
    import pandas as pd
    import yaml

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: condition table not found (config key 'conditions')")
    table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    validator = jsonschema.Draft202012Validator(yaml.safe_load(Path(schema).read_text(encoding="utf-8")))
    out: dict[str, Condition] = {}
    for line, row in enumerate(table.to_dict("records"), start=2):
        error = jsonschema.exceptions.best_match(validator.iter_errors(row))
        if error is not None:
            column = ".".join(map(str, error.absolute_path)) or "columns"
            raise ConfigError(f"{path}:{line}: {column}: {error.message}")
        if row["condition"] in out:
            raise ConfigError(f"{path}:{line}: condition {row['condition']!r} is defined twice")
        separate = [] if row["separate"] == "-" else row["separate"].split(",")
        out[row["condition"]] = Condition(
            name=row["condition"], label=row["label"], section=row["section"], vocab=row["vocab"],
            anchors=row["anchors"], domain=row["domain"], domain_xx=None if row["domain_xx"] == "-" else row["domain_xx"],
            separate_embeddings="embeddings" in separate,
            separate_layers=tuple(sorted({int(s) for s in separate if s != "embeddings"})), pretrain=row["pretrain"])
    if not out:
        raise ConfigError(f"{path}: the condition table has no rows")
    return out


def expand_runs(config: dict, conditions: dict[str, Condition]) -> list[Run]:
    """Cross every `runs` entry's conditions, language sets and seeds; check every name on the way."""
    n_layers = config.get("model", {}).get("layers")
    langs_known = set(config["languages"])
    domains_known = set(config["corpora"])
    runs: dict[str, Run] = {}
    for i, entry in enumerate(config["runs"]):
        for cname in entry["conditions"]:
            if cname not in conditions:
                raise ConfigError(f"runs[{i}].conditions: unknown condition {cname!r}; "
                                  f"known: {', '.join(conditions)}")
            cond = conditions[cname]
            if n_layers is not None and cond.separate_layers and max(cond.separate_layers) >= n_layers:
                raise ConfigError(f"condition {cname!r}: separate layers {list(cond.separate_layers)} must lie in "
                                  f"1..{n_layers - 1} for a {n_layers}-layer model (model.layers; the top layer "
                                  "stays shared so the task head has one input)")
            for d in filter(None, (cond.domain, cond.domain_xx)):
                if d not in domains_known:
                    raise ConfigError(f"condition {cname!r}: domain {d!r} is not a key of 'corpora'")
            for spec in entry["langs"]:
                langs = tuple(spec.split("-"))
                bad = [l for l in langs if l not in langs_known]
                if bad or len(langs) > 2 or len(set(langs)) != len(langs):
                    raise ConfigError(f"runs[{i}].langs: {spec!r} must be one language or 'en-xx' "
                                      f"of the configured languages ({', '.join(config['languages'])})")
                if len(langs) == 2 and langs[0] != "en":
                    raise ConfigError(f"runs[{i}].langs: {spec!r} must start with 'en' (transfer is from English)")
                if cond.anchors == "dictionary" and len(langs) == 2 and langs[1] not in config["dictionaries"]["sources"]:
                    raise ConfigError(f"runs[{i}]: condition {cname!r} needs a dictionary for {langs[1]!r} "
                                      "under 'dictionaries.sources'")
                for seed in entry.get("seeds", [config["seed"]]):
                    run = Run(cond, langs, int(seed))
                    runs.setdefault(run.id, run)
    return list(runs.values())


class Study:
    """The config, its condition table and its runs, with the target lists the rules need."""

    def __init__(self, config: dict, root: str | Path = "."):
        self.config = config
        self.conditions = read_conditions(Path(root) / config["conditions"])
        self.runs = expand_runs(config, self.conditions)
        self.by_id = {r.id: r for r in self.runs}

    def run(self, run_id: str) -> Run:
        return self.by_id[run_id]

    @property
    def vocab_ids(self) -> list[str]:
        return sorted({r.vocab_id for r in self.runs})

    def corpus_texts(self) -> list[tuple[str, str]]:
        """Every (domain, language) text some run pretrains on."""
        return sorted({(r.condition.domain_of(l), l) for r in self.runs for l in r.langs})

    def dictionary_pairs(self) -> list[str]:
        """en-xx pairs that have a dictionary source and a language in the study."""
        return [f"en-{l}" for l in self.config["dictionaries"]["sources"] if l in self.config["languages"]]
