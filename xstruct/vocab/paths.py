"""Artifact paths of the vocabulary stage, derived from a vocabulary id, for rules/vocab.smk.

`results` is the results folder (rules/common.smk RESULTS); a vocabulary id is `<mode>/<domain>.<lang>+...`.
"""
from __future__ import annotations

from xstruct.corpora.text import PARTS
from xstruct.study import parse_vocab_id
from xstruct.vocab import TRAINING_PARTS


def domains(vocab: str) -> dict[str, str]:
    """{lang: domain} of a vocabulary id, in its order."""
    return {lang: domain for domain, lang in parse_vocab_id(vocab)[1]}


def domain(vocab: str, lang: str) -> str:
    known = domains(vocab)
    if lang not in known:
        raise ValueError(f"vocabulary {vocab!r} has no language {lang!r} (it has {', '.join(known)})")
    return known[lang]


def model(results: str, vocab: str, lang: str) -> str:
    """The SentencePiece model of a language view: the joint model, or the language's own model."""
    d = domain(vocab, lang)
    if parse_vocab_id(vocab)[0] == "joint":
        return f"{results}/vocab/{vocab}/spm.model"
    return f"{results}/vocab/spm/{d}.{lang}.model"


def models(results: str, vocab: str) -> dict[str, str]:
    return {lang: model(results, vocab, lang) for lang in domains(vocab)}


def training_texts(results: str, langs: dict[str, str]) -> dict[str, list[str]]:
    """{lang: its training parts} of a model trained on `langs` ({lang: domain})."""
    return {lang: [f"{results}/corpus/{d}/{lang}.{p}.txt" for p in TRAINING_PARTS] for lang, d in langs.items()}


def view_texts(results: str, vocab: str, lang: str) -> list[str]:
    """Every corpus part of a language view, in PARTS order."""
    d = domain(vocab, lang)
    return [f"{results}/corpus/{d}/{lang}.{part}.txt" for part in PARTS]


def layout(vocab: str) -> list[tuple[str, str]]:
    """(lang, part) of every id array of a vocabulary, in the order `arrays` lists them."""
    return [(lang, part) for lang in domains(vocab) for part in PARTS]


def arrays(results: str, vocab: str) -> list[str]:
    return [f"{results}/vocab/{vocab}/ids/{lang}.{part}.npy" for lang, part in layout(vocab)]
