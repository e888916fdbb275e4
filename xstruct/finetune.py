"""Zero-shot cross-lingual transfer: fine-tune on English, choose on English dev, test on the target language.

The protocol of the paper (ACL 2020, section 3.2), for one task and one pretrained bilingual run:

1. For every hyperparameter setting of the grid (batch size x learning rate [x head learning rate]) and every seed,
   fine-tune the English view with a fresh task head. Parameters that the run's `sharing.json` lists as
   language-specific stay frozen, so only shared parameters (and the head) learn.
2. After each epoch score English dev; keep the best epoch's weights.
3. Build the target-language view: its own pretrained language-specific parameters, the fine-tuned shared
   parameters and the task head swapped in, and score the target test set.
4. The reported number is the mean target score of the `top_k` settings with the best English dev scores
   (the paper averages the best two); ties in dev score are broken by grid order (batch size, then lr, then
   head lr, as listed in the config), so the choice is deterministic. Every setting's scores are kept.
5. A no-learning baseline on the same target test set (`baseline`): the majority label (pair), the most common
   tag of a sentence's last word put on that word (tag; for punct: "the last word takes a period"), or the
   better of the left/right attachment chains with the most common relation (parse). The report takes it as a
   floor of the score when it is above the random-init control's.

Shared word embeddings are stored per view with local ids, so the swap maps rows through the vocabulary id maps
(local id -> global id): a target row takes the fine-tuned row of the same global id when English has it.
"""
from __future__ import annotations

import itertools
import math
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from xstruct.hardware import cpu_has_bf16, resolve_device
from xstruct.export import from_export
from xstruct.io import read_json, write_json
from xstruct.tasks.encoding import Pieces, collate, encode, eval_batches, train_batches
from xstruct.tasks.examples import example_path, read_examples
from xstruct.tasks.heads import build_head
from xstruct.tasks.metrics import accuracy, attachment_scores, span_f1, universal
from xstruct.tasks.transfer_jobs import check_spec

METRIC = {"pair": "accuracy", "tag": "f1", "parse": "las"}
WORD_EMBEDDINGS = "embeddings.word_embeddings.weight"


class TransferError(ValueError):
    """Inconsistent run or task inputs; the message is one line naming the file or key."""


# ----------------------------------------------------------------------------------------------- model views

def load_encoder(folder: str | Path) -> nn.Module:
    """A language view's encoder, without the pooler (the heads read token vectors)."""
    from transformers import AutoModel

    return from_export(AutoModel, Path(folder), add_pooling_layer=False)


def max_length_of(folder: str | Path, wanted: int) -> int:
    """`wanted`, capped at the positions the pretrained model has."""
    return min(wanted, read_json(Path(folder) / "config.json")["max_position_embeddings"])


def load_tokenizer(folder: str | Path):
    from transformers import AutoTokenizer

    return from_export(AutoTokenizer, Path(folder))


def read_separate(path: str | Path, encoder: nn.Module) -> set[str]:
    """Encoder parameter names that `sharing.json` marks language-specific (MLM-head names do not apply)."""
    sharing = read_json(path)
    if not isinstance(sharing.get("separate"), list):
        raise TransferError(f"{path}: expected a list under 'separate'")
    names = {n for n, _ in encoder.named_parameters()}
    prefix = encoder.base_model_prefix + "."
    out = set()
    for name in sharing["separate"]:
        name = name[len(prefix):] if name.startswith(prefix) else name
        if name.startswith("cls."):
            continue
        if name not in names:
            raise TransferError(f"{path}: separate parameter {name!r} is not a parameter of the encoder")
        out.add(name)
    return out


def shared_rows(source_map: np.ndarray, target_map: np.ndarray) -> np.ndarray:
    """For each target local id, the source local id of the same global id, or -1."""
    where = {int(g): i for i, g in enumerate(source_map)}
    return np.array([where.get(int(g), -1) for g in target_map], dtype=np.int64)


