"""Maximum spanning tree decoding for dependency parsing (Chu-Liu-Edmonds, UFAL's TurboParser implementation).

UD trees have exactly one word attached to the artificial root. Chu-Liu-Edmonds alone may attach several, so
every root edge is lowered by a constant larger than any difference between two trees' scores: then every
multi-root tree scores below every single-root tree, and the best single-root tree is returned exactly.
"""
from __future__ import annotations

import numpy as np
from ufal.chu_liu_edmonds import chu_liu_edmonds


def decode_tree(scores: np.ndarray) -> list[int]:
    """scores[d, h] = score of word d (1..n) taking head h (0 = root); row 0 and the diagonal are ignored.
    Returns the heads of words 1..n of the best single-root tree."""
    scores = np.array(scores, dtype=np.float64)
    n = scores.shape[0] - 1
    if scores.shape != (n + 1, n + 1) or n < 1:
        raise ValueError(f"decode_tree needs an (n+1)x(n+1) score matrix with n >= 1; got {scores.shape}")
    if n == 1:
        return [0]
    finite = scores[1:][np.isfinite(scores[1:])]
    penalty = n * (float(finite.max() - finite.min()) + 1.0)
    scores[1:, 0] -= penalty
    scores[0, :] = np.nan
    np.fill_diagonal(scores, np.nan)
    heads, _ = chu_liu_edmonds(scores)
    return [int(h) for h in heads[1:]]
