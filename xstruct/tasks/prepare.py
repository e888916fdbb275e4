"""Prepare one task's data folder: English train/dev/test and the target languages' test sets, as JSON lines.

The task spec is the config block `transfer.tasks.<name>`; its `format` picks the source:
- xref / punct: the held-out Bible verses (+ the cross-reference table for xref), split by book;
- xnli / wikiann: `hub` + `revision` (a pinned Hub dataset) or `files` ({split: path, `{lang}` filled in});
- ud: `source` (local folder or URL prefix) + `treebanks` ({lang: "UD_English-EWT/en_ewt"}).
"""
from __future__ import annotations

from pathlib import Path

from xstruct.io import atomic_dir, write_json
from xstruct.tasks import MissingLabels, TaskDataError, task_kind, ud, wikiann, xnli
from xstruct.tasks.verse_splits import book_splits, read_crossrefs, read_verses
from xstruct.tasks.examples import example_path, write_examples
from xstruct.tasks.punct import verse_examples
from xstruct.tasks.xref import build_pairs, pair_examples


def _wanted(source_lang: str, targets: list[str]) -> list[tuple[str, str]]:
    """(lang, split) files a task folder holds: the source language's three splits, the targets' test sets."""
    return [(source_lang, s) for s in ("train", "dev", "test")] + [(t, "test") for t in targets]


def _segment(examples: list[dict]) -> list[dict]:
    """Chinese raw text split into jieba words, as the pretraining corpus is."""
    import jieba

    def cut(text):
        return " ".join(w for w in jieba.cut(text) if w.strip())
    return [{**ex, "a": cut(ex["a"]), "b": cut(ex["b"])} for ex in examples]


def _bible(name: str, spec: dict, wanted, heldout: dict[str, str], crossref: str | None, out: Path) -> None:
    where = f"transfer.tasks.{name}"
    langs = sorted({l for l, _ in wanted})
    missing = [l for l in langs if l not in heldout]
    if missing:
        raise TaskDataError(f"{where}: no held-out verse file given for {', '.join(missing)}")
    verses = {l: read_verses(heldout[l]) for l in langs}
    source = wanted[0][0]
    keys = list(verses[source])
    for lang in langs:
        if list(verses[lang]) != keys:
            raise TaskDataError(f"{heldout[lang]}: verse keys differ from {heldout[source]} "
                                "(held-out files share keys and order)")
    split_of = book_splits(keys, spec["dev_books"], spec["test_books"], where)
    if spec["format"] == "xref":
        if crossref is None:
            raise TaskDataError(f"{where}: the xref task needs the cross-reference table")
        pairs = build_pairs(keys, read_crossrefs(crossref), split_of, int(spec["seed"]))
        with (out / "pairs.tsv").open("w", encoding="utf-8") as f:
            f.writelines(f"{p['split']}\t{p['a']}\t{p['b']}\t{p['label']}\n" for p in pairs)
        for lang, split in wanted:
            write_examples(example_path(out, lang, split), pair_examples(pairs, verses[lang], split, heldout[lang]))
    else:
        for lang, split in wanted:
            chosen = [k for k in keys if split_of[k] == split]
            write_examples(example_path(out, lang, split), verse_examples(verses[lang], chosen))


def _external(name: str, spec: dict, lang: str, split: str) -> list[dict]:
    fmt = spec["format"]
    if fmt == "ud":
        if lang not in spec.get("treebanks", {}):
            raise TaskDataError(f"transfer.tasks.{name}.treebanks: no treebank for {lang!r}")
        return ud.read_treebank(spec["source"], spec["treebanks"][lang], split)
    module = xnli if fmt == "xnli" else wikiann
    if "files" in spec:
        if split not in spec["files"]:
            raise TaskDataError(f"transfer.tasks.{name}.files: no {split!r} file pattern")
        path = spec["files"][split].format(lang=lang)
        examples = xnli.read_local(path) if fmt == "xnli" else wikiann.read_xtreme_tsv(path, lang)
    elif spec.get("hub"):
        examples = module.read_hub(spec["hub"], spec.get("revision"), lang, split)
    else:
        raise TaskDataError(f"transfer.tasks.{name}: give `files` or `hub` + `revision`")
    if fmt == "xnli" and lang in spec.get("jieba", []):
        examples = _segment(examples)
    return examples


def _external_split(name: str, spec: dict, lang: str, split: str) -> list[dict]:
    """Examples of one split; "test" reads the `test_split` file (dev where the test files carry no labels)."""
    read = spec.get("test_split", "test") if split == "test" else split
    try:
        return _external(name, spec, lang, read)
    except MissingLabels as err:
        hint = (f"; set transfer.tasks.{name}.test_split: dev to score the target languages' dev sets instead "
                "(the report then labels those columns dev)" if read == "test" else "")
        raise TaskDataError(f"{err} (XTREME's test files carry none){hint}") from None


def prepare_task(name: str, spec: dict, source_lang: str, targets: list[str], out_dir: str | Path,
                 heldout: dict[str, str] | None = None, crossref: str | None = None) -> dict:
    """Write `{lang}.{split}.jsonl` files and `manifest.json` (counts) into `out_dir`, atomically."""
    kind = task_kind(spec, name)
    wanted = _wanted(source_lang, targets)
    limits = spec.get("max_examples") or {}
    with atomic_dir(out_dir) as tmp:
        if spec["format"] in ("xref", "punct"):
            _bible(name, spec, wanted, heldout or {}, crossref, tmp)
        else:
            for lang, split in wanted:
                write_examples(example_path(tmp, lang, split), _external_split(name, spec, lang, split))
        counts = {}
        for lang, split in wanted:
            path = example_path(tmp, lang, split)
            lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
            if limits.get(split) is not None and len(lines) > limits[split]:
                lines = lines[: limits[split]]  # prepared files are already in a fixed order
                path.write_text("".join(lines), encoding="utf-8")
            if not lines:
                raise TaskDataError(f"transfer.tasks.{name}: no {split} examples for {lang}")
            counts[f"{lang}.{split}"] = len(lines)
        manifest = {"task": name, "kind": kind, "format": spec["format"], "source": source_lang,
                    "targets": list(targets), "examples": counts, "test_split": spec.get("test_split", "test")}
        write_json(tmp / "manifest.json", manifest)
    return manifest