@torch.no_grad()
def swap_shared(tuned: nn.Module, target: nn.Module, separate: set[str], rows: np.ndarray | None) -> None:
    """Overwrite the target view's shared parameters with the fine-tuned source view's."""
    source = dict(tuned.named_parameters())
    for name, param in target.named_parameters():
        if name in separate:
            continue
        if name == WORD_EMBEDDINGS:
            if rows is None:
                raise TransferError("word embeddings are shared: the vocabulary id maps of both views are needed")
            if len(rows) != param.size(0):
                raise TransferError(f"id map has {len(rows)} rows, the target view {param.size(0)} embeddings")
            hit = torch.from_numpy(np.nonzero(rows >= 0)[0])
            param[hit] = source[name][torch.from_numpy(rows[rows >= 0])].to(param.dtype)
            continue
        if source[name].shape != param.shape:
            raise TransferError(f"shared parameter {name}: shape {tuple(source[name].shape)} in the source view, "
                                f"{tuple(param.shape)} in the target view")
        param.copy_(source[name])


class TaskModel(nn.Module):
    def __init__(self, encoder: nn.Module, head: nn.Module):
        super().__init__()
        self.encoder, self.head = encoder, head

    def forward(self, batch):
        hidden = self.encoder(input_ids=batch["ids"], attention_mask=batch["mask"]).last_hidden_state
        return self.head.scores(hidden, batch)


# --------------------------------------------------------------------------------------------------- scoring

def predict(model: TaskModel, encoded: list[dict], batch_size: int, pad_id: int, device, desc: str) -> list:
    model.eval()
    out: list = [None] * len(encoded)
    with torch.no_grad():
        for idx in tqdm(eval_batches([len(e["ids"]) for e in encoded], batch_size), desc=desc, leave=False):
            batch = {k: v.to(device) for k, v in collate([encoded[i] for i in idx], pad_id).items()}
            for i, p in zip(idx, model.head.decode(model(batch), batch)):
                out[i] = p
    return out


def score(kind: str, examples: list[dict], preds: list) -> dict:
    """Scores of predictions; words cut by max_length count as wrong (tag O, no head)."""
    if kind == "pair":
        return {"accuracy": accuracy([e["label"] for e in examples], preds)}
    if kind == "tag":
        full = [p + ["O"] * (len(e["words"]) - len(p)) for e, p in zip(examples, preds)]
        return span_f1([e["tags"] for e in examples], full)
    heads = [h + [-1] * (len(e["words"]) - len(h)) for e, (h, _) in zip(examples, preds)]
    rels = [r + ["_"] * (len(e["words"]) - len(r)) for e, (_, r) in zip(examples, preds)]
    return attachment_scores([e["heads"] for e in examples], [e["deprels"] for e in examples], heads, rels)


def label_set(kind: str, train: list[dict]) -> list[str]:
    if kind == "pair":
        return sorted({e["label"] for e in train})
    if kind == "tag":
        return sorted({t for e in train for t in e["tags"]})
    return sorted({universal(r) for e in train for r in e["deprels"]})


def select_top_k(results: list[dict], top_k: int) -> list[dict]:
    """The `top_k` settings with the best dev score; Python's sort is stable, so equal dev scores keep grid
    order (the earlier setting wins). A grid of at most `top_k` settings selects nothing: it is all averaged."""
    if top_k < 1:
        raise ValueError(f"finetune top_k: {top_k} must be >= 1")
    if len(results) <= top_k:
        print(f"warning: the fine-tuning grid has {len(results)} settings and top_k {top_k}: no selection",
              file=sys.stderr)
    return sorted(results, key=lambda r: -r["dev"])[:top_k]


def baseline(kind: str, test: list[dict]) -> dict:
    """A rule that learns nothing, scored on the target test set with the task's own metric (module doc, 5)."""
    if kind == "pair":
        label = Counter(e["label"] for e in test).most_common(1)[0][0]
        return {"rule": f"majority label {label}", "test": accuracy([e["label"] for e in test], [label] * len(test))}
    if kind == "tag":
        tag = Counter(e["tags"][-1] for e in test if e["tags"]).most_common(1)[0][0]
        preds = [["O"] * (len(e["tags"]) - 1) + [tag] for e in test]
        return {"rule": f"last word {tag}", "test": span_f1([e["tags"] for e in test], preds)["f1"]}
    rel = Counter(universal(r) for e in test for r in e["deprels"]).most_common(1)[0][0]
    chains = {"left": lambda n: [0] + list(range(1, n)), "right": lambda n: list(range(2, n + 1)) + [0]}
    best = None
    for name, heads in chains.items():
        las = attachment_scores([e["heads"] for e in test], [e["deprels"] for e in test],
                                [heads(len(e["words"])) for e in test], [[rel] * len(e["words"]) for e in test])["las"]
        if best is None or las > best["test"]:
            best = {"rule": f"{name} chain, all {rel}", "test": las}
    return best


