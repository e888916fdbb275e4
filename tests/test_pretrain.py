"""The pretraining recipe: outputs, exact resume after SIGKILL / SIGTERM, and checkpoints set aside."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import bible_verses, make_vocab

from xstruct.codeswitch import CodeSwitcher
from xstruct.model import MASK_ID, ModelConfig
from xstruct.pretrain import PretrainConfig, PretrainRecipe, pretrain

ROOT = Path(__file__).resolve().parents[1]
MODEL = {"layers": 2, "hidden": 32, "heads": 2, "max_positions": 32}
STEPS = 300


def condition(separate_embeddings=False, layers=(), anchors="none"):
    return {"name": "t", "label": "t", "section": "-", "vocab": "union", "anchors": anchors, "domain": "bible",
            "domain_xx": None, "separate_embeddings": separate_embeddings, "separate_layers": list(layers)}


def spec(vocab, work: Path, steps=STEPS, **pre):
    run = {"id": "t.en-fr.s1", "langs": ["en", "fr"], "seed": 1, "condition": condition(True, [1]),
           "parts": {"en": ["a"], "fr": ["b"]}}
    return {"run": run, "model": MODEL,
            "pretrain": {"seq_len": 32, "batch_size": 8, "max_steps": steps, "lr": 1e-3, "warmup_steps": 20,
                         "eval_every": 100, "eval_tokens": 1024, "checkpoint_every": 20, "log_every": 10,
                         "bf16": False, **pre},
            "vocab_dir": str(vocab), "out_dir": str(work / "out"), "checkpoint_dir": str(work / "ckpt"),
            "threads": 1}


@pytest.fixture(scope="module")
def vocab(tmp_path_factory):
    root = tmp_path_factory.mktemp("vocab")
    return make_vocab(root, "union", {"en": bible_verses("en", 500), "fr": bible_verses("fr", 500)}, size=300)


@pytest.fixture(scope="module")
def reference(vocab, tmp_path_factory):
    """An uninterrupted run."""
    work = tmp_path_factory.mktemp("ref")
    metrics = pretrain(**spec(vocab, work))
    return work, metrics


def weights(work: Path) -> dict:
    return torch.load(work / "ckpt" / "last.pt", weights_only=True)["model"]


def start(vocab, work: Path) -> subprocess.Popen:
    work.mkdir(parents=True, exist_ok=True)
    (work / "spec.json").write_text(json.dumps(spec(vocab, work)))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "xstruct.pretrain", str(work / "spec.json")], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_checkpoint(proc: subprocess.Popen, path: Path, timeout=60.0) -> None:
    end = time.time() + timeout
    while not path.exists():
        assert proc.poll() is None, proc.communicate()[1][-2000:]
        assert time.time() < end, "no checkpoint appeared"
        time.sleep(0.005)


def test_run_writes_views_sharing_metrics_and_log(reference):
    work, metrics = reference
    out = work / "out"
    assert {p.name for p in out.iterdir()} >= {"en", "fr", "sharing.json", "metrics.json", "log.csv"}
    assert json.loads((out / "metrics.json").read_text()) == metrics
    assert metrics["steps"] == STEPS and metrics["tokens"] == STEPS * 8 * 32
    assert set(metrics["best"]) == {"en", "fr"} and metrics["best_step"] in (100, 200, 300)
    # training learns: validation loss drops below the uniform level (ln V of each language's own 300 pieces) and
    # keeps dropping between evaluations
    assert metrics["best"]["en"]["loss"] < np.log(300) - 0.3
    valid = [r.split(",") for r in (out / "log.csv").read_text().splitlines() if ",valid,en," in r]
    assert float(valid[-1][4]) < float(valid[0][4]) - 0.05
    # reported next to it: the loss of the training text's unigram distribution (below uniform on real text), the
    # plateau an MLM sits on before it uses context (this 300-step model is still on it)
    assert set(metrics["unigram_loss"]) == {"en", "fr"}
    assert all(0 < u < np.log(300) - 0.4 for u in metrics["unigram_loss"].values())
    log = (out / "log.csv").read_text().splitlines()
    assert log[0].startswith("step,tokens,split,lang,loss") and len(log) == 1 + STEPS // 10 + 3 * 2


def test_sigkill_then_rerun_gives_bit_identical_weights(vocab, reference, tmp_path):
    proc = start(vocab, tmp_path)
    wait_for_checkpoint(proc, tmp_path / "ckpt" / "last.pt")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    killed_at = torch.load(tmp_path / "ckpt" / "last.pt", weights_only=True)["step"]
    assert killed_at < STEPS
    pretrain(**spec(vocab, tmp_path))                   # the rerun resumes
    ref, got = weights(reference[0]), weights(tmp_path)
    assert ref.keys() == got.keys() and all(torch.equal(ref[k], got[k]) for k in ref)
    assert json.loads((tmp_path / "out" / "metrics.json").read_text())["best"] == reference[1]["best"]


def test_sigterm_saves_a_checkpoint_and_exits_nonzero(vocab, reference, tmp_path):
    proc = start(vocab, tmp_path)
    wait_for_checkpoint(proc, tmp_path / "ckpt" / "last.pt")
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, err[-2000:]
    line = next(l for l in err.splitlines() if "caught SIGTERM" in l)
    step = int(line.split("at step ")[1].split(":")[0])
    assert torch.load(tmp_path / "ckpt" / "last.pt", weights_only=True)["step"] == step < STEPS
    assert not (tmp_path / "out" / "metrics.json").exists()
    pretrain(**spec(vocab, tmp_path))
    ref, got = weights(reference[0]), weights(tmp_path)
    assert all(torch.equal(ref[k], got[k]) for k in ref)


def test_corrupt_checkpoint_is_reported_and_set_aside(vocab, tmp_path, capsys):
    (tmp_path / "ckpt").mkdir()
    (tmp_path / "ckpt" / "last.pt").write_bytes(b"PK\x03\x04 truncated zip")
    metrics = pretrain(**spec(vocab, tmp_path, steps=20))
    err = capsys.readouterr().err
    lines = [l for l in err.splitlines() if "last.pt is unreadable" in l]
    assert len(lines) == 1 and "moved to last.pt.corrupt-" in lines[0]
    assert len(list((tmp_path / "ckpt").glob("last.pt.corrupt-*"))) == 1
    assert metrics["steps"] == 20 and "resumed" not in err


def test_incompatible_checkpoint_is_set_aside_but_a_longer_budget_resumes(vocab, tmp_path, capsys):
    pretrain(**spec(vocab, tmp_path, steps=20))
    pretrain(**spec(vocab, tmp_path, steps=40))           # only the budget changed: resume
    assert "at step 20, continuing to a larger budget (20 -> 40 steps)" in capsys.readouterr().err
    pretrain(**spec(vocab, tmp_path, steps=40, lr=5e-4))   # another trajectory: set aside, start over
    err = capsys.readouterr().err
    assert "written for another setup" in err and "resumed" not in err
    assert len(list((tmp_path / "ckpt").glob("last.pt.incompatible-*"))) == 1


@pytest.mark.parametrize("separate", [True, False])
def test_random_replacements_come_from_the_right_vocabulary(vocab, tmp_path, separate):
    s = spec(vocab, tmp_path)
    s["run"]["condition"] = condition(separate_embeddings=separate)
    recipe = PretrainRecipe(s["run"], ModelConfig.from_dict(MODEL), PretrainConfig.from_dict(s["pretrain"]),
                            vocab, tmp_path / "out", tmp_path / "ckpt")
    recipe.setup()
    maps = {l: np.load(vocab / "ids" / f"{l}.map.npy") for l in ("en", "fr")}
    fr_only = set(maps["fr"]) - set(maps["en"])
    seen_foreign = 0
    for _ in range(40):
        lang, inputs, positions, targets = recipe.next_batch()
        new = inputs.view(-1)[positions]
        rand = new[(new != MASK_ID) & (new != targets)]
        if separate:      # the language's own local ids
            assert int(inputs.max()) < len(maps[lang]) and int(rand.min()) >= 5
        elif lang == "en":  # global ids from the whole vocabulary: some are French pieces
            seen_foreign += sum(int(t) in fr_only for t in rand)
    assert separate or seen_foreign > 0


def test_two_process_ddp_trains_in_lockstep_and_exports(vocab, tmp_path, monkeypatch):
    """The multi-GPU path (torchrun, DDP, collective checkpoints) run as two CPU processes over gloo."""
    from transformers import AutoModelForMaskedLM

    from xstruct.pretrain import launch
    monkeypatch.setenv("PYTHONPATH", str(ROOT))   # the torchrun children import xstruct from this checkout
    launch(spec(vocab, tmp_path, steps=40), gpus=2)
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["world_size"] == 2 and metrics["tokens"] == 40 * 2 * 8 * 32
    state = torch.load(tmp_path / "ckpt" / "last.pt", weights_only=False)
    assert state["step"] == 40 and len(state["ranks"]) == 2
    r0, r1 = state["ranks"]
    assert r0["samplers"][-1]["lang_rng"] == r1["samplers"][-1]["lang_rng"]  # the same language at every step ...
    assert not torch.equal(r0["mask_gen"], r1["mask_gen"])               # ... but each rank its own masks
    for lang in ("en", "fr"):
        model = AutoModelForMaskedLM.from_pretrained(tmp_path / "out" / lang)
        assert torch.isfinite(model(input_ids=torch.tensor([[2, 10, 11, 3]])).logits).all()


def test_preemption_signal_to_the_launcher_reaches_every_rank_and_the_rerun_resumes(vocab, tmp_path, monkeypatch):
    """SLURM's --signal=USR1 reaches the job's launcher: torchrun and both ranks must checkpoint and exit 138."""
    from xstruct.pretrain import launch
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    s = spec(vocab, tmp_path, steps=200)
    (tmp_path / "spec.json").write_text(json.dumps(s))
    code = "import json, sys; from xstruct.pretrain import launch; launch(json.load(open(sys.argv[1])), gpus=2)"
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "spec.json")], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    wait_for_checkpoint(proc, tmp_path / "ckpt" / "last.pt", timeout=120)
    proc.send_signal(signal.SIGUSR1)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGUSR1, err[-3000:]
    assert "caught SIGUSR1" in err, err[-4000:]        # rank 0 checkpointed and said so (not only the launcher)
    step = torch.load(tmp_path / "ckpt" / "last.pt", weights_only=True)["step"]
    assert 0 < step < 200 and not (tmp_path / "out" / "metrics.json").exists()
    launch(s, gpus=2)                                  # the requeued job resumes where the ranks stopped
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["steps"] == 200 and metrics["world_size"] == 2


def test_metrics_say_whether_each_language_left_the_unigram_plateau(reference):
    from xstruct.mlm import left_plateau
    work, metrics = reference
    for lang in ("en", "fr"):
        mfp, acc = metrics["most_frequent_acc"][lang], metrics["best"][lang]["masked_acc"]
        assert 0 < mfp < 0.5 and 0 <= acc <= 1
        assert metrics["left_plateau"][lang] == left_plateau(acc, mfp) == (acc >= 2 * mfp)
        # every predicted position masked can only make the task harder than XLM's 80/10/10 accuracy
        assert acc <= metrics["best"][lang]["acc"] + 1e-9
    valid = [l.split(",") for l in (work / "out" / "log.csv").read_text().splitlines() if ",valid," in l]
    assert all(0 <= float(r[7]) <= 1 for r in valid)       # the masked_acc column of every evaluation


def test_length_curriculum_steps_through_its_stages_with_the_same_tokens_per_step(vocab, tmp_path):
    s = spec(vocab, tmp_path, steps=40, curriculum=[[8, 0.25], [16, 0.25]])
    recipe = PretrainRecipe(s["run"], ModelConfig.from_dict(MODEL), PretrainConfig.from_dict(s["pretrain"]),
                            vocab, tmp_path / "out", tmp_path / "ckpt")
    recipe.setup()
    assert recipe.data.stage_ends == [10, 20]
    shapes, counts = [], []
    for step in (0, 9, 10, 19, 20, 39):
        recipe.step = step
        _, inputs, positions, _ = recipe.next_batch()
        shapes.append(tuple(inputs.shape))
        counts.append(len(positions))
    assert shapes == [(32, 8), (32, 8), (16, 16), (16, 16), (8, 32), (8, 32)]
    assert len(set(counts)) == 1                                # the same number of predicted tokens every step
    for bad in ([[7, 0.5]], [[32, 0.5]], [[8, 0.6], [16, 0.6]], [[8]]):
        with pytest.raises(ValueError, match="pretrain.curriculum"):
            PretrainConfig.from_dict({**s["pretrain"], "curriculum": bad})


def test_length_curriculum_resumes_bit_identically_across_the_switch(vocab, tmp_path, capsys):
    curriculum = {"steps": 40, "curriculum": [[8, 0.5]], "checkpoint_every": 20}
    ref = pretrain(**spec(vocab, tmp_path / "ref", **curriculum))
    s = spec(vocab, tmp_path / "cut", **curriculum)
    recipe = PretrainRecipe(s["run"], ModelConfig.from_dict(MODEL), PretrainConfig.from_dict(s["pretrain"]),
                            vocab, tmp_path / "cut" / "out", tmp_path / "cut" / "ckpt")
    recipe.setup()
    recipe.total_steps = 20                       # stopped at the end of the short phase, with its checkpoint
    recipe.train()
    capsys.readouterr()
    cut = pretrain(**s)                           # resumes at step 20 onto the long streams' own saved state
    assert "at step 20" in capsys.readouterr().err
    assert torch.load(tmp_path / "cut" / "ckpt" / "last.pt", weights_only=True)["step"] == 40
    a, b = weights(tmp_path / "ref"), weights(tmp_path / "cut")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert cut["best"] == ref["best"]


def test_a_control_run_is_exported_at_its_initialisation(vocab, tmp_path):
    s = spec(vocab, tmp_path)
    s["run"]["condition"] = {**condition(), "pretrain": "none"}
    metrics = pretrain(**s)
    assert metrics["steps"] == 0 and metrics["tokens"] == 0 and metrics["best_step"] == 0
    assert not any(metrics["left_plateau"].values())
    # the exported weights are the seeded initialisation (the same model a trained run starts from)
    from xstruct.model import MaskedLM, Sharing
    torch.manual_seed(1)
    sizes = {"shared": json.loads((vocab / "meta.json").read_text())["global_size"]}
    init = MaskedLM(ModelConfig.from_dict(MODEL), Sharing(("en", "fr"), False, (), sizes)).state_dict()
    saved = torch.load(tmp_path / "ckpt" / "best.pt", weights_only=True)["model"]
    assert all(torch.equal(init[k], saved[k]) for k in init)


def test_report_table_names_the_trained_runs_still_on_the_plateau(reference, tmp_path):
    from xstruct.report.pretraining import write_pretraining_report
    metrics = reference[1]
    stuck = {**metrics, "run": "default.en-fr.s1", "left_plateau": {"en": True, "fr": False}}
    left = {**metrics, "run": "sep_emb.en-fr.s1", "left_plateau": {"en": True, "fr": True}}
    control = {**metrics, "run": "random_init.en-fr.s1", "left_plateau": {"en": False, "fr": False}}
    paths = []
    for m in (stuck, left, control):
        paths.append(tmp_path / f"{m['run']}.json")
        paths[-1].write_text(json.dumps(m))
    line = write_pretraining_report([str(p) for p in paths], {"random_init"}, tmp_path / "tables")
    assert line == "1 of 2 trained runs left the unigram plateau in every language; not left: default.en-fr.s1 (fr)"
    table = (tmp_path / "tables" / "pretraining.csv").read_text().splitlines()
    assert len(table) == 1 + 6 and table[0].startswith("run,lang,control,tokens")
    assert write_pretraining_report([str(paths[1]), str(paths[2])], {"random_init"}, tmp_path / "t2") == \
        "All 1 trained runs left the unigram plateau in every language"


# ---------------------------------------------------------------- faults: nothing silently wrong, a rerun repairs

def overwrite_tensor_bytes(path: Path, tensor: torch.Tensor) -> None:
    """Replace the first bytes of `tensor`'s data inside the checkpoint file (the zip still reads)."""
    raw = path.read_bytes()
    needle = tensor.contiguous().view(torch.uint8).numpy().tobytes()[:64]
    at = raw.index(needle)
    path.write_bytes(raw[:at] + bytes(255 - b for b in needle) + raw[at + len(needle):])


