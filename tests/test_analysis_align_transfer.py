"""Zero-shot transfer through contextual alignment (Figs. 5/8) on tiny random BERT folders built on real Bible
verses. The fixture task tags capitalised words that do not start a verse (names: God, Jesus, Israel, Dieu ...),
an NER-like word task that a frozen random encoder plus one trained layer learns in a few hundred steps."""
import copy

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import ROOT, load_config
from safetensors.torch import load_file
from helpers import tiny_model, verses
from transformers import AutoModel, AutoTokenizer

from xstruct.analysis import layer_transfer
from xstruct.analysis.align import fit_map
from xstruct.analysis.analysis_jobs import AnalysisPlan
from xstruct.analysis.layer_transfer import (
    AlignedEncoder,
    Recipe,
    Setting,
    run_alignment_transfer,
    train_top,
    transfer_sweep,
    transformer_top,
)
from xstruct.analysis.wordalign import save_maps
from xstruct.finetune import label_set
from xstruct.study import ConfigError, Study
from xstruct.tasks.encoding import Pieces, encode
from xstruct.tasks.examples import example_path, read_examples, write_examples
from xstruct.tasks.transfer_jobs import task_spec

LAYERS = 2
RECIPE = Recipe(top_layers=1, dropout=0.0, epochs=3, lr=1e-2, batch_size=8)


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    return {lang: tiny_model(root / lang, [t for _, t in verses(v, lang, (1, 2), 800)], layers=LAYERS, seed=seed)
            for seed, (lang, v) in enumerate((("en", "k"), ("fr", "l")))}


def names(version: str, lang: str, book: int, n: int) -> list[dict]:
    out = []
    for key, text in verses(version, lang, (book, book), n):
        words = text.split()
        out.append({"id": key, "words": words,
                    "tags": ["B-NAME" if i and w[:1].isupper() else "O" for i, w in enumerate(words)]})
    return out


@pytest.fixture(scope="module")
def task(tmp_path_factory):
    """A prepared task folder in the workflow's format: English train (John) / dev (Acts), French test (Romans)."""
    root = tmp_path_factory.mktemp("names")
    for (lang, split), examples in {("en", "train"): names("k", "en", 43, 200), ("en", "dev"): names("k", "en", 44, 60),
                                    ("fr", "test"): names("l", "fr", 45, 60)}.items():
        write_examples(example_path(root, lang, split), examples)
    return root


@pytest.fixture(scope="module")
def spec():
    """The config's fine-tuning settings of a word-tagging task, with a constant learning rate for a quick fit."""
    return {**task_spec(load_config()["transfer"], "punct"), "schedule": "constant", "warmup": 0.0}


def examples(folder, lang, split):
    return read_examples(example_path(folder, lang, split), "tag")


def test_frozen_prefix_stays_bit_identical_while_the_top_learns(models, task, spec, monkeypatch):
    train, dev = examples(task, "en", "train"), examples(task, "en", "dev")
    labels = label_set("tag", train)
    pieces = Pieces(AutoTokenizer.from_pretrained(models["en"]))
    enc = {k: encode(v, "tag", pieces, labels, spec["max_length"]) for k, v in (("train", train), ("dev", dev))}
    fresh = {}

    def recorded_top(*args):
        top = transformer_top(*args)
        fresh.update(copy.deepcopy(top.state_dict()))
        return top

    monkeypatch.setattr(layer_transfer, "transformer_top", recorded_top)
    tuned, record = train_top("tag", spec, RECIPE, models["en"], 1, labels, enc["train"], enc["dev"], dev, 0,
                              seed=1, device=torch.device("cpu"))
    saved = {n.removeprefix("bert."): v for n, v in load_file(models["en"] / "model.safetensors").items()}
    base = dict(tuned.encoder.base.named_parameters())
    assert base and all(torch.equal(p, saved[n]) for n, p in base.items())
    assert len(tuned.encoder.base.encoder.layer) == 1 and not any(n.startswith("encoder.layer.1.") for n in base)
    top = tuned.encoder.top.state_dict()
    moved = [n for n, v in fresh.items() if not torch.equal(v, top[n])]
    assert "layers.0.self_attn.in_proj_weight" in moved and "layers.0.linear2.weight" in moved
    assert 1 <= record["best_epoch"] <= RECIPE.epochs and record["dev"]["f1"] > 0.2


def test_identity_map_on_the_same_model_reproduces_english_dev(models, task, spec):
    """Target = the English model reading the English dev set: the test path (encode, map, top) must give the
    English dev score exactly, with no map and with an identity map."""
    class Identity:
        def to_target(self, x):
            return x

    train, dev = examples(task, "en", "train"), examples(task, "en", "dev")
    en = models["en"]
    settings = [Setting("bi", en, en), Setting("bi+align", en, en, [Identity()] * (LAYERS + 1))]
    table = transfer_sweep("tag", spec, train, dev, dev, settings, RECIPE, seed=1, device=torch.device("cpu"),
                           layers=[0, 2])
    assert list(zip(table.setting, table.layer)) == [("bi", 0), ("bi", 2), ("bi+align", 0), ("bi+align", 2)]
    assert (table.test == table.dev).all(), table
    assert (table.dev > 0.2).all(), table  # names were learnt: the equality is not 0 == 0


