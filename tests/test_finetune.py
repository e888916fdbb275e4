"""The transfer protocol on tiny random BERT views with the pipeline's tokenizers on real Bible verses: frozen
language-specific parameters, the target-view swap, end-to-end runs on the WikiAnn / XNLI samples, and the
biaffine parser on UD English-EWT, whose LAS must equal the official CoNLL 2018 scorer's."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import bible_verses, make_vocab, verses
from safetensors.torch import load_file
from transformers import AutoTokenizer, BertConfig, BertForMaskedLM

from xstruct.finetune import (TrainData, baseline, finetune_transfer, label_set, load_tokenizer, predict, read_separate,
                              score, seed_everything, select_top_k, shared_rows, source_model, target_model,
                              train_setting)
from xstruct.tasks import ud
from xstruct.tasks.encoding import Pieces, encode
from xstruct.tasks.examples import example_path, read_examples
from xstruct.tasks.metrics import attachment_scores
from xstruct.tasks.mst import decode_tree
from xstruct.tasks.prepare import prepare_task

SEP_EMB_L1 = ["bert.embeddings.word_embeddings.weight", "bert.embeddings.position_embeddings.weight",
              "bert.embeddings.LayerNorm.weight", "bert.embeddings.LayerNorm.bias",
              "bert.encoder.layer.0.attention.self.query.weight", "bert.encoder.layer.0.output.dense.weight"]
TRAIN = {"epochs": 2, "batch_size": [16], "lr": [2e-3], "head_lr": None, "schedule": "linear", "warmup": 0.1,
         "weight_decay": 0.01, "max_grad_norm": 1.0, "max_length": 64, "eval_batch_size": 64, "bucket": 4,
         "seeds": [1], "head": {"dropout": 0.1, "arc_dim": 64, "rel_dim": 32}}


def make_run(root: Path, texts: dict[str, list[str]], separate: list[str], size=400, hidden=32, layers=2,
             sinusoid=False) -> dict[str, str]:
    """A pretrained-run folder in the contract format: one BertForMaskedLM + tokenizer per language view and
    sharing.json, on the pipeline's union vocabulary (identical pieces share a global id). Shared parameters are
    identical across views (shared embedding rows follow global ids), separate ones are drawn per language.
    Returns the id maps."""
    vocab = make_vocab(root.parent / f"{root.name}.vocab", "union", texts, size)
    toks = {l: AutoTokenizer.from_pretrained(vocab / "hf" / l) for l in texts}
    global_size = json.loads((vocab / "meta.json").read_text())["global_size"]
    cfg = dict(hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=2, intermediate_size=4 * hidden,
               max_position_embeddings=128, type_vocab_size=1, pad_token_id=0)
    torch.manual_seed(0)
    shared = BertForMaskedLM(BertConfig(vocab_size=global_size, **cfg)).state_dict()
    if sinusoid:  # a random encoder learns word order from 300 sentences far better with clear positions
        pos, i = torch.arange(128)[:, None], torch.arange(hidden // 2)[None]
        angle = pos / 10000 ** (2 * i / hidden)
        shared["bert.embeddings.position_embeddings.weight"] = torch.cat([angle.sin(), angle.cos()], 1)
    maps = {}
    (root / "ids").mkdir(parents=True)
    for seed, (lang, tok) in enumerate(toks.items(), start=1):
        torch.manual_seed(seed)
        model = BertForMaskedLM(BertConfig(vocab_size=len(tok), **cfg))
        local_to_global = np.load(vocab / "ids" / f"{lang}.map.npy")
        state = {}
        for name, own in model.state_dict().items():
            if name in separate:
                state[name] = own
            elif own.shape != shared[name].shape:  # vocabulary-sized: the view's rows of the global table
                state[name] = shared[name][torch.from_numpy(local_to_global)]
            else:
                state[name] = shared[name].clone()
        model.load_state_dict(state)
        model.save_pretrained(root / lang)
        tok.save_pretrained(root / lang)
        maps[lang] = str(root / "ids" / f"{lang}.map.npy")
        np.save(maps[lang], local_to_global)
    (root / "sharing.json").write_text(json.dumps({"separate": separate, "languages": list(texts)}))
    return maps


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def bible_texts():
    return {"en": bible_verses("en", 1500), "fr": bible_verses("fr", 1500)}


@pytest.fixture(scope="module")
def punct_data(tmp_path_factory, bible_texts):
    """A small punct task folder from Old Testament verses (en train/dev, fr test)."""
    root = tmp_path_factory.mktemp("punct")
    held = {lang: dict(kv for book in (8, 31, 32, 57) for kv in verses(v, lang, (book, book), 10**6))
            for lang, v in (("en", "k"), ("fr", "l"))}
    for lang, rows in held.items():          # held-out verse files share keys and order, as corpus_heldout writes
        (root / f"{lang}.tsv").write_text("".join(f"{k}\t{rows[k]}\n" for k in held["en"] if k in held["fr"]),
                                          "utf-8")
    prepare_task("punct", {"format": "punct", "dev_books": [31], "test_books": [32, 57]}, "en", ["fr"],
                 root / "task", heldout={l: str(root / f"{l}.tsv") for l in ("en", "fr")})
    return root / "task"


def _tune(run: Path, data: Path, kind="tag"):
    exs = {s: read_examples(example_path(data, "en", s), kind) for s in ("train", "dev")}
    labels = label_set(kind, exs["train"])
    pieces = Pieces(load_tokenizer(run / "en"))
    enc = {s: encode(e, kind, pieces, labels, TRAIN["max_length"]) for s, e in exs.items()}
    rng = seed_everything(1)
    model = source_model(kind, TRAIN, labels, run / "en", run / "sharing.json")
    config = {**TRAIN, "batch_size": 16, "lr": 5e-3, "head_lr": 5e-3}
    return train_setting(model, TrainData(kind, enc["train"], enc["dev"], exs["dev"], 0), config, rng,
                         torch.device("cpu"), "test")


def test_separate_parameters_stay_frozen_and_the_target_view_gets_the_tuned_shared_ones(
        tmp_path, bible_texts, punct_data):
    maps = make_run(tmp_path / "run", bible_texts, SEP_EMB_L1)
    run = tmp_path / "run"
    before = {n.removeprefix("bert."): v for n, v in load_file(run / "en" / "model.safetensors").items()}
    tuned, record = _tune(run, punct_data)
    assert record["best_epoch"] in (1, 2) and len(record["dev_by_epoch"]) == 2
    separate = read_separate(run / "sharing.json", tuned.encoder)
    assert separate == {n.removeprefix("bert.") for n in SEP_EMB_L1}
    for name, p in tuned.encoder.named_parameters():
        if name in separate:
            assert torch.equal(p, before[name]), f"{name} moved during fine-tuning"
    moved = [n for n, p in tuned.encoder.named_parameters() if n not in separate and not torch.equal(p, before[n])]
    assert {"encoder.layer.1.attention.self.query.weight", "encoder.layer.0.attention.self.key.weight"} <= set(moved)

    fr_before = {n.removeprefix("bert."): v for n, v in load_file(run / "fr" / "model.safetensors").items()}
    rows = shared_rows(np.load(maps["en"]), np.load(maps["fr"]))
    view = target_model(tuned, run / "fr", run / "sharing.json", rows, torch.device("cpu"))
    assert view.head is tuned.head
    tuned_params = dict(tuned.encoder.named_parameters())
    for name, p in view.encoder.named_parameters():
        expected = fr_before[name] if name in separate else tuned_params[name]
        assert torch.equal(p, expected), name
    assert not torch.equal(fr_before["encoder.layer.0.attention.self.query.weight"],
                           tuned_params["encoder.layer.0.attention.self.query.weight"])


def test_same_seed_same_numbers(tmp_path, bible_texts, punct_data):
    make_run(tmp_path / "run", bible_texts, SEP_EMB_L1)
    first, second = (_tune(tmp_path / "run", punct_data)[1] for _ in range(2))
    assert first == second


def test_shared_embedding_rows_follow_global_ids(tmp_path, bible_texts, punct_data):
    layer = ["bert.encoder.layer.0.output.dense.weight"]  # embeddings shared, one matrix separate
    maps = make_run(tmp_path / "run", bible_texts, layer)
    run = tmp_path / "run"
    fr_before = load_file(run / "fr" / "model.safetensors")["bert.embeddings.word_embeddings.weight"]
    tuned, _ = _tune(run, punct_data)
    rows = shared_rows(np.load(maps["en"]), np.load(maps["fr"]))
    assert 0 < (rows >= 0).sum() < len(rows)  # some pieces shared (anchors), some French-only
    view = target_model(tuned, run / "fr", run / "sharing.json", rows, torch.device("cpu"))
    got = view.encoder.embeddings.word_embeddings.weight
    tuned_emb = tuned.encoder.embeddings.word_embeddings.weight
    hit = np.nonzero(rows >= 0)[0]
    assert torch.equal(got[hit], tuned_emb[rows[hit]])
    miss = np.nonzero(rows < 0)[0]
    assert torch.equal(got[miss], fr_before[miss])
    en_vocab, fr_vocab = (load_tokenizer(run / l).get_vocab() for l in ("en", "fr"))
    piece = next(p for p in fr_vocab if p in en_vocab and fr_vocab[p] != en_vocab[p])  # same piece, other id
    assert torch.equal(got[fr_vocab[piece]], tuned_emb[en_vocab[piece]])


@pytest.mark.parametrize("task", ["wikiann", "xnli"])
def test_paper_task_samples_train_and_score(tmp_path, bible_texts, shared_data, task):
    maps = make_run(tmp_path / "run", bible_texts, [])
    if task == "wikiann":
        pattern = str(shared_data / "wikiann" / "train-{lang}.tsv")
        spec = {"format": "wikiann", "files": {"train": pattern, "dev": pattern, "test": pattern}}
    else:
        pattern = str(shared_data / "xnli" / "dev-{lang}.tsv")
        spec = {"format": "xnli", "files": {"train": pattern, "dev": pattern, "test": pattern}}
    prepare_task(task, spec, "en", ["fr"], tmp_path / "data")
    spec = {**spec, **TRAIN, "epochs": 8 if task == "xnli" else 3, "lr": [3e-3, 1e-3], "max_length": 48}
    out = finetune_transfer(task, spec, tmp_path / "data", tmp_path / "run", "fr", tmp_path / "out.json",
                            maps=maps, top_k=2, threads=1)
    assert json.loads((tmp_path / "out.json").read_text()) == json.loads(json.dumps(out))
    assert out["examples"] == {"train": 300, "dev": 300, "test": 300} and len(out["settings"]) == 2
    assert out["selected"] == [s["id"] for s in sorted(out["settings"], key=lambda s: -s["dev"])]
    assert out["test"] == pytest.approx(np.mean([s["test"] for s in out["settings"]]))
    best = max(s["dev"] for s in out["settings"])
    dev = read_examples(example_path(tmp_path / "data", "en", "dev"), "tag" if task == "wikiann" else "pair")
    if task == "wikiann":
        assert out["metric"] == "f1" and best > 0.05  # all-O scores 0
    else:
        majority = max(sum(e["label"] == l for e in dev) for l in ("entailment", "neutral", "contradiction"))
        assert out["metric"] == "accuracy" and best > majority / len(dev)
    assert 0 <= out["test"] <= 1


# ------------------------------------------------------------------------------------------------ parsing

def udeval_las(gold: Path, system: Path) -> float:
    from udtools.udeval import evaluate, load_conllu_file

    return evaluate(load_conllu_file(str(gold)), load_conllu_file(str(system)))["LAS"].f1


def test_our_las_equals_the_conll2018_scorer_on_random_trees(shared_data, tmp_path):
    rng = np.random.default_rng(0)
    for tb in ("UD_English-EWT/en_ewt", "UD_French-GSD/fr_gsd", "UD_Russian-GSD/ru_gsd",
               "UD_Chinese-GSDSimp/zh_gsdsimp"):
        gold = ud.read_treebank(str(shared_data / "ud"), tb, "dev")
        rels = sorted({r for t in gold for r in t["deprels"]})
        heads, deprels = [], []
        for t in gold:  # half the words keep their gold arc, half get a random one; subtypes vary
            n = len(t["words"])
            scores = rng.normal(size=(n + 1, n + 1))
            scores[np.arange(1, n + 1), t["heads"]] += rng.choice([0.0, 10.0], size=n)
            heads.append(decode_tree(scores))
            deprels.append([r if rng.random() < 0.6 else rels[rng.integers(len(rels))] for r in t["deprels"]])
        gold_path = shared_data / "ud" / f"{tb}-ud-dev.conllu"
        ud.write_predictions(gold_path, heads, deprels, tmp_path / "system.conllu")
        ours = attachment_scores([t["heads"] for t in gold], [t["deprels"] for t in gold], heads, deprels)
        assert 0.2 < ours["las"] < 0.9
        assert ours["las"] == pytest.approx(udeval_las(gold_path, tmp_path / "system.conllu"), abs=1e-12)


def test_biaffine_parser_learns_english_ewt(shared_data, tmp_path):
    source, tb = str(shared_data / "ud"), "UD_English-EWT/en_ewt"
    train = ud.read_treebank(source, tb, "train")
    make_run(tmp_path / "run", {"en": [" ".join(t["words"]) for t in train]}, [], size=3000, hidden=64, layers=1,
             sinusoid=True)
    prepare_task("ud", {"format": "ud", "source": source, "treebanks": {"en": tb}}, "en", [], tmp_path / "data")
    spec = {**TRAIN, "format": "ud", "epochs": 8, "max_length": 128, "max_grad_norm": 5.0, "weight_decay": 0.0,
            "head": {"dropout": 0.2, "arc_dim": 64, "rel_dim": 32}}
    exs = {s: read_examples(example_path(tmp_path / "data", "en", s), "parse") for s in ("train", "dev")}
    labels = label_set("parse", exs["train"])
    pieces = Pieces(load_tokenizer(tmp_path / "run" / "en"))
    enc = {s: encode(e, "parse", pieces, labels, spec["max_length"]) for s, e in exs.items()}
    rng = seed_everything(1)
    model = source_model("parse", spec, labels, tmp_path / "run" / "en", tmp_path / "run" / "sharing.json")
    config = {**spec, "batch_size": 16, "lr": 5e-3, "head_lr": 5e-3}
    tuned, record = train_setting(model, TrainData("parse", enc["train"], enc["dev"], exs["dev"], 0), config, rng,
                                  torch.device("cpu"), "parse")
    preds = predict(tuned, enc["dev"], 64, 0, torch.device("cpu"), "dev")
    ours = score("parse", exs["dev"], preds)
    assert ours == record["dev"]

    dev = exs["dev"]
    top = max(set(labels), key=lambda r: sum(r == d.split(":")[0] for t in exs["train"] for d in t["deprels"]))
    right = [[i + 2 if i + 1 < len(t["words"]) else 0 for i in range(len(t["words"]))] for t in dev]
    baseline = attachment_scores([t["heads"] for t in dev], [t["deprels"] for t in dev], right,
                                 [[top] * len(h) for h in right])
    assert ours["uas"] > baseline["uas"] + 0.08 and ours["las"] > 4 * baseline["las"], (ours, baseline)

    gold_path = shared_data / "ud" / f"{tb}-ud-dev.conllu"
    ud.write_predictions(gold_path, [h for h, _ in preds], [r for _, r in preds], tmp_path / "system.conllu")
    assert ours["las"] == pytest.approx(udeval_las(gold_path, tmp_path / "system.conllu"), abs=1e-12)


def _settings(devs_tests):
    return [{"id": f"s{i}", "dev": d, "test": t} for i, (d, t) in enumerate(devs_tests)]


def test_top_k_selects_the_best_dev_settings_of_a_larger_grid():
    grid = _settings([(0.50, 0.10), (0.70, 0.30), (0.60, 0.90), (0.80, 0.20), (0.40, 0.99)])   # N = 5 > k = 2
    assert [r["id"] for r in select_top_k(grid, 2)] == ["s3", "s1"]   # not the best test scores (s4, s2)
    assert [r["id"] for r in select_top_k(grid, 3)] == ["s3", "s1", "s2"]


def test_top_k_ties_keep_grid_order():
    grid = _settings([(0.5, 0.1), (0.7, 0.2), (0.7, 0.3), (0.7, 0.4), (0.2, 0.5)])   # three-way tie for first
    assert [r["id"] for r in select_top_k(grid, 2)] == ["s1", "s2"]
    assert [r["id"] for r in select_top_k(list(reversed(grid)), 2)] == ["s3", "s2"]   # order is the tie-break
    tie_at_cut = _settings([(0.9, 0.0), (0.6, 0.1), (0.6, 0.2), (0.6, 0.3)])
    assert [r["id"] for r in select_top_k(tie_at_cut, 2)] == ["s0", "s1"]


def test_top_k_without_selection_warns_and_bad_k_fails(capsys):
    grid = _settings([(0.5, 0.1), (0.7, 0.2)])
    assert len(select_top_k(grid, 2)) == 2 and "no selection" in capsys.readouterr().err
    select_top_k(_settings([(0.5, 0.1), (0.7, 0.2), (0.1, 0.1)]), 2)
    assert capsys.readouterr().err == ""
    with pytest.raises(ValueError, match="top_k: 0"):
        select_top_k(grid, 0)


def test_baselines_score_a_rule_that_learns_nothing():
    pairs = [{"label": l} for l in ["a", "b", "b", "c", "b"]]
    assert baseline("pair", pairs) == {"rule": "majority label b", "test": pytest.approx(0.6)}
    verses = [{"words": ["w"] * 3, "tags": ["O", "B-COMMA", "B-PERIOD"]},
              {"words": ["w"] * 2, "tags": ["O", "B-PERIOD"]},
              {"words": ["w"] * 2, "tags": ["B-COMMA", "B-QUESTION"]}]
    punct = baseline("tag", verses)   # the last word takes a period: 2 of 5 gold spans, 2 of 3 predicted
    p, r = 2 / 3, 2 / 5
    assert punct["rule"] == "last word B-PERIOD" and punct["test"] == pytest.approx(2 * p * r / (p + r))
    trees = [{"words": ["a", "b", "c"], "heads": [2, 3, 0], "deprels": ["det", "nsubj", "root"]},
             {"words": ["a", "b"], "heads": [2, 0], "deprels": ["det", "root"]}]
    parse = baseline("parse", trees)   # right chain gets every head; only the 'det' relations are right
    assert parse == {"rule": "right chain, all det", "test": pytest.approx(2 / 5)}
