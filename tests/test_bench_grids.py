"""The plateau study's recipe grids (bench/plateau*.yaml): every recipe is a setup the trainer accepts, the cost
grid's reference recipe is config.yaml's own, and a bad recipe stops the study before anything trains."""
import importlib.util
import subprocess
import sys

import pytest

from tests.conftest import ROOT, load_config

GRIDS = sorted((ROOT / "bench").glob("plateau*.yaml"))
# what the pretraining recipe is, as opposed to how often a run evaluates, logs or checkpoints
RECIPE_KEYS = ("seq_len", "curriculum", "batch_size", "lr", "warmup_steps", "schedule", "adam_betas", "adam_eps",
               "weight_decay", "clip_norm", "mask_rate", "mask_split", "lang_alpha", "codeswitch_prob",
               "codeswitch_max_rate")


def plateau_bench():
    spec = importlib.util.spec_from_file_location("plateau_bench", ROOT / "bench" / "plateau.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("grid", GRIDS, ids=lambda p: p.name)
def test_every_recipe_is_a_valid_training_setup(grid):
    bench = plateau_bench()
    base, recipes = bench.load_grid(grid)
    assert recipes
    for name, recipe in recipes.items():
        model, pre = bench.check_recipe(base, recipe)
        assert pre.max_tokens == recipe.get("max_tokens", 1), name


def test_cost_grid_measures_the_defaults_recipe():
    """The cheaper models are compared with config.yaml's model and recipe, and each changes only its model."""
    bench = plateau_bench()
    base, recipes = bench.load_grid(ROOT / "bench" / "plateau-cost.yaml")
    config = load_config()
    settings = {name: bench.recipe_settings(base, r, max_tokens=config["pretrain"]["max_tokens"], eval_tokens=1)
                for name, r in recipes.items()}
    model, pre = settings["l4_h128"]
    assert model == config["model"]
    for key in RECIPE_KEYS + ("max_tokens",):
        assert pre[key] == config["pretrain"][key], key
    for name, (m, p) in settings.items():
        assert p == pre, name
        assert {k for k in m if m[k] != model[k]} == set(recipes[name].get("model", {})), name
    assert settings["l4_h128_f2"][0]["ffn_ratio"] == config["model"]["ffn_ratio"] // 2


def test_bad_recipe_stops_the_study_before_training(tmp_path):
    grid = tmp_path / "grid.yaml"
    grid.write_text(f"base: {ROOT / 'bench' / 'plateau.yaml'}\n"
                    "recipes:\n  good: {}\n  typo: {pretrain: {warmup_stpes: 10}}\n")
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, str(ROOT / "bench" / "plateau.py"), "--grid", str(grid), "--out", str(out)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode != 0
    last = r.stderr.strip().splitlines()[-1]
    assert str(grid) in last and "'typo'" in last and "warmup_stpes" in last
    assert not out.exists()