@pytest.mark.parametrize("damage", ["header", "tensor data"])
def test_a_damaged_best_checkpoint_is_caught_and_a_plain_rerun_rebuilds_it(vocab, tmp_path, capsys, damage):
    ref = pretrain(**spec(vocab, tmp_path / "ref", steps=20))
    pretrain(**spec(vocab, tmp_path, steps=20))
    best = tmp_path / "ckpt" / "best.pt"
    if damage == "header":
        best.write_bytes(os.urandom(64) + best.read_bytes()[64:])
    else:
        model = torch.load(best, weights_only=True)["model"]
        overwrite_tensor_bytes(best, model[next(k for k in model if k.endswith("word.weight"))])
    capsys.readouterr()
    metrics = pretrain(**spec(vocab, tmp_path, steps=20))       # a plain rerun, nothing deleted by hand
    err = [l for l in capsys.readouterr().err.splitlines() if "checkpoint" in l]
    assert any("best.pt is" in l and "moved to best.pt.corrupt-" in l for l in err), err
    assert any("training restarts from step 0" in l for l in err), err
    assert metrics["best"] == ref["best"]                          # the same trajectory, retrained
    assert all(torch.isfinite(w).all() for w in weights(tmp_path).values())


def test_a_budget_below_the_checkpoint_retrains_instead_of_exporting_the_longer_run(vocab, tmp_path, capsys):
    short = pretrain(**spec(vocab, tmp_path / "short", steps=20))
    pretrain(**spec(vocab, tmp_path, steps=40))
    capsys.readouterr()
    metrics = pretrain(**spec(vocab, tmp_path, steps=20))
    err = capsys.readouterr().err
    assert "beyond this run's budget of 20 steps" in err and "resumed" not in err
    assert metrics["steps"] == 20 and metrics["best"] == short["best"]


