"""Prepared examples -> piece ids, and length-bucketed batches of padded tensors.

Inputs are `[CLS] a [SEP] b [SEP]` for pairs and `[CLS] w1 ... wn [SEP]` for words, with the special ids taken
from the tokenizer (fixed across this project's views). Word tasks read the first piece of each word; words that
do not fit in `max_length` are cut and scored as errors (never silently dropped from the denominator).
"""
from __future__ import annotations

import numpy as np
import torch

from xstruct.tasks.metrics import universal

IGNORE = -100  # label of positions the loss skips


class Pieces:
    """Piece ids of words, each distinct word tokenised once; a word with no piece becomes [UNK]."""

    def __init__(self, tokenizer):
        self.tok = tokenizer
        self.cache: dict[str, list[int]] = {}
        for name in ("cls_token_id", "sep_token_id", "pad_token_id", "unk_token_id"):
            if getattr(tokenizer, name, None) is None:
                raise ValueError(f"tokenizer {getattr(tokenizer, 'name_or_path', '?')} has no {name[:-3]}")

    def words(self, words: list[str]) -> list[list[int]]:
        new = [w for w in dict.fromkeys(words) if w not in self.cache]
        if new:
            for w, ids in zip(new, self.tok(new, add_special_tokens=False)["input_ids"]):
                self.cache[w] = list(ids) or [self.tok.unk_token_id]
        return [self.cache[w] for w in words]

    def texts(self, texts: list[str]) -> list[list[int]]:
        return [list(ids) or [self.tok.unk_token_id] for ids in self.tok(texts, add_special_tokens=False)["input_ids"]]


def encode(examples: list[dict], kind: str, pieces: Pieces, labels: list[str], max_length: int) -> list[dict]:
    """Encoded examples: {"ids", "label"} for pairs; {"ids", "first", "n_words", + targets} for word tasks."""
    index = {l: i for i, l in enumerate(labels)}
    cls, sep = pieces.tok.cls_token_id, pieces.tok.sep_token_id
    if kind == "pair":
        out = []
        firsts, seconds = pieces.texts([e["a"] for e in examples]), pieces.texts([e["b"] for e in examples])
        for ex, a, b in zip(examples, firsts, seconds):
            while len(a) + len(b) + 3 > max_length:  # drop from the end of the longer side
                (a if len(a) >= len(b) else b).pop()
            out.append({"ids": [cls, *a, sep, *b, sep], "label": index.get(ex["label"], IGNORE)})
        return out
    out = []
    for ex in examples:
        ids, first = [cls], []
        for p in pieces.words(ex["words"]):
            if len(ids) + len(p) + 1 > max_length:
                break
            first.append(len(ids))
            ids += p
        ids.append(sep)
        enc = {"ids": ids, "first": first, "n_words": len(ex["words"])}
        kept = len(first)
        if kind == "tag":
            enc["tags"] = [index.get(t, IGNORE) for t in ex["tags"][:kept]]
        else:
            # a head outside the kept words cannot be predicted: it is left out of the loss
            enc["heads"] = [h if h <= kept else IGNORE for h in ex["heads"][:kept]]
            enc["rels"] = [index.get(universal(r), IGNORE) if h <= kept else IGNORE
                           for h, r in zip(ex["heads"][:kept], ex["deprels"][:kept])]
        out.append(enc)
    return out


def collate(batch: list[dict], pad_id: int) -> dict[str, torch.Tensor]:
    n, t = len(batch), max(len(e["ids"]) for e in batch)
    ids = torch.full((n, t), pad_id, dtype=torch.long)
    mask = torch.zeros((n, t), dtype=torch.long)
    for i, e in enumerate(batch):
        ids[i, : len(e["ids"])] = torch.tensor(e["ids"])
        mask[i, : len(e["ids"])] = 1
    out = {"ids": ids, "mask": mask}
    if "label" in batch[0]:
        out["label"] = torch.tensor([e["label"] for e in batch])
        return out
    w = max(1, max(len(e["first"]) for e in batch))
    out["first"] = torch.zeros((n, w), dtype=torch.long)
    out["word_mask"] = torch.zeros((n, w), dtype=torch.bool)
    for key in ("tags", "heads", "rels"):
        if key in batch[0]:
            out[key] = torch.full((n, w), IGNORE, dtype=torch.long)
    for i, e in enumerate(batch):
        k = len(e["first"])
        out["first"][i, :k] = torch.tensor(e["first"], dtype=torch.long)
        out["word_mask"][i, :k] = True
        for key in ("tags", "heads", "rels"):
            if key in e:
                out[key][i, :k] = torch.tensor(e[key], dtype=torch.long)
    return out


def train_batches(lengths: list[int], batch_size: int, pool: int, rng: np.random.Generator):
    """Endless length-bucketed batches: each pass shuffles the examples, sorts every pool of `pool` batches'
    worth by length, cuts it into batches and shuffles the batch order."""
    n = len(lengths)
    while True:
        order = rng.permutation(n)
        batches = []
        for start in range(0, n, pool * batch_size):
            chunk = sorted(order[start:start + pool * batch_size].tolist(), key=lambda i: lengths[i])
            batches += [chunk[j:j + batch_size] for j in range(0, len(chunk), batch_size)]
        for i in rng.permutation(len(batches)):
            yield batches[i]


def eval_batches(lengths: list[int], batch_size: int) -> list[list[int]]:
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    return [order[j:j + batch_size] for j in range(0, len(order), batch_size)]
