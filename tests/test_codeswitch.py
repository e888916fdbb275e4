"""Dictionary code-switching (Extra anchors) on real Bible streams with the MUSE en-fr sample as dictionary."""
import re

import numpy as np
import pytest
from helpers import bible_verses, make_vocab, muse_dictionary
from transformers import AutoTokenizer

from xstruct.codeswitch import CodeSwitcher
from xstruct.corpora.dictionaries import read_dictionary
from xstruct.mlm import StreamSampler

S = 64


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("cs")
    dictionary = muse_dictionary(root / "en-fr.all.txt")
    vocab = make_vocab(root, "joint", {"en": bible_verses("en", 400), "fr": bible_verses("fr", 400)}, size=600)
    toks = {l: AutoTokenizer.from_pretrained(vocab / "hf" / l) for l in ("en", "fr")}
    maps = {l: np.load(vocab / "ids" / f"{l}.map.npy") for l in ("en", "fr")}
    data = {l: [np.load(vocab / "ids" / f"{l}.a.npy", mmap_mode="r")] for l in ("en", "fr")}
    return dictionary, toks, maps, data


def switcher(setup, prob, max_rate, seed=0):
    dictionary, toks, maps, _ = setup
    return CodeSwitcher.from_files(dictionary, toks, maps, len(maps["en"]), prob, max_rate, S, seed)


def batches(setup, lang, n=6):
    data = setup[3]
    s = StreamSampler({lang: data[lang]}, {lang: 1.0}, S, 16, seed=1, lang_seed=1, window=2 * S)
    return [s.next()[1] for _ in range(n)]


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_never_more_than_the_cap_of_words_switched(setup, lang):
    cs = switcher(setup, prob=1.0, max_rate=0.15)        # every dictionary word wants to switch
    for windows in batches(setup, lang):
        out, words, switched = cs(lang, windows)
        assert out.shape == (16, S)
        assert 0 < switched <= 0.15 * words
        for w in windows:
            o, nw, ns = cs.switch(lang, w)
            assert len(o) == S and ns <= 0.15 * nw


def test_uncapped_rate_follows_the_probability(setup):
    lang = "en"
    all_on = switcher(setup, prob=1.0, max_rate=1.0)
    some = switcher(setup, prob=0.3, max_rate=1.0)
    wins = batches(setup, lang, n=10)
    full = sum(all_on(lang, w)[2] for w in wins)
    part = sum(some(lang, w)[2] for w in wins)
    assert full > 100
    assert 0.3 * full * 0.8 < part < 0.3 * full * 1.2


@pytest.mark.parametrize("src,dst", [("en", "fr"), ("fr", "en")])
def test_switched_words_are_dictionary_translations(setup, src, dst):
    dictionary, toks, maps, _ = setup
    pairs = read_dictionary(dictionary)
    targets = {b for _, b in pairs} if dst == "fr" else {a for a, _ in pairs}
    cs = switcher(setup, prob=1.0, max_rate=0.15)
    windows = batches(setup, src, n=1)[0]
    to_local = {g: i for i, g in enumerate(maps[src])}

    def words(rows):   # the last word of a row may be cut by the stream end
        return {w.lower() for r in rows for w in re.findall(r"\w+", toks[src].decode([to_local[g] for g in r]))[:-1]}
    new = words(cs(src, windows)[0]) - words(windows)
    assert new and len(new & {t.lower() for t in targets}) >= 0.9 * len(new)


def test_resumes_from_its_generator_state(setup):
    cs = switcher(setup, prob=0.3, max_rate=0.15, seed=4)
    wins = batches(setup, "en", n=4)
    cs("en", wins[0])
    state = cs.state_dict()
    a = [cs("en", w)[0] for w in wins[1:]]
    cs.load_state_dict(state)
    b = [cs("en", w)[0] for w in wins[1:]]
    assert all(np.array_equal(x, y) for x, y in zip(a, b))


def test_bad_dictionary_line_is_reported_with_its_place(tmp_path):
    bad = tmp_path / "en-fr.all.txt"
    bad.write_text("house\tmaison\nno tab here\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"en-fr.all.txt:2: expected 'source<TAB>target' or 'source target'"):
        read_dictionary(bad)
