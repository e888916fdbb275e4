"""MLM data: fixed-length streams cut from token-id arrays, one language per batch, and BERT masking.

Streams are continuous windows of a language's memmapped global-id array (lines already end in [SEP]), so there
is no padding. Each epoch of a language visits its windows in a fresh random order from a fresh random offset.
The sampler's whole state is a few integers plus two generator states, so a checkpoint resumes it exactly.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .model import MASK_ID, N_SPECIALS


@dataclass(frozen=True)
class MaskConfig:
    rate: float = 0.15            # share of positions predicted
    split: tuple = (0.8, 0.1, 0.1)  # of those: [MASK], random token, unchanged


REBUILD = "delete it and rerun Snakemake to rebuild it"


def load_ids(path: str | Path) -> np.ndarray:
    """A memory-mapped token-id array; any damage is one line naming the file and what to do."""
    try:
        arr = np.load(path, mmap_mode="r")
    except FileNotFoundError:
        raise ValueError(f"{path}: token-id array missing; rerun Snakemake to build it") from None
    except (ValueError, OSError, EOFError) as err:
        why = " ".join(str(err).split())[:80]
        raise ValueError(f"{path}: not a readable token-id array ({type(err).__name__}: {why}); "
                         f"{REBUILD}") from None
    if arr.ndim != 1 or arr.dtype.kind not in "iu":
        raise ValueError(f"{path}: expected a 1-D integer array of token ids, got {arr.dtype} {arr.shape}; {REBUILD}")
    return arr


def global_to_local(local_to_global: np.ndarray, global_size: int) -> np.ndarray:
    """Inverse of a vocab's ids/{lang}.map.npy: global id -> local id, -1 where the language has no such piece."""
    inv = np.full(global_size, -1, dtype=np.int64)
    inv[local_to_global] = np.arange(len(local_to_global))
    return inv


def sampling_probs(n_lines: dict[str, int], alpha: float) -> dict[str, float]:
    """XLM language sampling: p(l) proportional to (share of sentences of l) ** alpha."""
    total = sum(n_lines.values())
    w = {l: (n / total) ** alpha for l, n in n_lines.items()}
    z = sum(w.values())
    return {l: x / z for l, x in w.items()}


