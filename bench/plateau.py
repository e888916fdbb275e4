"""When does an MLM leave the unigram plateau? Train one run under a grid of recipes and record the curve.

Each recipe (a named entry of `bench/plateau.yaml`: overrides of the file's `base` model and pretraining settings)
trains one run of config.yaml's study (default Default en-fr) with the pipeline's own recipe and evaluates on the pretraining validation verses (Old
Testament, held out from training; the New Testament is never touched here) at a fixed token interval: validation
loss against the unigram loss, and masked-token accuracy with every predicted position masked against always
answering the most frequent piece. "Left the plateau" is `xstruct.mlm.left_plateau` (accuracy at least twice that
baseline), for every language of the run. Writes, under --out:

    <recipe>/log.csv     the recipe's training log (every evaluation)
    curves.csv           recipe, step, tokens, cpu_minutes, lang, loss, masked_acc + both baselines
    summary.csv          per recipe: tokens, steps and CPU-minutes at which it left the plateau (empty: never)
    plateau.png / .pdf   validation loss and masked accuracy against tokens, baselines drawn in

    python bench/plateau.py --recipes default wide_const --max-tokens 8000000 --jobs 2

Runs are resumable (a killed recipe continues from its checkpoint); a finished recipe is not retrained.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from xstruct import paths  # noqa: E402
from xstruct.configs import ModelConfig, PretrainConfig, merge_config  # noqa: E402
from xstruct.mlm import left_plateau  # noqa: E402


def run_spec(config: dict, run_id: str) -> tuple[dict, str]:
    """The run as the pipeline hands it to the recipe, and its vocabulary folder."""
    from xstruct.study import Study
    run = Study(config, ROOT).run(run_id)
    return run.spec(config["parallel"]), str(ROOT / paths.vocab(run.vocab_id))


def load_grid(path: Path) -> tuple[dict, dict]:
    """A grid file's base settings and its recipes; a `base` that names another grid file reuses that one's."""
    grid = yaml.safe_load(path.read_text())
    base = grid["base"]
    if isinstance(base, str):                 # another grid file's base, relative to this one
        base = yaml.safe_load((path.parent / base).read_text())["base"]
    return base, grid["recipes"]


def recipe_settings(base: dict, recipe: dict, max_tokens: int, eval_tokens: int) -> tuple[dict, dict]:
    """The model and pretraining settings one recipe trains under: its overrides merged into the base, the
    budget in tokens, and evaluations (with checkpoints and log lines) every `eval_tokens`."""
    model = merge_config(base["model"], recipe.get("model", {}))
    pre = merge_config(base["pretrain"], recipe.get("pretrain", {}))
    every = max(1, eval_tokens // (pre["batch_size"] * pre["seq_len"]))
    pre.update(max_steps=None, max_tokens=recipe.get("max_tokens", max_tokens), eval_every=every,
               checkpoint_every=every, log_every=every)
    return model, pre


def check_recipe(base: dict, recipe: dict) -> tuple[ModelConfig, PretrainConfig]:
    """The recipe's settings as the trainer will read them (ValueError names a bad key or value)."""
    model, pre = recipe_settings(base, recipe, max_tokens=1, eval_tokens=1)
    return ModelConfig.from_dict(model), PretrainConfig.from_dict(pre)


