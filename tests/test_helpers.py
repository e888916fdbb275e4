"""The shared fixture (tests/helpers.py) honours the vocabulary contract the pipeline's later stages read: special
ids, local/global maps, [SEP]-terminated id arrays, anchors shared between languages."""
import json

import numpy as np
import pytest
from helpers import bible_verses, make_vocab
from transformers import AutoTokenizer

from xstruct.vocab import SPECIALS


@pytest.fixture(scope="module")
def union_vocab(tmp_path_factory):
    root = tmp_path_factory.mktemp("vocab")
    return make_vocab(root, "union", {"en": bible_verses("en", 300), "fr": bible_verses("fr", 300)})


def test_fixture_follows_the_vocab_contract(union_vocab):
    meta = json.loads((union_vocab / "meta.json").read_text())
    for lang in ("en", "fr"):
        tok = AutoTokenizer.from_pretrained(union_vocab / "hf" / lang)
        assert tok.convert_tokens_to_ids(list(SPECIALS)) == [0, 1, 2, 3, 4]
        enc = tok("In the beginning")["input_ids"]
        assert enc[0] == 2 and enc[-1] == 3
        m = np.load(union_vocab / "ids" / f"{lang}.map.npy")
        assert len(m) == meta["sizes"][lang] and list(m[:5]) == [0, 1, 2, 3, 4] and m.max() < meta["global_size"]
        ids = np.load(union_vocab / "ids" / f"{lang}.a.npy", mmap_mode="r")
        info = json.loads((union_vocab / "ids" / f"{lang}.a.json").read_text())
        assert len(ids) == info["tokens"] and int((ids == 3).sum()) == info["lines"] and ids[-1] == 3
    en, fr = (set(np.load(union_vocab / "ids" / f"{l}.map.npy")) for l in ("en", "fr"))
    assert 5 < len(en & fr) < len(en)   # identical pieces are shared anchors, most are not