def test_token_ids_changed_in_place_are_another_trajectory(vocab, tmp_path, capsys):
    import shutil
    mine = shutil.copytree(vocab, tmp_path / "vocab")
    pretrain(**spec(mine, tmp_path, steps=20))
    ids_path = mine / "ids" / "en.a.npy"
    ids = np.load(ids_path)
    ids[1000:1100] = ids[2000:2100]                                # same length, other content
    np.save(ids_path, ids)
    capsys.readouterr()
    pretrain(**spec(mine, tmp_path, steps=40))
    err = capsys.readouterr().err
    assert "written for another setup" in err and "resumed" not in err


def test_killed_saves_and_old_set_aside_checkpoints_are_cleaned_up(vocab, tmp_path):
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    (ckpt / ".last.pt.x1y2.tmp").write_bytes(b"half a checkpoint")
    for tag in ("corrupt-20260101-000000", "incompatible-20260102-000000", "corrupt-20260103-000000"):
        (ckpt / f"last.pt.{tag}").write_bytes(b"old")
        time.sleep(0.01)
    pretrain(**spec(vocab, tmp_path, steps=20))
    assert not list(ckpt.glob(".*.tmp"))
    assert [p.name for p in ckpt.glob("last.pt.*-*")] == ["last.pt.corrupt-20260103-000000"]   # the newest stays