def train_recipe(name: str, recipe: dict, base: dict, config: dict, run_id: str, out: Path, max_tokens: int,
                 eval_tokens: int, stop_after: float) -> Path:
    """Train one recipe until `max_tokens`, or until `stop_after` x the tokens at which it left the plateau."""
    import torch
    from xstruct.pretrain import PretrainRecipe
    from xstruct.run_log import write_log

    torch.set_num_threads(1)
    folder = out / name
    if (folder / "metrics.json").is_file():
        return folder
    model, pre = recipe_settings(base, recipe, max_tokens, eval_tokens)
    tokens_per_step = pre["batch_size"] * pre["seq_len"]
    spec, vocab_dir = run_spec(config, run_id)
    run = PretrainRecipe(spec, ModelConfig.from_dict(model), PretrainConfig.from_dict(pre), vocab_dir,
                         folder, folder / "checkpoints")
    run.setup()
    baselines = run.data.plateau_baselines()
    left_at, cpu = [], {}
    cpu0 = time.process_time() - run.train_seconds     # a resumed recipe counts its earlier time as CPU time

    def stop(step: int, scores: dict) -> bool:
        cpu[step] = time.process_time() - cpu0           # this process's CPU time, whatever else the machine runs
        if not left_at and all(left_plateau(scores[l]["masked_acc"], b["most_frequent_acc"])
                               for l, b in baselines.items()):
            left_at.append(step)
        return bool(left_at) and step >= stop_after * left_at[0]

    run.stop_when = stop
    print(f"[{name}] training to {pre['max_tokens']:,} tokens ({run.total_steps} steps of {tokens_per_step})",
          file=sys.stderr, flush=True)
    run.train()
    write_log(run.log_rows, folder / "log.csv")
    metrics = {"recipe": recipe, "model": model, "pretrain": pre, "baselines": baselines, "cpu_seconds": cpu,
               "steps": run.step, "train_seconds": run.train_seconds, "bf16": run.bf16}
    (folder / "metrics.json").write_text(json.dumps(metrics, indent=1))
    return folder


def curves(out: Path, names: list[str]) -> list[dict]:
    rows = []
    for name in names:
        metrics = json.loads((out / name / "metrics.json").read_text())
        base = metrics["baselines"]
        with open(out / name / "log.csv", newline="") as f:
            for r in csv.DictReader(f):
                if r["split"] != "valid":
                    continue
                b = base[r["lang"]]
                seconds = metrics["cpu_seconds"].get(r["step"], float(r["elapsed_s"]))
                rows.append({"recipe": name, "step": int(r["step"]), "tokens": int(r["tokens"]),
                             "cpu_minutes": round(seconds / 60, 2), "lang": r["lang"],
                             "loss": round(float(r["loss"]), 4), "masked_acc": round(float(r["masked_acc"]), 4),
                             "unigram_loss": round(b["unigram_loss"], 4),
                             "most_frequent_acc": round(b["most_frequent_acc"], 4),
                             "left_plateau": left_plateau(float(r["masked_acc"]), b["most_frequent_acc"])})
    return rows


def summary(rows: list[dict], names: list[str]) -> list[dict]:
    """Per recipe, the first evaluation at which every language has left the plateau."""
    out = []
    for name in names:
        steps = sorted({r["step"] for r in rows if r["recipe"] == name})
        hit = next((s for s in steps if all(r["left_plateau"] for r in rows if r["recipe"] == name and r["step"] == s)),
                   None)
        at = [r for r in rows if r["recipe"] == name and r["step"] == (hit if hit is not None else steps[-1])]
        out.append({"recipe": name, "left_plateau": hit is not None, "step": at[0]["step"], "tokens": at[0]["tokens"],
                    "cpu_minutes": at[0]["cpu_minutes"],
                    **{f"masked_acc_{r['lang']}": r["masked_acc"] for r in at},
                    **{f"loss_{r['lang']}": r["loss"] for r in at}})
    return out