def test_same_seed_same_table(models, task, spec):
    train, dev, test = examples(task, "en", "train"), examples(task, "en", "dev"), examples(task, "fr", "test")
    setting = [Setting("bi", models["en"], models["fr"])]
    first, second = (transfer_sweep("tag", spec, train, dev, test, setting, RECIPE, seed=1, device=torch.device("cpu"),
                                    layers=[1]) for _ in range(2))
    pd.testing.assert_frame_equal(first, second)


def test_aligned_encoder_is_prefix_then_map_then_top(models):
    """The forward pass is exactly: hidden state i of the full model -> the layer-i map -> the top layers."""
    tok = AutoTokenizer.from_pretrained(models["fr"])
    batch = tok(["Au commencement était la Parole", "et la Parole était avec Dieu , et la Parole était Dieu"],
                padding=True, return_tensors="pt")
    full = AutoModel.from_pretrained(models["fr"], add_pooling_layer=False).eval()
    with torch.no_grad():
        states = full(**batch, output_hidden_states=True).hidden_states
    g = torch.Generator().manual_seed(0)
    m = fit_map(torch.randn(300, 32, generator=g), torch.randn(300, 32, generator=g), 3)
    torch.manual_seed(0)
    top = transformer_top(32, 1, 2, 64, 0.0).eval()
    for layer in range(LAYERS + 1):
        enc = AlignedEncoder(AutoModel.from_pretrained(models["fr"], add_pooling_layer=False), layer, top, m)
        got = enc(batch["input_ids"], batch["attention_mask"]).last_hidden_state
        mapped = m.to_target(states[layer].reshape(-1, 32)).reshape(states[layer].shape)
        want = top(mapped, src_key_padding_mask=batch["attention_mask"] == 0)
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)
        assert not torch.allclose(mapped, states[layer], atol=1e-3)  # the map does change the vectors


def test_table_has_one_row_per_setting_and_layer(models, task, spec, tmp_path):
    g = torch.Generator().manual_seed(0)
    maps = [fit_map(torch.randn(200, 32, generator=g), torch.randn(200, 32, generator=g), 3) for _ in range(LAYERS + 1)]
    save_maps(tmp_path / "maps.pt", maps)
    views = {"mono": {"source": str(models["en"]), "target": str(models["fr"]), "maps": str(tmp_path / "maps.pt")},
             "bi": {"source": str(models["en"]), "target": str(models["fr"]), "maps": None}}
    out = tmp_path / "out" / "en-fr.punct.csv"
    table = run_alignment_transfer("punct", spec, task, "fr", views, out, recipe=RECIPE,
                                   max_examples={"train": 60, "dev": 20, "test": 30}, seed=1, device="cpu")
    back = pd.read_csv(out)
    assert list(back.columns) == ["setting", "layer", "dev", "test", "metric"]
    assert list(zip(back.setting, back.layer)) == [(s, i) for s in ("mono", "bi") for i in range(LAYERS + 1)]
    assert (back.metric == "f1").all() and back[["dev", "test"]].stack().between(0, 1).all()
    np.testing.assert_allclose(back.dev.to_numpy(), table.dev.to_numpy(), rtol=1e-5)
    # mono and bi read the same English model here: same tops, so the same dev score per layer
    assert (back[back.setting == "mono"].dev.to_numpy() == back[back.setting == "bi"].dev.to_numpy()).all()
    with pytest.raises(ValueError, match="xref.*pair task"):
        run_alignment_transfer("xref", {"format": "xref"}, task, "fr", views, tmp_path / "x.csv", recipe=RECIPE,
                               max_examples={}, seed=1)


# ------------------------------------------------------------------------------------------------- planning

@pytest.fixture
def config():
    cfg = load_config()
    cfg["analysis"]["alignment"]["transfer"] = {"tasks": ["punct"], "top_layers": 1, "dropout": 0.1, "epochs": 3,
                                                "lr": 1.0e-3, "batch_size": 32,
                                                "max_examples": {"train": 800, "dev": 200, "test": 500}}
    return cfg


def test_plan_targets_and_views(config):
    plan = AnalysisPlan(Study(config, root=ROOT), config)
    pairs = config["analysis"]["alignment"]["pairs"]
    assert [t for t in plan.targets() if "alignment_transfer" in t] == \
        [f"results/analysis/alignment_transfer/en-{xx}.punct.csv" for xx in pairs]
    views = plan.transfer_views("ru")
    assert list(views) == ["mono", "bi", "bi+align"]
    assert views["mono"] == {"source": plan.mono("en").model_dir, "target": plan.mono("ru").model_dir,
                             "maps": "results/analysis/alignment/en-ru/mono.maps.pt"}
    en, ru = plan.bilingual("ru")
    assert views["bi"] == {"source": en.model_dir, "target": ru.model_dir, "maps": None}
    assert views["bi+align"]["maps"] == "results/analysis/alignment/en-ru/bi.maps.pt"
    no_block = copy.deepcopy(config)
    del no_block["analysis"]["alignment"]["transfer"]
    assert not [t for t in AnalysisPlan(Study(no_block, root=ROOT), no_block).targets() if "alignment_transfer" in t]


@pytest.mark.parametrize("task, message", [("xref", "pair task"), ("parsing", "not a task that runs"),
                                           ("nope", "not a task that runs")])
def test_plan_rejects_tasks_that_cannot_transfer(config, task, message):
    config["analysis"]["alignment"]["transfer"]["tasks"] = [task]
    with pytest.raises(ConfigError, match=message):
        AnalysisPlan(Study(config, root=ROOT), config)
