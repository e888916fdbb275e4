"""How much a pretrained bilingual run learned, against a randomly initialised model of the same shape.

For each language view of a run: masked-token accuracy on held-out verses (15% of pieces masked, the same positions
for both models), next to always answering the most frequent piece. For the pair: held-out verse retrieval (P@1,
cosine) in the model's own space and after Procrustes maps learned on 300 and 3,000 other held-out verses, at the
best layer. Prints one table; the retrieval numbers of docs/results.md come from here.

    python bench/emergence.py results/pretrain/default.en-fr.s1 [--heldout results/corpus/bible/heldout]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import torch
from transformers import AutoConfig, AutoModelForMaskedLM, AutoTokenizer

from xstruct import paths
from xstruct.analysis.align import fit_map
from xstruct.analysis.nn_precision import retrieval_p_at_1


def load(view: Path, random_init: bool):
    torch.manual_seed(0)
    model = (AutoModelForMaskedLM.from_config(AutoConfig.from_pretrained(view)) if random_init
             else AutoModelForMaskedLM.from_pretrained(view))
    return AutoTokenizer.from_pretrained(view), model.eval()


@torch.no_grad()
def mlm_accuracy(tok, model, texts: list[str], rate: float = 0.15, seed: int = 0) -> tuple[float, float]:
    """Accuracy at masked positions, and that of always answering the most frequent masked piece (the unigram
    plateau an MLM sits on before it uses context)."""
    g = torch.Generator().manual_seed(seed)
    hit = total = 0
    counts = torch.zeros(model.config.vocab_size)
    for i in range(0, len(texts), 64):
        enc = tok(texts[i:i + 64], return_tensors="pt", padding=True, truncation=True,
                  max_length=model.config.max_position_embeddings)
        ids = enc["input_ids"]
        special = torch.isin(ids, torch.tensor(tok.all_special_ids))
        mask = (torch.rand(ids.shape, generator=g) < rate) & ~special
        logits = model(input_ids=ids.masked_fill(mask, tok.mask_token_id), attention_mask=enc["attention_mask"]).logits
        hit += (logits.argmax(-1)[mask] == ids[mask]).sum().item()
        total += mask.sum().item()
        counts += torch.bincount(ids[mask], minlength=len(counts))
    return hit / max(total, 1), counts.max().item() / max(total, 1)


@torch.no_grad()
def sentence_vectors(tok, model, texts: list[str]) -> list[torch.Tensor]:
    """Per layer (0 = embeddings), mean over pieces without special tokens."""
    out = []
    for i in range(0, len(texts), 64):
        enc = tok(texts[i:i + 64], return_tensors="pt", padding=True, truncation=True,
                  max_length=model.config.max_position_embeddings, return_special_tokens_mask=True)
        keep = (enc["attention_mask"] * (1 - enc["special_tokens_mask"])).unsqueeze(-1).float()
        hidden = model.base_model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"],
                                  output_hidden_states=True).hidden_states
        out.append(torch.stack([(h * keep).sum(1) / keep.sum(1).clamp(min=1) for h in hidden]))
    return list(torch.cat(out, dim=1))


def read_heldout(path: Path) -> list[str]:
    return [line.rstrip("\n").split("\t", 1)[1] for line in path.open(encoding="utf-8")]


def pair_counts(text: str) -> list[int]:
    """'0,300,3000' -> [0, 300, 3000]"""
    try:
        counts = sorted({int(n) for n in text.split(",")})
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected comma-separated whole numbers, e.g. 0,300,3000")
    if counts[0] < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: pair counts must be 0 or more")
    return counts


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path)
    ap.add_argument("--heldout", type=Path, default=Path(paths.heldout_verses("bible", "en")).parent)
    ap.add_argument("--maps", type=pair_counts, default="0,300,3000",
                    help="verse pairs to learn each Procrustes map from, comma-separated (0: no map)")
    ap.add_argument("--n-eval", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if not args.run.is_dir():
        raise SystemExit(f"{args.run}: no such run folder (train it with snakemake {args.run}/metrics.json)")
    langs = sorted((p.name for p in args.run.iterdir() if (p / "config.json").is_file()),
                   key=lambda l: (l != "en", l))
    missing = [str(args.heldout / f"{l}.tsv") for l in langs if not (args.heldout / f"{l}.tsv").is_file()]
    if missing:
        raise SystemExit(f"{missing[0]}: held-out verses missing (make them with snakemake {' '.join(missing)})")
    maps = args.maps
    n_fit = maps[-1]
    texts = {l: read_heldout(args.heldout / f"{l}.tsv")[: n_fit + args.n_eval] for l in langs}
    print(f"{args.run.name}: held-out verses, the first {n_fit} to learn maps from, the next {args.n_eval} to evaluate")
    vectors = {}
    for init in ("trained", "random"):
        for l in langs:
            tok, model = load(args.run / l, init == "random")
            acc, majority = mlm_accuracy(tok, model, texts[l][: args.n_eval])
            print(f"  {init:7s} {l}: masked-token accuracy {100 * acc:5.1f}% "
                  f"(most frequent piece: {100 * majority:.1f}%)")
            vectors[init, l] = sentence_vectors(tok, model, texts[l])
    if len(langs) == 2:
        a, b = langs
        for n_map in maps:
            for init in ("trained", "random"):
                scores = []
                for x, y in zip(vectors[init, b], vectors[init, a]):
                    x_test, y_test = x[n_fit:], y[n_fit:]
                    if n_map:
                        m = fit_map(x[:n_map], y[:n_map], 5)
                        x_test, y_test = m.shared(x_test), m.target(y_test)
                    scores.append(retrieval_p_at_1(x_test, y_test))
                best = max(range(len(scores)), key=scores.__getitem__)
                how = f"after Procrustes on {n_map} pairs" if n_map else "without a map"
                print(f"  {init:7s} {b}->{a} retrieval {how}: best P@1 {100 * scores[best]:.1f}% at layer {best} "
                      f"(per layer: {', '.join(f'{100 * s:.1f}' for s in scores)})")


if __name__ == "__main__":
    main()
