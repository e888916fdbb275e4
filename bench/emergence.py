"""Cross-lingual structure in one pretrained bilingual run, against its own random initialisation: held-out verse
retrieval (xx -> en, P@1 over `--n-eval` verses) per layer, without a map and after Procrustes maps learnt on each
of `--maps` other verse pairs (evaluation and map verses are drawn from the first max(maps) + n-eval held-out
verses, as the analysis draws them from its set).

It composes the analysis package and adds nothing of its own: the held-out verses are read as the analysis sets
are (xstruct.analysis.texts), sentence vectors are extracted as rule analysis_features does
(xstruct.analysis.extract; cached under results/bench/emergence/, never in the pipeline's own cache), and the
scores are `xstruct.analysis.sentence_retrieval.retrieval_table`'s, the table behind Fig. 6, here with smaller
maps than the analysis's 3,000 pairs. The learning side (masked-token accuracy against the most frequent piece)
is read from the run's metrics.json. The retrieval numbers of docs/results.md come from here.

    python bench/emergence.py results/pretrain/default.en-fr.s1 [--maps 300,3000]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
import yaml

from xstruct import paths
from xstruct.analysis.extract import Features, extract
from xstruct.analysis.sentence_retrieval import retrieval_table
from xstruct.analysis.texts import read_set

ROOT = Path(__file__).resolve().parent.parent


def pair_counts(text: str) -> list[int]:
    """'300,3000' -> [300, 3000]"""
    try:
        counts = sorted({int(n) for n in text.split(",")})
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected comma-separated whole numbers, e.g. 300,3000")
    if counts[0] < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: a map needs at least one verse pair")
    return counts


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path)
    ap.add_argument("--heldout", type=Path, default=Path(paths.heldout_verses("bible", "en")).parent)
    ap.add_argument("--maps", type=pair_counts, default="300,3000",
                    help="verse pairs to learn each Procrustes map from, comma-separated")
    ap.add_argument("--n-eval", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--config", type=Path, default=ROOT / "config.yaml",
                    help="the random encoders' seed and the normalisation rounds, as the analysis uses them")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    analysis = yaml.safe_load(args.config.read_text())["analysis"]
    seed, norm_iters = analysis["cka"]["random_seed"], analysis["norm_iters"]
    metrics_path = args.run / "metrics.json"
    if not metrics_path.is_file():
        raise SystemExit(f"{metrics_path}: no such run (train it with snakemake {metrics_path})")
    metrics = json.loads(metrics_path.read_text())
    langs = metrics["languages"]
    if len(langs) != 2:
        raise SystemExit(f"{args.run}: a bilingual run is needed (it has {', '.join(langs)})")
    sets = {"heldout": {"format": "tsv", "path": str(args.heldout / "{lang}.tsv"),
                        "max_sentences": max(args.maps) + args.n_eval}}
    for lang in langs:
        if not (args.heldout / f"{lang}.tsv").is_file():
            raise SystemExit(f"{args.heldout / f'{lang}.tsv'}: held-out verses missing (make them with snakemake "
                             f"{paths.heldout_verses('bible', lang)})")
        print(f"  {lang}: masked-token accuracy {100 * metrics['best'][lang]['masked_acc']:.1f}% "
              f"(most frequent piece: {100 * metrics['most_frequent_acc'][lang]:.1f}%)")

    en, xx = langs
    features = {}
    for init in ("trained", "random"):
        for lang in langs:
            texts = read_set(sets, "heldout", lang)
            out = Path(paths.RESULTS) / "bench" / "emergence" / args.run.name / init / lang
            extract(args.run / lang, texts, out, init=init, seed=seed, progress=False)
            features[init, lang] = Features(out)
    print(f"{args.run.name}: {xx}->{en} retrieval of {args.n_eval} held-out verses, best layer (P@1 per layer)")
    for n_map in args.maps:
        for init in ("trained", "random"):
            table = retrieval_table(features[init, xx], features[init, en], n_train=n_map, n_eval=args.n_eval,
                                    seed=seed, norm_iters=norm_iters, block=analysis["block_size"])
            kinds = ([(False, "without a map")] if n_map == args.maps[0] else []) + [(True, f"{n_map}-pair map")]
            for mapped, how in kinds:
                scores = table[table.mapped == mapped].set_index("layer")["p_at_1"]
                print(f"  {init:7s} {how:>15s}: {100 * scores.max():5.1f}% at layer {scores.idxmax()} "
                      f"({', '.join(f'{100 * s:.1f}' for s in scores)})")


if __name__ == "__main__":
    main()
