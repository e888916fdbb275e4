"""Precision@1 of nearest-neighbour retrieval (cosine or CSLS), computed in blocks by `align.nearest`."""
from __future__ import annotations

from collections.abc import Sequence

import torch

from .align import nearest


def precision_at_1(pred: torch.Tensor, gold: Sequence[set[int]] | torch.Tensor | None = None) -> float:
    """Share of queries whose top-1 key is gold; gold is a set of correct keys per query, one key per query,
    or None for 'query i matches key i' (parallel sentences)."""
    if len(pred) == 0:
        raise ValueError("precision_at_1: no queries")
    if gold is None:
        gold = torch.arange(len(pred))
    if isinstance(gold, torch.Tensor):
        return (pred == gold).float().mean().item()
    if len(gold) != len(pred):
        raise ValueError(f"precision_at_1: {len(pred)} predictions but {len(gold)} gold entries")
    return sum(int(p) in g for p, g in zip(pred.tolist(), gold)) / len(pred)


def retrieval_p_at_1(queries, keys, gold=None, method: str = "cosine", k: int = 10, block: int = 4096,
                     query_pool=None) -> float:
    return precision_at_1(nearest(queries, keys, method, k, block, query_pool), gold)
