"""Masking statistics and the stream sampler, on token ids of real Bible verses."""
import math

import numpy as np
import pytest
import torch
from helpers import bible_verses, make_vocab

from xstruct.mlm import MaskConfig, StreamSampler, global_to_local, mask_tokens, sampling_probs, unigram_log_probs
from xstruct.model import MASK_ID, N_SPECIALS


@pytest.fixture(scope="module")
def vocab(tmp_path_factory):
    root = tmp_path_factory.mktemp("vocab")
    return make_vocab(root, "union", {"en": bible_verses("en", 600), "fr": bible_verses("fr", 150)})


def arrays(vocab, lang):
    return [np.load(vocab / "ids" / f"{lang}.{p}.npy", mmap_mode="r") for p in ("a", "b")]


def test_masking_statistics(vocab):
    ids = np.concatenate(arrays(vocab, "en"))
    batch = torch.from_numpy(ids[: 64 * 128].astype(np.int64)).view(64, 128)
    pool = torch.arange(N_SPECIALS, 300)
    inputs, positions, targets = mask_tokens(batch, MaskConfig(0.15, (0.8, 0.1, 0.1)), pool,
                                             torch.Generator().manual_seed(0))
    n = positions.numel()
    assert n == round(0.15 * batch.numel())
    assert torch.equal(targets, batch.view(-1)[positions]) and bool((targets >= N_SPECIALS).all())
    assert torch.equal(positions, positions.sort().values)
    # positions not predicted are untouched; specials ([SEP] ends every verse) are never predicted
    untouched = torch.ones(batch.numel(), dtype=torch.bool)
    untouched[positions] = False
    assert torch.equal(inputs.view(-1)[untouched], batch.view(-1)[untouched])
    assert int((batch == 3).sum()) > 100
    new = inputs.view(-1)[positions]
    masked, changed = new == MASK_ID, (new != MASK_ID) & (new != targets)
    kept = new == targets
    sd = math.sqrt(n * 0.1 * 0.9)
    assert abs(int(masked.sum()) - 0.8 * n) < 4 * math.sqrt(n * 0.8 * 0.2)
    assert abs(int(changed.sum()) - 0.1 * n) < 4 * sd
    assert abs(int(kept.sum()) - 0.1 * n) < 4 * sd + 0.1 * n * 5 / len(pool)
    assert bool(((new[changed] >= N_SPECIALS) & (new[changed] < 300)).all())


def test_mask_is_reproducible_from_the_generator_state(vocab):
    batch = torch.from_numpy(np.asarray(arrays(vocab, "fr")[0][:2048], dtype=np.int64)).view(16, 128)
    gen = torch.Generator().manual_seed(3)
    state = gen.get_state()
    a = mask_tokens(batch, MaskConfig(), torch.arange(5, 100), gen)
    gen.set_state(state)
    b = mask_tokens(batch, MaskConfig(), torch.arange(5, 100), gen)
    assert all(torch.equal(x, y) for x, y in zip(a, b))


def test_languages_are_sampled_by_smoothed_sentence_share(vocab):
    lines = {"en": 540, "fr": 135}
    probs = sampling_probs(lines, 0.7)
    assert probs["en"] / probs["fr"] == pytest.approx((540 / 135) ** 0.7)
    data = {l: arrays(vocab, l) for l in ("en", "fr")}
    s = StreamSampler(data, probs, seq_len=32, batch_size=4, seed=1, lang_seed=1)
    draws = [s.next()[0] for _ in range(3000)]
    share = draws.count("en") / len(draws)
    assert abs(share - probs["en"]) < 4 * math.sqrt(probs["en"] * (1 - probs["en"]) / len(draws))


def test_streams_are_contiguous_unpadded_windows_visiting_every_window_once_per_epoch(vocab):
    data = {"fr": arrays(vocab, "fr")}
    s = StreamSampler(data, {"fr": 1.0}, seq_len=32, batch_size=4, seed=1, lang_seed=1)
    n_windows = sum(len(a) // 32 for a in data["fr"])
    seen = []
    while s.pos["fr"]["epoch"] == 0:
        _, windows = s.next()
        if s.pos["fr"]["epoch"] == 0:
            seen += [tuple(w) for w in windows]
    assert all(len(t) == 32 for t in seen)
    assert len(seen) == len(set(seen)) >= n_windows - 4   # no window twice; the last partial batch waits
    first = np.asarray(data["fr"][0][:32])
    assert not (first == 0).any()                          # no [PAD] anywhere: streams are cut, not padded


def test_sampler_resumes_exactly_from_its_state(vocab):
    data = {l: arrays(vocab, l) for l in ("en", "fr")}
    probs = {"en": 0.6, "fr": 0.4}
    a = StreamSampler(data, probs, seq_len=16, batch_size=8, seed=5, lang_seed=5)
    for _ in range(37):
        a.next()
    state = a.state_dict()
    ref = [a.next() for _ in range(60)]
    b = StreamSampler(data, probs, seq_len=16, batch_size=8, seed=5, lang_seed=5)
    b.load_state_dict(state)
    got = [b.next() for _ in range(60)]
    assert [l for l, _ in ref] == [l for l, _ in got]
    assert all(np.array_equal(x, y) for (_, wx), (_, wy) in zip(ref, got) for x, y in zip(wx, wy))


def test_global_to_local_inverts_the_vocab_map(vocab):
    m = np.load(vocab / "ids" / "fr.map.npy")
    inv = global_to_local(m, int(m.max()) + 1)
    assert np.array_equal(inv[m], np.arange(len(m)))
    assert (inv >= 0).sum() == len(m)


def test_unigram_log_probs_are_add_one_smoothed_frequencies():
    logp = unigram_log_probs([np.array([5, 5, 5, 6], dtype=np.uint16), np.array([5, 7])], size=10)
    assert logp.shape == (10,)
    assert torch.exp(logp).sum().item() == pytest.approx(1.0)
    # counts + 1 over 6 tokens + 10 ids: id 5 seen four times, id 9 never
    assert torch.exp(logp[5]).item() == pytest.approx(5 / 16) and torch.exp(logp[9]).item() == pytest.approx(1 / 16)