# -------------------------------------------------------------------------------------------------- training

def settings(spec: dict) -> list[dict]:
    """The hyperparameter grid: batch size x encoder lr x head lr (head lr = encoder lr when not given)."""
    head_lrs = spec.get("head_lr") or [None]
    return [{"id": f"bs{b}_lr{lr:g}" + (f"_head{h:g}" if h is not None else ""), "batch_size": int(b),
             "lr": float(lr), "head_lr": float(h if h is not None else lr)}
            for b, lr, h in itertools.product(spec["batch_size"], spec["lr"], head_lrs)]


def seed_everything(seed: int) -> np.random.Generator:
    torch.manual_seed(seed)
    return np.random.default_rng(seed)


def _schedule(optimizer, spec: dict, total: int):
    from transformers import get_constant_schedule, get_linear_schedule_with_warmup

    if spec["schedule"] == "linear":
        return get_linear_schedule_with_warmup(optimizer, math.ceil(spec["warmup"] * total), total)
    if spec["schedule"] == "constant":
        return get_constant_schedule(optimizer)
    raise TransferError(f"schedule {spec['schedule']!r} must be linear or constant")


@dataclass
class TrainData:
    """What one fine-tuning run learns from and is selected on: encoded English train and dev, and the dev
    examples the score is computed against."""
    kind: str
    train: list[dict]
    dev: list[dict]
    dev_examples: list[dict]
    pad: int


def source_model(kind: str, spec: dict, labels: list[str], source_dir: Path, separate_path: Path) -> TaskModel:
    """The source view with its language-specific parameters frozen, and a fresh task head."""
    encoder = load_encoder(source_dir)
    separate = read_separate(separate_path, encoder)
    for name, param in encoder.named_parameters():
        param.requires_grad_(name not in separate)
    return TaskModel(encoder, build_head(kind, encoder.config.hidden_size, labels, spec["head"]))


