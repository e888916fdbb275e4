"""Task metrics and tree decoding: the paper's BIO repair rule, span F1, CoNLL 2018 attachment scores, and the
maximum spanning tree decoder checked against exhaustive search."""
import itertools

import numpy as np
import pytest

from xstruct.tasks.metrics import accuracy, attachment_scores, repair_bio, span_f1
from xstruct.tasks.mst import decode_tree


@pytest.mark.parametrize("tags, fixed", [
    (["I-PER"], ["B-PER"]),                                                  # a lone I-X becomes B-X
    (["O", "I-LOC", "I-LOC", "O"], ["O", "B-LOC", "I-LOC", "O"]),
    (["B-PER", "I-ORG", "I-LOC"], ["B-LOC", "I-LOC", "I-LOC"]),              # B-X I-Y I-Z: one span of type Z
    (["B-PER", "I-ORG", "O", "I-ORG"], ["B-ORG", "I-ORG", "O", "B-ORG"]),
    (["B-PER", "B-LOC", "I-ORG"], ["B-PER", "B-ORG", "I-ORG"]),              # a B always opens a new span
    (["O", "O"], ["O", "O"]),
    (["B-PER", "I-PER", "O", "B-LOC"], ["B-PER", "I-PER", "O", "B-LOC"]),    # well-formed input is unchanged
])
def test_repair_rule(tags, fixed):
    assert repair_bio(tags) == fixed


def test_span_f1_scores_repaired_spans():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O"]]
    # spans after repair: PER(0-1) right; LOC(3) typed ORG -> wrong; ORG(0) right via a lone I-ORG
    pred = [["B-ORG", "I-PER", "O", "B-ORG"], ["I-ORG", "O"]]
    s = span_f1(gold, pred)
    assert s["precision"] == pytest.approx(2 / 3) and s["recall"] == pytest.approx(2 / 3)
    assert s["f1"] == pytest.approx(2 / 3)
    assert span_f1(gold, gold)["f1"] == 1.0
    assert span_f1(gold, [["O"] * 4, ["O"] * 2])["f1"] == 0.0


def test_attachment_scores_use_universal_relations():
    gold_h, gold_r = [[2, 0, 2]], [["nsubj:pass", "root", "obl:tmod"]]
    pred_h, pred_r = [[2, 0, 1]], [["nsubj", "root", "obl"]]
    s = attachment_scores(gold_h, gold_r, pred_h, pred_r)
    assert s == {"uas": pytest.approx(2 / 3), "las": pytest.approx(2 / 3), "words": 3}
    s = attachment_scores(gold_h, gold_r, [[2, 0, 2]], [["obj", "root", "obl"]])
    assert s["uas"] == 1.0 and s["las"] == pytest.approx(2 / 3)


def test_accuracy():
    assert accuracy(["a", "b", "c", "a"], ["a", "b", "a", "a"]) == 0.75
    with pytest.raises(ValueError):
        accuracy([], [])


def _trees(n):
    """Every head assignment of n words that is a tree with exactly one root word."""
    for heads in itertools.product(range(n + 1), repeat=n):
        if sum(h == 0 for h in heads) != 1 or any(h == d + 1 for d, h in enumerate(heads)):
            continue
        ok = True
        for d in range(1, n + 1):  # every word must reach the root without a cycle
            seen, x = set(), d
            while x and x not in seen:
                seen.add(x)
                x = heads[x - 1]
            ok &= x == 0
        if ok:
            yield list(heads)


@pytest.mark.parametrize("n", [1, 2, 4, 5])
def test_decode_tree_is_the_best_single_root_tree(n):
    rng = np.random.default_rng(n)
    for _ in range(5):
        scores = rng.normal(size=(n + 1, n + 1))
        scores[1:, 0] += 2.0  # tempt the decoder to attach several words to the root
        best = max(_trees(n), key=lambda h: sum(scores[d + 1, h[d]] for d in range(n)))
        assert decode_tree(scores) == best
