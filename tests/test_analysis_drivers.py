"""Analysis drivers on tiny real-text models: CKA table and correlation, word alignment maps, aligned encoder."""
import numpy as np
import pandas as pd
import pytest
import torch
from helpers import tiny_model, verses

from xstruct.analysis.extract import Features, extract
from xstruct.analysis.cka_layers import cka_table, correlation_table
from xstruct.analysis.wordalign import alignment_table, load_maps, save_maps


@pytest.fixture(scope="module")
def feats(tmp_path_factory):
    root = tmp_path_factory.mktemp("drivers")
    train = [t for _, t in verses("k", "en", (1, 1), 500)]
    held = [t for _, t in verses("k", "en", (43, 43), 120)]
    model = tiny_model(root / "m", train)
    extract(model, held, root / "trained", word_sentences=120, progress=False)
    extract(model, held, root / "random", init="random", seed=1, word_sentences=120, progress=False)
    return Features(root / "trained"), Features(root / "random")


def test_cka_table_self_similarity_and_random_lower(feats):
    trained, random = feats
    table = cka_table({"same": (trained, trained), "random": (trained, random)}, n_sentences=100, seed=1,
                      debiased=False)
    same = table[table.setting == "same"]
    assert list(same.layer) == [0, 1, 2, "avg"]
    assert np.allclose(same.cka, 1.0)
    rnd = table[(table.setting == "random") & (table.layer != "avg")]
    assert (rnd.cka < 0.999).all()
    avg = table[(table.setting == "random") & (table.layer == "avg")].cka.item()
    assert avg == pytest.approx(rnd.cka.mean())


def test_correlation_table():
    layers = range(5)
    cka = pd.DataFrame({"setting": "mono", "layer": [*layers, "avg"], "cka": [0.9, 0.8, 0.7, 0.6, 0.5, 0.7]})
    ret = pd.DataFrame([{"layer": l, "mapped": m, "p_at_1": (0.5 - 0.1 * l) if m else 0.01 * l}
                        for l in layers for m in (False, True)])
    out = correlation_table({"en-fr": cka}, {"en-fr": ret}, setting="mono", mapped=True)
    assert out.pearson_r.item() == pytest.approx(1.0)
    out = correlation_table({"en-fr": cka}, {"en-fr": ret}, setting="mono", mapped=False)
    assert out.pearson_r.item() == pytest.approx(-1.0)


def test_alignment_maps_on_identity_links_and_aligned_encoder(feats, tmp_path):
    trained, random = feats
    offsets = trained.word_offsets()
    links = [{(i, i) for i in range(offsets[s + 1] - offsets[s])} for s in range(100)]
    table, maps = alignment_table(random, trained, links, test_fraction=0.2, seed=1, norm_iters=3, block=64)
    assert list(table.layer) == [0, 1, 2] and (table.train_links > 1000).all()
    # the random encoder's words are mapped onto the trained model's far better than without a map
    assert (table.p_at_1 > table.p_at_1_unmapped).all()
    save_maps(tmp_path / "maps.pt", maps)
    back = load_maps(tmp_path / "maps.pt")
    assert torch.equal(back[1].W, maps[1].W)

    from transformers import AutoModel, AutoTokenizer

    from xstruct.analysis.layer_transfer import AlignedEncoder, transformer_top
    model_dir = trained.manifest["model"]
    tok = AutoTokenizer.from_pretrained(model_dir)
    top = transformer_top(32, layers=1, heads=2, ffn=64, dropout=0.0)
    enc = AlignedEncoder(AutoModel.from_pretrained(model_dir, add_pooling_layer=False), 1, top, back[1])
    batch = tok(["In the beginning was the Word", "and the Word was with God"], padding=True, return_tensors="pt")
    h = enc(batch["input_ids"], batch["attention_mask"]).last_hidden_state
    assert h.shape == (2, batch["input_ids"].shape[1], 32)
    assert [n for n, p in enc.named_parameters() if p.requires_grad] and \
        all(n.startswith("top.") for n, p in enc.named_parameters() if p.requires_grad)