def train_setting(model: TaskModel, data: TrainData, config: dict, rng: np.random.Generator, device,
                  desc: str = "") -> tuple[TaskModel, dict]:
    """Fine-tune `model`'s trainable parameters under one training `config` (the task's settings with one grid
    point's batch size and learning rates); return it at its best dev epoch, with its dev scores per epoch.
    `rng` orders the batches (seed it, and torch, before building the model: `seed_everything`)."""
    model = model.to(device)
    groups = [{"params": [p for p in model.encoder.parameters() if p.requires_grad], "lr": config["lr"]},
              {"params": list(model.head.parameters()), "lr": config["head_lr"]}]
    optimizer = torch.optim.AdamW(groups, weight_decay=config["weight_decay"])
    per_epoch = math.ceil((config.get("epoch_size") or len(data.train)) / config["batch_size"])
    scheduler = _schedule(optimizer, config, per_epoch * config["epochs"])
    stream = train_batches([len(e["ids"]) for e in data.train], config["batch_size"], config["bucket"], rng)
    trainable = [p for g in groups for p in g["params"]]
    # bf16 autocast on GPUs and on CPUs with bf16 instructions (measured ~2x for pretraining these models)
    amp = config.get("bf16", False) and (device.type == "cuda" or cpu_has_bf16())
    metric = METRIC[data.kind]
    history, best, best_state = [], None, None
    for epoch in range(1, config["epochs"] + 1):
        model.train()
        bar = tqdm(range(per_epoch), desc=f"{desc} epoch {epoch}", leave=False)
        for _ in bar:
            batch = {k: v.to(device) for k, v in collate([data.train[i] for i in next(stream)], data.pad).items()}
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
                loss = model.head.loss(model(batch), batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if config["max_grad_norm"]:
                nn.utils.clip_grad_norm_(trainable, config["max_grad_norm"])
            optimizer.step()
            scheduler.step()
            bar.set_postfix(loss=f"{loss.item():.3f}")
        dev_scores = score(data.kind, data.dev_examples,
                           predict(model, data.dev, config["eval_batch_size"], data.pad, device, f"{desc} dev"))
        history.append(dev_scores)
        if best is None or dev_scores[metric] > history[best - 1][metric]:
            best = epoch
            best_state = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
    model.load_state_dict(best_state, strict=False)
    return model, {"dev_by_epoch": history, "best_epoch": best, "dev": history[best - 1]}


def target_model(tuned: TaskModel, target_dir: Path, separate_path: Path, rows: np.ndarray | None,
                 device) -> TaskModel:
    """The target view with the fine-tuned shared parameters and the task head swapped in."""
    encoder = load_encoder(target_dir).to(device)
    swap_shared(tuned.encoder, encoder, read_separate(separate_path, encoder), rows)
    return TaskModel(encoder, tuned.head)


def finetune_transfer(task: str, spec: dict, data_dir: str | Path, run_dir: str | Path, target: str,
                      out_path: str | Path, source: str = "en", maps: dict[str, str] | None = None,
                      top_k: int = 2, device: str = "auto", threads: int | None = None) -> dict:
    """Run the whole protocol for (task, run) and write its JSON summary atomically to `out_path`."""
    started = time.time()
    if threads:
        torch.set_num_threads(threads)
    device = resolve_device(device)
    kind = check_spec(spec, task)
    run_dir, data_dir = Path(run_dir), Path(data_dir)
    sharing = run_dir / "sharing.json"
    rows = None
    if maps:
        rows = shared_rows(np.load(maps[source]), np.load(maps[target]))
    examples = {"train": read_examples(example_path(data_dir, source, "train"), kind),
                "dev": read_examples(example_path(data_dir, source, "dev"), kind),
                "test": read_examples(example_path(data_dir, target, "test"), kind)}
    labels = label_set(kind, examples["train"])
    source_tok, target_tok = load_tokenizer(run_dir / source), load_tokenizer(run_dir / target)
    spec = {**spec, "max_length": max_length_of(run_dir / source, spec["max_length"])}
    source_pieces, target_pieces = Pieces(source_tok), Pieces(target_tok)
    enc = {"train": encode(examples["train"], kind, source_pieces, labels, spec["max_length"]),
           "dev": encode(examples["dev"], kind, source_pieces, labels, spec["max_length"]),
           "test": encode(examples["test"], kind, target_pieces, labels, spec["max_length"])}
    if kind != "pair":  # a sentence whose first word alone exceeds max_length has nothing to learn from
        enc["train"] = [e for e in enc["train"] if e["first"]]
    data = TrainData(kind, enc["train"], enc["dev"], examples["dev"], source_tok.pad_token_id)
    results, tuned = [], {}
    for setting in settings(spec):
        runs = []
        for seed in spec["seeds"]:
            rng = seed_everything(int(seed))
            model = source_model(kind, spec, labels, run_dir / source, sharing)
            model, record = train_setting(model, data, {**spec, **setting}, rng, device,
                                          f"{task} {run_dir.name} {setting['id']} s{seed}")
            tuned[setting["id"], seed] = model.cpu()      # tested only if selected: keep it off the GPU meanwhile
            runs.append({"seed": int(seed), **record})
        results.append({**setting, "runs": runs, "dev": float(np.mean([r["dev"][METRIC[kind]] for r in runs]))})
    ranked = select_top_k(results, top_k)
    for setting in ranked:      # selection used English dev only; only the selected settings see the test set
        for record in setting["runs"]:
            desc = f"{task} {run_dir.name} {setting['id']} s{record['seed']}"
            tested = target_model(tuned[setting["id"], record["seed"]].to(device), run_dir / target, sharing, rows,
                                  device)
            record["test"] = score(kind, examples["test"], predict(tested, enc["test"], spec["eval_batch_size"],
                                                                   target_tok.pad_token_id, device, f"{desc} test"))
        setting["test"] = float(np.mean([r["test"][METRIC[kind]] for r in setting["runs"]]))
    summary = {
        "task": task, "run": run_dir.name, "kind": kind, "metric": METRIC[kind], "source": source, "target": target,
        "dev": float(np.mean([r["dev"] for r in ranked])), "test": float(np.mean([r["test"] for r in ranked])),
        "selected": [r["id"] for r in ranked], "top_k": top_k, "seeds": list(spec["seeds"]),
        "settings": results, "labels": labels, "baseline": baseline(kind, examples["test"]),
        "examples": {k: len(v) for k, v in examples.items()},
        "cut_words": {k: sum(e["n_words"] - len(e["first"]) for e in v) for k, v in enc.items() if kind != "pair"},
        "config": spec, "device": str(device), "seconds": round(time.time() - started, 1),
    }
    write_json(out_path, summary)
    return summary