class StreamSampler:
    """Batches (lang, windows) of `batch_size` windows of `window` tokens from one language's arrays.

    `lang_seed` draws the language of each batch (the same on every DDP rank, so all ranks use the same
    language-specific parameters in a step); `seed` draws everything else (different per rank).
    """

    def __init__(self, arrays: dict[str, list[np.ndarray]], probs: dict[str, float], seq_len: int,
                 batch_size: int, seed: int, lang_seed: int, window: int | None = None):
        self.arrays, self.seq_len, self.batch_size = arrays, seq_len, batch_size
        self.window = window or seq_len
        self.langs = list(arrays)
        self.probs = np.array([probs[l] for l in self.langs])
        self.seed = seed
        self.lang_rng = np.random.default_rng(lang_seed)
        self.pos = {l: {"epoch": 0, "cursor": 0} for l in self.langs}
        self._order: dict[str, tuple[int, np.ndarray]] = {}
        for l in self.langs:
            if len(self._starts(l, 0)) < batch_size:
                n = sum(len(a) for a in arrays[l])
                raise ValueError(f"language {l!r}: {n} tokens give fewer than batch_size={batch_size} "
                                 f"windows of {self.window} tokens")

    def _starts(self, lang: str, epoch: int) -> np.ndarray:
        """(part, offset) of every window of an epoch, shuffled; a function of (seed, lang, epoch) only."""
        if lang in self._order and self._order[lang][0] == epoch:
            return self._order[lang][1]
        rng = np.random.default_rng([self.seed, self.langs.index(lang), epoch])
        shift = int(rng.integers(self.seq_len)) if epoch else 0
        starts = [np.stack([np.full(n, p), shift + self.seq_len * np.arange(n)], axis=1)
                  for p, a in enumerate(self.arrays[lang]) if (n := (len(a) - shift - self.window) // self.seq_len + 1) > 0]
        order = np.concatenate(starts)[rng.permutation(sum(len(s) for s in starts))]
        self._order[lang] = (epoch, order)
        return order

    def next(self) -> tuple[str, list[np.ndarray]]:
        lang = self.langs[self.lang_rng.choice(len(self.langs), p=self.probs)]
        pos = self.pos[lang]
        order = self._starts(lang, pos["epoch"])
        if pos["cursor"] + self.batch_size > len(order):
            pos["epoch"], pos["cursor"] = pos["epoch"] + 1, 0
            order = self._starts(lang, pos["epoch"])
        picks = order[pos["cursor"]:pos["cursor"] + self.batch_size]
        pos["cursor"] += self.batch_size
        return lang, [np.asarray(self.arrays[lang][p][o:o + self.window], dtype=np.int64) for p, o in picks]

    def state_dict(self) -> dict:
        return {"lang_rng": self.lang_rng.bit_generator.state, "pos": {l: dict(p) for l, p in self.pos.items()}}

    def load_state_dict(self, state: dict) -> None:
        self.lang_rng.bit_generator.state = state["lang_rng"]
        self.pos = {l: dict(p) for l, p in state["pos"].items()}


def unigram_log_probs(ids: list[np.ndarray], size: int) -> torch.Tensor:
    """Add-one smoothed log-probability of each of `size` ids in the given id arrays: the unigram model whose
    loss an MLM matches before it learns to use context (its plateau)."""
    counts = sum(np.bincount(a, minlength=size) for a in ids) + 1
    return torch.from_numpy(np.log(counts / counts.sum()))


def left_plateau(masked_acc: float, most_frequent_acc: float) -> bool:
    """Whether an MLM has left the unigram plateau: with every predicted position of held-out text masked, it gets
    at least twice as many right as always answering the most frequent piece (what a model that ignores context
    does). The one definition the recipe's metrics, the report and bench/plateau.py use."""
    return masked_acc >= 2 * most_frequent_acc


def valid_windows(arr: np.ndarray, seq_len: int, max_tokens: int, name: str = "validation array") -> np.ndarray:
    """Consecutive non-overlapping windows from the start of a validation array, at most `max_tokens` tokens."""
    n = min(len(arr), max_tokens) // seq_len
    if n == 0:
        raise ValueError(f"{name}: {len(arr)} tokens, shorter than one stream of {seq_len} (pretrain.seq_len); the "
                         f"validation text is too short: raise the corpus's valid_fraction")
    return np.asarray(arr[:n * seq_len], dtype=np.int64).reshape(n, seq_len)


def mask_tokens(ids: torch.Tensor, cfg: MaskConfig, replacements: torch.Tensor, gen: torch.Generator
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """BERT masking of a CPU batch (B, S) of ids: returns (inputs, positions (N,), targets (N,)).

    Exactly N = round(rate * B * S) positions are predicted (static shapes for the sparse head and torch.compile),
    drawn uniformly among non-special tokens; `positions` are sorted flat indices into B * S. Specials are never
    predicted nor used as random replacements: `replacements` holds the ids a random token is drawn from (the
    same language's vocabulary when embeddings are separate, else the whole vocabulary).
    """
    flat = ids.view(-1)
    special = flat < N_SPECIALS
    n = round(cfg.rate * flat.numel())
    if n > flat.numel() - int(special.sum()):
        raise ValueError(f"a batch has {int(special.sum())} special tokens of {flat.numel()}: too few left to "
                         f"predict {n} (rate {cfg.rate})")
    scores = torch.rand(flat.shape, generator=gen).masked_fill_(special, -1.0)
    positions = scores.topk(n).indices.sort().values
    targets = flat[positions]
    u = torch.rand(n, generator=gen)
    rand_ids = replacements[torch.randint(len(replacements), (n,), generator=gen)]
    p_mask, p_rand = cfg.split[0], cfg.split[0] + cfg.split[1]
    new = torch.where(u < p_mask, torch.full_like(targets, MASK_ID), torch.where(u < p_rand, rand_ids, targets))
    inputs = flat.clone()
    inputs[positions] = new
    return inputs.view(ids.shape), positions, targets
