"""Each exported language view is a plain BertForMaskedLM with the training model's logits at its local vocabulary."""
import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from helpers import bible_verses, make_vocab
from transformers import AutoModelForMaskedLM, AutoTokenizer

from xstruct.export import export_run
from xstruct.model import SHARED, MaskedLM, ModelConfig, Sharing

CFG = ModelConfig(layers=4, hidden=32, heads=4, max_positions=64)
RUN = {"id": "t.en-fr.s1", "condition": {"name": "t"}}


@pytest.fixture(scope="module")
def vocab(tmp_path_factory):
    root = tmp_path_factory.mktemp("vocab")
    return make_vocab(root, "union", {"en": bible_verses("en", 300), "fr": bible_verses("fr", 300)}, size=300)


def trained_like(sharing: Sharing) -> MaskedLM:
    """A model with every parameter perturbed (biases and LayerNorms too), as after training."""
    torch.manual_seed(0)
    model = MaskedLM(CFG, sharing)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return model.eval()


@pytest.mark.parametrize("separate_embeddings,layers", [(False, ()), (True, (1, 2))])
def test_views_load_with_plain_transformers_and_match_the_training_model(vocab, tmp_path, separate_embeddings, layers):
    maps = {l: np.load(vocab / "ids" / f"{l}.map.npy") for l in ("en", "fr")}
    meta = json.loads((vocab / "meta.json").read_text())
    sizes = {l: len(m) for l, m in maps.items()} if separate_embeddings else {SHARED: meta["global_size"]}
    model = trained_like(Sharing(("en", "fr"), separate_embeddings, layers, sizes))
    export_run(model, maps, vocab, tmp_path, RUN, {"best_step": 7})
    texts = {"en": bible_verses("en", 3, first_book=43), "fr": bible_verses("fr", 3, first_book=43)}
    for lang in ("en", "fr"):
        tok = AutoTokenizer.from_pretrained(tmp_path / lang)
        hf = AutoModelForMaskedLM.from_pretrained(tmp_path / lang).eval()
        assert type(hf).__name__ == "BertForMaskedLM" and hf.config.vocab_size == len(maps[lang])
        local = torch.tensor(tok(texts[lang][0])["input_ids"])[None]        # [CLS] ... [SEP], local ids
        ours_ids = local if separate_embeddings else torch.from_numpy(maps[lang])[local]
        with torch.no_grad():
            ours = model(ours_ids, lang)
            if not separate_embeddings:
                ours = ours[..., torch.from_numpy(maps[lang])]           # the language's local vocabulary
            theirs = hf(input_ids=local).logits
        assert theirs.shape == ours.shape
        assert torch.allclose(theirs, ours, atol=1e-4), (theirs - ours).abs().max()


def test_sharing_json_names_exactly_the_parameters_that_differ_between_views(vocab, tmp_path):
    maps = {l: np.load(vocab / "ids" / f"{l}.map.npy") for l in ("en", "fr")}
    model = trained_like(Sharing(("en", "fr"), True, (1,), {l: len(m) for l, m in maps.items()}))
    export_run(model, maps, vocab, tmp_path, RUN, {"best_step": 7})
    sharing = json.loads((tmp_path / "sharing.json").read_text())
    assert sharing["languages"] == ["en", "fr"] and sharing["condition"] == RUN["condition"]
    en, fr = (load_file(tmp_path / l / "model.safetensors") for l in ("en", "fr"))
    separate = set(sharing["separate"])
    assert "bert.embeddings.word_embeddings.weight" in separate
    assert any(n.startswith("bert.encoder.layer.0.") for n in separate)
    assert not any(n.startswith(("bert.encoder.layer.1.", "cls.predictions.transform")) for n in separate)
    for name in en:
        same = en[name].shape == fr[name].shape and torch.equal(en[name], fr[name])
        assert same != (name in separate), name


def test_shared_embedding_views_keep_anchor_rows_identical(vocab, tmp_path):
    maps = {l: np.load(vocab / "ids" / f"{l}.map.npy") for l in ("en", "fr")}
    meta = json.loads((vocab / "meta.json").read_text())
    model = trained_like(Sharing(("en", "fr"), False, (), {SHARED: meta["global_size"]}))
    export_run(model, maps, vocab, tmp_path, RUN, {"best_step": 7})
    assert json.loads((tmp_path / "sharing.json").read_text())["separate"] == []
    en, fr = (load_file(tmp_path / l / "model.safetensors")["bert.embeddings.word_embeddings.weight"]
              for l in ("en", "fr"))
    anchors = sorted(set(maps["en"]) & set(maps["fr"]))
    assert len(anchors) > 5
    en_row = {g: i for i, g in enumerate(maps["en"])}
    fr_row = {g: i for i, g in enumerate(maps["fr"])}
    assert torch.equal(en[[en_row[g] for g in anchors]], fr[[fr_row[g] for g in anchors]])


def test_pre_norm_model_refuses_to_export(vocab, tmp_path):
    maps = {l: np.load(vocab / "ids" / f"{l}.map.npy") for l in ("en", "fr")}
    cfg = ModelConfig(**{**CFG.__dict__, "norm": "pre"})
    model = MaskedLM(cfg, Sharing(("en", "fr"), True, (), {l: len(m) for l, m in maps.items()}))
    with pytest.raises(ValueError, match="only post-norm models export"):
        export_run(model, maps, vocab, tmp_path, RUN, {"best_step": 1})
    assert not (tmp_path / "en").exists()
