"""Word translation (BLI): planted maps, coverage accounting, and the full table on tiny real-text models."""
import numpy as np
import pytest
import torch
from helpers import tiny_model, verses
from test_analysis_math import random_rotation

from xstruct.analysis.bli import bli_scores, bli_table
from xstruct.analysis.extract import Features, extract
from xstruct.analysis.fasttext import fasttext_vectors, train_fasttext


def test_bli_recovers_planted_translation_and_reports_coverage():
    gen = torch.Generator().manual_seed(0)
    src_words = [f"s{i}" for i in range(400)]
    tgt_words = [f"t{i}" for i in range(400)]
    x = torch.randn(400, 24, generator=gen)
    y = x @ random_rotation(24, gen) * 3 + 1
    train = [(f"s{i}", f"t{i}") for i in range(200)] + [("unknown", "t1")]
    test = [(f"s{i}", f"t{i}") for i in range(300, 350)] + [("s350", "missing"), ("nope", "t360")]
    out = bli_scores(src_words, x, tgt_words, y, train, test, norm_iters=5, k=10, block=64)
    assert out["train_kept"] == 200 and out["train_pairs"] == 201
    assert (out["test_words"], out["test_kept"]) == (52, 50)
    assert out["test_coverage"] == pytest.approx(50 / 52)
    assert out["p_at_1"] == 1.0
    shuffled = bli_scores(src_words, x, tgt_words, y[torch.randperm(400, generator=gen)], train, test,
                          norm_iters=5, k=10, block=64)
    assert shuffled["p_at_1"] < 0.2
    uncovered = bli_scores(src_words, x, tgt_words, y, [("a", "b")], test, norm_iters=5, k=10, block=64)
    assert uncovered["train_kept"] == 0 and np.isnan(uncovered["p_at_1"])


def test_fasttext_training_is_reproducible(tmp_path):
    text = tmp_path / "en.txt"
    text.write_text("".join(t + "\n" for _, t in verses("k", "en", (1, 2), 1500)))
    opts = {"dim": 16, "epochs": 2, "min_count": 2, "window": 3, "minn": 3, "maxn": 5, "skipgram": True,
            "threads": 1, "seed": 1}
    m = train_fasttext([text], tmp_path / "a", **opts)
    train_fasttext([text], tmp_path / "b", **opts)
    assert m["vocab"] > 500
    words = ["God", "light", "Abrahamic"]    # the last is out of vocabulary: built from character n-grams
    a, b = fasttext_vectors(tmp_path / "a", words), fasttext_vectors(tmp_path / "b", words)
    assert torch.equal(a, b) and a.shape == (3, 16) and bool((a.norm(dim=1) > 0).all())


def test_bli_table_on_tiny_models_identity_dictionary(tmp_path):
    train_text = [t for _, t in verses("k", "en", (1, 1), 600)]
    model = tiny_model(tmp_path / "en", train_text)
    extract(model, train_text[:300], tmp_path / "f", types={"min_count": 2, "max_vocab": 400}, embeddings=True,
            progress=False)
    (tmp_path / "en.txt").write_text("".join(t + "\n" for t in train_text))
    train_fasttext([tmp_path / "en.txt"], tmp_path / "ft", dim=16, epochs=2, min_count=1, window=3, minn=3, maxn=5,
                   skipgram=True, threads=1, seed=1)
    f = Features(tmp_path / "f")
    emb_words, _ = f.embeddings()
    types, _ = f.types()
    words = sorted(set(emb_words) | set(types))
    rng = np.random.default_rng(0)
    rng.shuffle(words)
    train = [(w, w) for w in words[: len(words) // 2]]
    test = [(w, w) for w in words[len(words) // 2:]]
    extract(model, train_text[:300], tmp_path / "r", init="random", seed=1, types={"min_count": 2, "max_vocab": 400},
            embeddings=True, progress=False)
    table = bli_table(f, f, train, test, norm_iters=3, k=5, block=100, fasttext_en=tmp_path / "ft",
                      fasttext_xx=tmp_path / "ft", random_en=Features(tmp_path / "r"), random_xx=Features(tmp_path / "r"))
    assert list(table.model) == ["bert"] * 4 + ["random"] * 4 + ["fasttext"] * 2   # the random encoder's rows too
    table = table[table.model != "random"]   # an identity dictionary on one encoder: every model finds it
    assert list(table.vocabulary) == ["embedding"] + ["contextual"] * 3 + ["embedding", "contextual"]
    assert (table.p_at_1 > 0.95).all()
    assert (table.test_coverage > 0.3).all() and (table.test_coverage < 1).any()
