"""Mapping two vector spaces onto each other: iterative normalisation, orthogonal Procrustes, CSLS/cosine search.

Rows are vectors. Everything runs in torch; search is done in row blocks so that no query x key matrix larger
than `block` x n_keys is ever held.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


def as_tensor(x, dtype=torch.float32) -> torch.Tensor:
    return x.to(dtype) if isinstance(x, torch.Tensor) else torch.as_tensor(x, dtype=dtype)


@dataclass
class IterNorm:
    """Iterative normalisation (Zhang et al., 2019): unit length then mean centring, repeated.

    `means[t]` is the mean removed at round t, so the transform fitted on one sample can be applied to others.
    """
    means: torch.Tensor  # (iters, d)

    @classmethod
    def fit(cls, x, iters: int) -> IterNorm:
        x = as_tensor(x, torch.float64)
        means = []
        for _ in range(iters):
            x = F.normalize(x, dim=1)
            means.append(x.mean(0))
            x = x - means[-1]
        return cls(torch.stack(means) if means else x.new_zeros(0, x.shape[1]))

    def apply(self, x) -> torch.Tensor:
        x = as_tensor(x, torch.float64)
        for mean in self.means:
            x = F.normalize(x, dim=1) - mean
        return x.float()


def iterative_normalize(x, iters: int) -> torch.Tensor:
    """Normalise a sample with statistics of the sample itself."""
    return IterNorm.fit(x, iters).apply(x)


def procrustes(x, y) -> torch.Tensor:
    """Orthogonal W minimising ||x W - y||_F for paired rows (Schönemann 1966): W = U V^T, U S V^T = svd(x^T y)."""
    x, y = as_tensor(x, torch.float64), as_tensor(y, torch.float64)
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"procrustes: {x.shape[0]} source rows but {y.shape[0]} target rows; rows must be paired")
    u, _, vh = torch.linalg.svd(x.T @ y, full_matrices=False)
    return (u @ vh).float()


@dataclass
class Map:
    """A learnt map from a source space to a target space.

    `shared(x)` puts source vectors into the normalised target space (compare there with `tgt_norm.apply(y)`);
    `to_target(x)` goes on to the raw target space (target mean and average norm restored), which is what a
    model trained on raw target-side hidden states expects.
    """
    src_norm: IterNorm
    tgt_norm: IterNorm
    W: torch.Tensor           # (d_src, d_tgt)
    tgt_mean: torch.Tensor    # (d_tgt,)
    tgt_scale: float          # mean norm of centred raw target vectors

    def shared(self, x) -> torch.Tensor:
        return self.src_norm.apply(x) @ self.W

    def target(self, y) -> torch.Tensor:
        return self.tgt_norm.apply(y)

    def to_target(self, x) -> torch.Tensor:
        return F.normalize(self.shared(x), dim=-1) * self.tgt_scale + self.tgt_mean

    def state(self) -> dict:
        return {"src_means": self.src_norm.means, "tgt_means": self.tgt_norm.means, "W": self.W,
                "tgt_mean": self.tgt_mean, "tgt_scale": self.tgt_scale}

    @classmethod
    def from_state(cls, s: dict) -> Map:
        return cls(IterNorm(s["src_means"]), IterNorm(s["tgt_means"]), s["W"], s["tgt_mean"], float(s["tgt_scale"]))


def fit_map(x_pairs, y_pairs, iters: int, x_fit=None, y_fit=None) -> Map:
    """Procrustes between normalised paired rows; normalisation statistics come from x_fit / y_fit (default:
    the paired rows themselves), e.g. a whole vocabulary when only a dictionary's words are paired."""
    x_fit = x_pairs if x_fit is None else x_fit
    y_fit = y_pairs if y_fit is None else y_fit
    src, tgt = IterNorm.fit(x_fit, iters), IterNorm.fit(y_fit, iters)
    W = procrustes(src.apply(x_pairs), tgt.apply(y_pairs))
    y_raw = as_tensor(y_fit, torch.float64)
    mean = y_raw.mean(0)
    scale = (y_raw - mean).norm(dim=1).mean().item()
    return Map(src, tgt, W, mean.float(), scale)


def _blocks(n: int, block: int):
    for start in range(0, n, block):
        yield slice(start, min(start + block, n))


def knn_mean_similarity(a, b, k: int, block: int = 4096) -> torch.Tensor:
    """For each row of a, the mean cosine similarity to its k nearest rows of b (CSLS's r term)."""
    a, b = F.normalize(as_tensor(a), dim=1), F.normalize(as_tensor(b), dim=1)
    k = min(k, b.shape[0])
    out = torch.empty(a.shape[0])
    for s in _blocks(a.shape[0], block):
        out[s] = (a[s] @ b.T).topk(k, dim=1).values.mean(1)
    return out


def csls(queries, keys, k: int = 10, query_pool=None) -> torch.Tensor:
    """Full CSLS matrix (Conneau et al., 2018): 2 cos(q, y) - r_K(q) - r_Q(y), where r_K(q) is q's mean
    similarity to its k nearest keys and r_Q(y) is y's mean similarity to its k nearest vectors of the query
    pool (all mapped source vectors; default the queries). For small inputs and tests; search uses `nearest`."""
    q, y = F.normalize(as_tensor(queries), dim=1), F.normalize(as_tensor(keys), dim=1)
    pool = q if query_pool is None else query_pool
    return 2 * q @ y.T - knn_mean_similarity(q, y, k)[:, None] - knn_mean_similarity(y, pool, k)[None, :]


def nearest(queries, keys, method: str = "cosine", k: int = 10, block: int = 4096, query_pool=None) -> torch.Tensor:
    """Index of the best key for every query, by cosine or CSLS, one (block x n_keys) matmul per block."""
    if method not in ("cosine", "csls"):
        raise ValueError(f"nearest: method {method!r} must be 'cosine' or 'csls'")
    q, y = F.normalize(as_tensor(queries), dim=1), F.normalize(as_tensor(keys), dim=1)
    if q.shape[1] != y.shape[1]:
        raise ValueError(f"nearest: queries have dimension {q.shape[1]}, keys {y.shape[1]}")
    # r_K(q) is constant along a query's row, so it does not change the argmax and is skipped here.
    penalty = knn_mean_similarity(y, q if query_pool is None else query_pool, k, block) if method == "csls" else None
    out = torch.empty(q.shape[0], dtype=torch.long)
    for s in _blocks(q.shape[0], block):
        scores = q[s] @ y.T
        if penalty is not None:
            scores = 2 * scores - penalty[None, :]
        out[s] = scores.argmax(1)
    return out