def plot(rows: list[dict], names: list[str], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    langs = sorted({r["lang"] for r in rows}, key=lambda l: (l != "en", l))
    fig, axes = plt.subplots(2, len(langs), figsize=(5.5 * len(langs), 7), squeeze=False, sharex=True)
    for j, lang in enumerate(langs):
        for name in names:
            pts = [r for r in rows if r["recipe"] == name and r["lang"] == lang]
            x = [r["tokens"] / 1e6 for r in pts]
            axes[0][j].plot(x, [r["loss"] for r in pts], label=name)
            axes[1][j].plot(x, [100 * r["masked_acc"] for r in pts], label=name)
        ref = next(r for r in rows if r["lang"] == lang)
        axes[0][j].axhline(ref["unigram_loss"], color="k", ls="--", lw=1, label="unigram loss")
        axes[1][j].axhline(100 * ref["most_frequent_acc"], color="k", ls="--", lw=1, label="most frequent piece")
        axes[1][j].axhline(200 * ref["most_frequent_acc"], color="k", ls=":", lw=1, label="left the plateau (2x)")
        axes[0][j].set_title(f"{lang}: validation loss (nats)")
        axes[1][j].set_title(f"{lang}: masked accuracy, all predicted positions masked (%)", fontsize=10)
        axes[1][j].set_xlabel("training tokens (millions)")
    axes[1][-1].legend(fontsize=7)
    fig.tight_layout()
    for suffix in (".png", ".pdf"):
        fig.savefig(path.with_suffix(suffix), dpi=120)


def write_csv(path: Path, rows: list[dict]) -> None:
    cols = list(dict.fromkeys(k for r in rows for k in r))
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols)
        w.writeheader()
        w.writerows(rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--recipes", nargs="+", help="names from --grid (default: all of them)")
    ap.add_argument("--grid", type=Path, default=ROOT / "bench" / "plateau.yaml")
    ap.add_argument("--config", type=Path, default=ROOT / "config.yaml")
    ap.add_argument("--run", default="default.en-fr.s1", help="run id of the config (its vocabulary must exist)")
    ap.add_argument("--max-tokens", type=int, default=8_000_000, help="per recipe, unless the recipe sets its own")
    ap.add_argument("--eval-tokens", type=int, default=250_000, help="training tokens between evaluations")
    ap.add_argument("--stop-after", type=float, default=1.5,
                    help="stop a recipe at this multiple of the step at which it left the plateau (0: never stop)")
    ap.add_argument("--jobs", type=int, default=1, help="recipes trained at once, one thread each")
    ap.add_argument("--out", type=Path, default=ROOT / paths.RESULTS / "plateau")
    args = ap.parse_args()

    base, grid = load_grid(args.grid)
    names = args.recipes or list(grid)
    unknown = [n for n in names if n not in grid]
    if unknown:
        raise SystemExit(f"{args.grid}: no recipe {unknown[0]!r}; known: {', '.join(grid)}")
    for n in names:                           # a bad recipe fails here, before any other recipe trains
        try:
            check_recipe(base, grid[n])
        except ValueError as e:
            raise SystemExit(f"{args.grid}: recipe {n!r}: {e}")
    config = yaml.safe_load(args.config.read_text())
    _, vocab_dir = run_spec(config, args.run)
    if not (Path(vocab_dir) / "meta.json").is_file():
        raise SystemExit(f"{vocab_dir}/meta.json: vocabulary missing (make it with "
                         f"snakemake --cores all --until vocab_view)")
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    stop_after = args.stop_after or float("inf")
    with ProcessPoolExecutor(args.jobs) as pool:
        done = [pool.submit(train_recipe, n, grid[n], base, config, args.run, args.out, args.max_tokens, args.eval_tokens,
                            stop_after) for n in names]
        for f in done:
            f.result()
    rows = curves(args.out, names)
    write_csv(args.out / "curves.csv", rows)
    table = summary(rows, names)
    write_csv(args.out / "summary.csv", table)
    plot(rows, names, args.out / "plateau.png")
    for r in table:
        where = (f"left the plateau at {r['tokens'] / 1e6:.2f}M tokens, step {r['step']}, "
                 f"{r['cpu_minutes']:.1f} CPU-minutes" if r["left_plateau"] else
                 f"still on the plateau after {r['tokens'] / 1e6:.2f}M tokens")
        accs = ", ".join(f"{k[11:]} {100 * v:.1f}%" for k, v in r.items() if k.startswith("masked_acc_"))
        print(f"{r['recipe']}: {where} (masked accuracy {accs})")
    print(f"wrote {args.out}/curves.csv, summary.csv, plateau.png ({(time.time() - t0) / 60:.1f} min)")


if __name__ == "__main__":
    main()
