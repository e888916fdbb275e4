"""Linear CKA (Kornblith et al., 2019) computed in feature space: O(n d^2) time, O(d^2) memory, never n x n.

`debiased=True` replaces HSIC by the unbiased estimator HSIC_1 of Song et al. (2012), also evaluated from the
feature side (row norms and column sums), which removes the positive bias of CKA at small n / large d.
"""
from __future__ import annotations

import torch

from .align import as_tensor


def _centre(x) -> torch.Tensor:
    x = as_tensor(x, torch.float64)  # float64: fp32 centring/products drift visibly at n ~ 10k
    return x - x.mean(0, keepdim=True)


def _hsic_unbiased(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """HSIC_1 with linear kernels K = x x^T, L = y y^T (diagonals zeroed), up to the common 1/(n(n-3)):
    tr(K~L~) + (1'K~1)(1'L~1)/((n-1)(n-2)) - 2/(n-2) (K~1).(L~1), each term from the feature side."""
    n = x.shape[0]
    kd, ld = (x * x).sum(1), (y * y).sum(1)                 # diagonals of K and L
    trace = (x.T @ y).square().sum() - (kd * ld).sum()
    k1 = x @ x.sum(0) - kd                                    # K~ 1
    l1 = y @ y.sum(0) - ld
    return trace + k1.sum() * l1.sum() / ((n - 1) * (n - 2)) - 2 / (n - 2) * (k1 @ l1)


def linear_cka(x, y, debiased: bool = False) -> float:
    """CKA(X, Y) = ||Yc^T Xc||_F^2 / (||Xc^T Xc||_F ||Yc^T Yc||_F) on column-centred rows-paired features."""
    x, y = _centre(x), _centre(y)
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"linear_cka: {x.shape[0]} rows in X but {y.shape[0]} in Y; rows must be paired")
    if debiased:
        if x.shape[0] < 4:
            raise ValueError(f"linear_cka: the debiased estimator needs at least 4 rows, got {x.shape[0]}")
        xy, xx, yy = _hsic_unbiased(x, y), _hsic_unbiased(x, x), _hsic_unbiased(y, y)
    else:
        xy, xx, yy = (x.T @ y).square().sum(), (x.T @ x).square().sum(), (y.T @ y).square().sum()
    return (xy / (xx.sqrt() * yy.sqrt())).item()
