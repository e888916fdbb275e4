"""Task metrics, each with the definition the paper's tasks use.

- accuracy: sentence-pair classification (XNLI, xref).
- span F1: seqeval's CoNLL span scoring after the paper's BIO repair rule (NER, punct).
- UAS / LAS: CoNLL 2018 shared task definitions over every syntactic word, comparing only the universal part of
  the relation (`nsubj:pass` counts as `nsubj`). With gold tokenisation the official F1 equals this accuracy.
"""
from __future__ import annotations

from seqeval.metrics import f1_score, precision_score, recall_score


def accuracy(gold: list, pred: list) -> float:
    if len(gold) != len(pred) or not gold:
        raise ValueError(f"accuracy needs two equal non-empty lists; got {len(gold)} and {len(pred)}")
    return sum(g == p for g, p in zip(gold, pred)) / len(gold)


def _split(tag: str) -> tuple[str, str]:
    if tag == "O":
        return "O", ""
    prefix, _, kind = tag.partition("-")
    if prefix not in ("B", "I") or not kind:
        raise ValueError(f"BIO tag {tag!r} must be O, B-<type> or I-<type>")
    return prefix, kind


def repair_bio(tags: list[str]) -> list[str]:
    """The paper's repair rule: a span is a B (or an I after O / at the start) with all I tags that follow it,
    whatever their types; the span takes the type of its LAST tag. So a lone I-X becomes B-X, and
    B-X I-Y I-Z becomes one span of type Z."""
    out = list(tags)
    start = None
    for i, tag in enumerate(tags + ["O"]):
        prefix, _ = _split(tag)
        if start is not None and prefix != "I":
            kind = _split(tags[i - 1])[1]
            out[start:i] = [f"B-{kind}"] + [f"I-{kind}"] * (i - start - 1)
            start = None
        if prefix in ("B", "I") and start is None:
            start = i
    return out


def span_f1(gold: list[list[str]], pred: list[list[str]]) -> dict:
    """Precision/recall/F1 of exactly matching typed spans (seqeval), predictions repaired first."""
    if len(gold) != len(pred) or any(len(g) != len(p) for g, p in zip(gold, pred)):
        raise ValueError("span_f1 needs gold and predicted tag sequences of equal lengths")
    fixed = [repair_bio(p) for p in pred]
    return {"f1": float(f1_score(gold, fixed, zero_division=0)),
            "precision": float(precision_score(gold, fixed, zero_division=0)),
            "recall": float(recall_score(gold, fixed, zero_division=0))}


def universal(deprel: str) -> str:
    return deprel.split(":", 1)[0]


def attachment_scores(gold_heads: list[list[int]], gold_rels: list[list[str]],
                      pred_heads: list[list[int]], pred_rels: list[list[str]]) -> dict:
    """UAS and LAS over every word (CoNLL 2018); relations compared on their universal part."""
    words = uas = las = 0
    for gh, gr, ph, pr in zip(gold_heads, gold_rels, pred_heads, pred_rels, strict=True):
        if not len(gh) == len(gr) == len(ph) == len(pr):
            raise ValueError("attachment_scores needs one head and one relation per word")
        for a, b, c, d in zip(gh, gr, ph, pr):
            words += 1
            if a == c:
                uas += 1
                las += universal(b) == universal(d)
    if not words:
        raise ValueError("attachment_scores needs at least one word")
    return {"las": las / words, "uas": uas / words, "words": words}
