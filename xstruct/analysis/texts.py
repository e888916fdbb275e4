"""Evaluation texts and dictionaries the analyses read: configured sets of sentences, MUSE-style dictionaries,
LASER Tatoeba and XNLI files.

A set is a config entry `analysis.sets.<name>` with a `format`:
  tsv      "key<TAB>text" lines (the held-out verses), path template with {lang};
  lines    one sentence per line (pretraining text), path template or list of templates with {lang};
  tatoeba  LASER files `<dir>/tatoeba.<code>-eng.{<code>,eng}`; pair-specific, its id is "<name>-<xx>";
  xnli     XTREME-format "premise<TAB>hypothesis<TAB>label" files, path template(s) with {lang}: the distinct
           premises (each appears on consecutive lines) then the hypotheses, so every language lines up.
Instead of a local `path`, a tsv or lines set may name a corpus `domain` of the study: its held-out verses (tsv)
or its pretraining text (lines, parts a and b), which the pipeline makes. A tatoeba set may name a `url` (the folder of LASER's files) and an xnli set a `hub`
dataset + `revision` (+ `splits`, default dev and test): the files are then fetched by the pipeline into
`xstruct.paths.fetched_set(name)` (xstruct.analysis.fetch) in the same layout, and `resolve_sets` points `path` there.
A `path` given wins over `url` / `hub`.
`alias` maps a language onto another's files (en' reads the English sentences in the paper configuration).
Words are whitespace tokens of the returned text. Text from outside the pipeline (`raw: true`, the default for
tatoeba and xnli) is normalised and segmented (jieba for zh) exactly as the corpora are.
"""
from __future__ import annotations

from pathlib import Path

from xstruct import paths
from xstruct.corpora.text import normalize, segment

FORMATS = ("tsv", "lines", "tatoeba", "xnli")
FETCHED = {"tatoeba": "url", "xnli": "hub"}       # the key that makes a set of this format fetched, not local
PIPELINE_TEXT = {"tsv": "held-out verses", "lines": "pretraining text"}   # what a `domain` set reads


def fetched(spec: dict) -> bool:
    """Fetched by the pipeline: names a `url` / `hub` and no local `path` (a path given wins, so that an overlay
    config points a fetched set at local copies without having to remove the download settings)."""
    return spec.get(FETCHED.get(spec.get("format"), "")) is not None and spec.get("path") is None


def resolve_sets(sets: dict) -> dict:
    """The sets with `path` filled in where the pipeline makes their files: a corpus `domain`'s held-out verses
    or pretraining text, or the fetch rule's folder."""
    out = {}
    for name, spec in sets.items():
        if spec.get("domain") and spec.get("path") is None:    # a path given wins, as over url / hub
            domain = spec["domain"]
            if spec.get("format") not in PIPELINE_TEXT:
                raise ValueError(f"analysis.sets.{name}.domain: only tsv (held-out verses) and lines (pretraining "
                                 f"text) sets read a corpus domain, not {spec.get('format')!r}")
            spec = {**spec, "path": paths.heldout_verses(domain, "{lang}") if spec["format"] == "tsv" else
                    [paths.corpus_part(domain, "{lang}", part) for part in ("a", "b")]}
        elif fetched(spec):
            folder = paths.fetched_set(name)
            spec = {**spec, "path": folder if spec["format"] == "tatoeba" else
                    [f"{folder}/{split}-{{lang}}.tsv" for split in spec.get("splits", ["dev", "test"])]}
        out[name] = spec
    return out


def _alias(spec: dict, lang: str) -> str:
    """The language whose files and text rules `lang` uses in this set."""
    return spec.get("alias", {}).get(lang, lang)


def _templates(spec: dict) -> list[str]:
    path = spec["path"]
    return [path] if isinstance(path, str) else list(path)


def split_set_id(set_id: str) -> tuple[str, str | None]:
    """'tatoeba-fr' -> ('tatoeba', 'fr'); 'heldout' -> ('heldout', None)."""
    name, _, pair = set_id.partition("-")
    return name, pair or None


def set_spec(sets: dict, set_id: str) -> dict:
    name, pair = split_set_id(set_id)
    if name not in sets:
        raise ValueError(f"analysis.sets: no set {name!r} (known: {', '.join(sets)})")
    spec = sets[name]
    if spec.get("format") not in FORMATS:
        raise ValueError(f"analysis.sets.{name}.format: {spec.get('format')!r} must be one of {', '.join(FORMATS)}")
    if (spec["format"] == "tatoeba") != (pair is not None):
        raise ValueError(f"analysis set id {set_id!r}: only tatoeba sets are pair-specific ('{name}-<xx>')")
    return spec


def set_paths(sets: dict, set_id: str, lang: str) -> list[str]:
    """The files that hold the text of language `lang` in a set (inputs of the extraction rule)."""
    spec = set_spec(sets, set_id)
    lang = _alias(spec, lang)
    if spec["format"] == "tatoeba":
        _, pair = split_set_id(set_id)
        codes = spec["codes"]
        if pair not in codes:
            raise ValueError(f"analysis.sets.tatoeba.codes: no LASER code for {pair!r}")
        side = "eng" if lang == "en" else codes[lang]
        return [str(Path(spec["path"]) / f"tatoeba.{codes[pair]}-eng.{side}")]
    return [t.format(lang=lang) for t in _templates(spec)]


def read_set(sets: dict, set_id: str, lang: str) -> list[str]:
    """The sentences of a set in one language, in file order, at most `max_sentences` of them."""
    spec = set_spec(sets, set_id)
    fmt = spec["format"]
    texts: list[str] = []
    for path in set_paths(sets, set_id, lang):
        if not Path(path).is_file():
            raise FileNotFoundError(f"{path}: text of analysis set {set_id!r} ({lang}) not found")
        with open(path, encoding="utf-8") as f:
            lines = [line.rstrip("\n") for line in f]
        if fmt == "tsv":
            bad = next((i for i, l in enumerate(lines, 1) if l.count("\t") != 1), None)
            if bad:
                raise ValueError(f"{path}:{bad}: expected 'key<TAB>text'")
            texts += [l.split("\t", 1)[1] for l in lines]
        elif fmt == "xnli":
            rows = [l.split("\t") for l in lines]
            bad = next((i for i, r in enumerate(rows, 1) if len(r) < 2), None)
            if bad:
                raise ValueError(f"{path}:{bad}: expected 'premise<TAB>hypothesis<TAB>label'")
            texts += [r[0] for i, r in enumerate(rows) if i == 0 or rows[i - 1][0] != r[0]]
            texts += [r[1] for r in rows]
        else:
            texts += lines
    if spec.get("raw", fmt in ("tatoeba", "xnli")):
        code = _alias(spec, lang)
        texts = [segment(normalize(t, code), code) for t in texts]
    limit = spec.get("max_sentences")
    return texts[:limit] if limit else texts
