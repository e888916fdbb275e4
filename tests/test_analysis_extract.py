"""Cached extraction of sentence / word / type vectors from tiny BERT folders built on real Bible verses."""
import numpy as np
import pytest
import torch
from helpers import tiny_model, verses

from xstruct.analysis import extract as ex
from xstruct.analysis.extract import Features, extract, single_piece_words
from xstruct.corpora.dictionaries import dictionary_form


@pytest.fixture(scope="module")
def en_model(tmp_path_factory):
    train = [t for _, t in verses("k", "en", (1, 1), 600)]
    return tiny_model(tmp_path_factory.mktemp("en"), train)


@pytest.fixture(scope="module")
def heldout_en():
    return [t for _, t in verses("k", "en", (43, 43), 40)]


def test_sentence_and_word_vectors_match_a_direct_forward_pass(en_model, heldout_en, tmp_path):
    m = extract(en_model, heldout_en, tmp_path / "f", batch_size=7, word_sentences=10,
                types={"min_count": 2, "max_vocab": 50}, embeddings=True, progress=False)
    f = Features(tmp_path / "f")
    assert (f.n, f.n_layers, f.dim) == (40, 3, 32) and m["tokens"] > 40
    tok, model = ex.load_view(en_model)
    i = 5
    words = heldout_en[i].split()
    enc = tok(words, is_split_into_words=True, return_tensors="pt")
    with torch.no_grad():
        hs = model(**enc, output_hidden_states=True).hidden_states
    wid = enc.word_ids(0)
    pieces = [p for p, w in enumerate(wid) if w is not None]
    assert len(pieces) == len(wid) - 2           # [CLS] and [SEP] are left out
    for layer in range(3):
        expect = hs[layer][0, pieces].mean(0)
        assert torch.allclose(f.sentences(layer)[i], expect, atol=1e-5)
        # a multi-piece word is the mean of its pieces
        j = next(j for j in range(len(words)) if wid.count(j) > 1)
        rows = f.word_offsets()
        got = f.words(layer, [rows[i] + j])[0]
        assert torch.allclose(got, hs[layer][0, [p for p, w in enumerate(wid) if w == j]].mean(0), atol=2e-2)
    assert f.word_offsets()[-1] == sum(len(t.split()) for t in heldout_en[:10])
    types, counts = f.types()
    assert types[0] in ("the", "and", "of") and counts[0] >= counts[-1] >= 2
    # a type is a dictionary word: "And" and "and," are occurrences of "and"
    tokens = [w for t in heldout_en for w in t.split()]
    assert counts[types.index("and")] == sum(dictionary_form(w) == "and" for w in tokens) > tokens.count("and")
    emb_words, emb = f.embeddings()
    assert "the" in emb_words and emb.shape == (len(emb_words), 32)
    assert all(dictionary_form(w) == w for w in types + emb_words) and len(set(emb_words)) == len(emb_words)
    pieces = dict(single_piece_words(tok))                       # each row is a piece that spells the word
    assert all(any(dictionary_form(p) == w for p in pieces) for w in emb_words)


def test_extraction_cache_is_reused_and_analyses_never_encode(en_model, heldout_en, tmp_path, monkeypatch):
    first = extract(en_model, heldout_en, tmp_path / "f", batch_size=16, progress=False)

    def boom(*args, **kwargs):
        raise AssertionError("encoded again")

    monkeypatch.setattr(ex, "_encode_batch", boom)
    monkeypatch.setattr(ex, "load_view", boom)
    assert extract(en_model, heldout_en, tmp_path / "f", batch_size=16, progress=False) == first
    # an analysis run after extraction reads the arrays only
    from xstruct.analysis.sentence_retrieval import retrieval_table
    table = retrieval_table(Features(tmp_path / "f"), Features(tmp_path / "f"), n_train=20, n_eval=20, seed=1,
                            norm_iters=3, block=8)
    assert (table.loc[~table.mapped, "p_at_1"] == 1.0).all()      # each sentence finds itself
    # a different text set is a different cache entry, so it must encode (and here hits the patched encoder)
    with pytest.raises(AssertionError, match="encoded again"):
        extract(en_model, heldout_en[:10], tmp_path / "f", progress=False)


def test_random_view_is_deterministic_and_differs_from_trained(en_model, heldout_en, tmp_path):
    a = extract(en_model, heldout_en[:8], tmp_path / "a", init="random", seed=3, progress=False)
    extract(en_model, heldout_en[:8], tmp_path / "b", init="random", seed=3, progress=False)
    extract(en_model, heldout_en[:8], tmp_path / "t", progress=False)
    fa, fb, ft = Features(tmp_path / "a"), Features(tmp_path / "b"), Features(tmp_path / "t")
    assert np.array_equal(fa.sentences(2).numpy(), fb.sentences(2).numpy())
    assert not torch.allclose(fa.sentences(2), ft.sentences(2))
    assert a["key"]["options"]["init"] == "random"


def test_single_piece_words_and_empty_sentence_error(en_model, tmp_path):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(en_model)
    words = dict(single_piece_words(tok))
    assert "God" in words and "the" in words
    assert all(len(tok(w, add_special_tokens=False)["input_ids"]) == 1 for w in words)
    with pytest.raises(ValueError, match="sentence 1 is empty"):
        extract(en_model, ["In the beginning", "  "], tmp_path / "x", progress=False)