def test_export_refuses_non_finite_weights(vocab, tmp_path):
    s = spec(vocab, tmp_path, steps=20)
    pretrain(**s)
    recipe = PretrainRecipe(s["run"], ModelConfig.from_dict(MODEL), PretrainConfig.from_dict(s["pretrain"]),
                            vocab, tmp_path / "out", tmp_path / "ckpt")
    recipe.setup()
    best = recipe.ckpt.load("best")
    word = next(k for k in best["model"] if k.endswith("word.weight"))
    best["model"][word][5, 0] = float("nan")
    recipe.ckpt.save("best", best)                                  # a valid file holding a diverged model
    with pytest.raises(RuntimeError, match=rf"best.pt: non-finite weights in {word}"):
        recipe.export()


def test_damaged_exports_and_id_arrays_fail_in_one_line_naming_the_file(reference, tmp_path):
    import shutil

    from xstruct.finetune import load_encoder, load_tokenizer
    from xstruct.integrity import ArtifactError
    from xstruct.mlm import load_ids, valid_windows
    view = shutil.copytree(reference[0] / "out" / "en", tmp_path / "en")
    weights_file = view / "model.safetensors"
    weights_file.write_bytes(weights_file.read_bytes()[:100])                  # truncated
    with pytest.raises(ArtifactError, match=rf"^{view}: cannot load the exported view .*re-export") as err:
        load_encoder(view)
    (view / "tokenizer.json").unlink()
    with pytest.raises(ArtifactError, match=rf"^{view}: not an exported view \(tokenizer.json missing\)"):
        load_tokenizer(view)
    bad = tmp_path / "en.a.npy"
    bad.write_bytes(b"not numpy at all")
    with pytest.raises(ValueError, match=rf"^{bad}: not a readable token-id array .*delete it and rerun"):
        load_ids(bad)
    with pytest.raises(ValueError, match=r"^ids/en.valid.npy: 3 tokens, shorter than one stream of 32"):
        valid_windows(np.arange(3), 32, 1024, "ids/en.valid.npy")
    assert all("\n" not in str(e) for e in (err.value,))


def test_extra_anchors_code_switch_inside_the_recipe_and_resume_exactly(tmp_path, monkeypatch):
    """The Extra anchors condition end to end in the recipe: a joint vocabulary, the MUSE en-fr fixture as the
    dictionary; words are switched within the cap, and the switcher's state travels with the checkpoint."""
    vocab = make_vocab(tmp_path, "joint", {"en": bible_verses("en", 500), "fr": bible_verses("fr", 500)}, size=400)
    muse = (ROOT / "tests/fixtures/muse/en-fr.0-5000.txt").read_text(encoding="utf-8").split("\n")
    dictionary = tmp_path / "en-fr.all.txt"
    dictionary.write_text("".join(f"{l.split()[0]}\t{l.split()[1]}\n" for l in muse if len(l.split()) == 2))

    def extra_anchors(work, steps):
        s = spec(vocab, work, steps=steps, codeswitch_prob=0.5, codeswitch_max_rate=0.15)
        return {**s, "run": {**s["run"], "condition": condition(anchors="dictionary")}, "dictionary": str(dictionary)}

    counts, switch = [], CodeSwitcher.__call__

    def counted(self, *args, **kwargs):
        batch = switch(self, *args, **kwargs)
        counts.append(batch[1:])                           # (words in the batch, words switched)
        return batch
    monkeypatch.setattr(CodeSwitcher, "__call__", counted)
    metrics = pretrain(**extra_anchors(tmp_path / "full", 40))
    words, switched = map(sum, zip(*counts))
    assert metrics["steps"] == 40 and len(counts) == 40
    assert 0 < switched <= 0.15 * words                   # dictionary words switch, never more than the cap
    pretrain(**extra_anchors(tmp_path / "split", 20))
    pretrain(**extra_anchors(tmp_path / "split", 40))     # resumes at step 20 with the switcher where it was
    full, split = weights(tmp_path / "full"), weights(tmp_path / "split")
    assert all(torch.equal(full[k], split[k]) for k in full)
