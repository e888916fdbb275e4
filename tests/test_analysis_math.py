"""Core math of the similarity analyses: normalisation, Procrustes, CSLS, CKA, retrieval P@1."""
import math

import pytest
import torch
import torch.nn.functional as F

from xstruct.analysis.align import (
    IterNorm,
    csls,
    fit_map,
    iterative_normalize,
    knn_mean_similarity,
    nearest,
    procrustes,
)
from xstruct.analysis.cka import linear_cka
from xstruct.analysis.nn_precision import precision_at_1, retrieval_p_at_1


def random_rotation(d, gen):
    q, r = torch.linalg.qr(torch.randn(d, d, generator=gen, dtype=torch.float64))
    return (q * torch.sign(torch.diagonal(r))).float()


def test_procrustes_recovers_planted_rotation():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(500, 32, generator=gen)
    R = random_rotation(32, gen)
    y = x @ R + 0.01 * torch.randn(500, 32, generator=gen)
    W = procrustes(x, y)
    assert torch.allclose(W @ W.T, torch.eye(32), atol=1e-5)
    assert (W - R).abs().max() < 0.01
    assert (W - torch.eye(32)).abs().max() > 0.1  # the planted map is far from identity


def test_iterative_normalisation_converges_to_unit_length_zero_mean():
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(1000, 16, generator=gen) * torch.linspace(0.1, 5, 16) + 3.0  # anisotropic, off-centre
    once = iterative_normalize(x, 1)
    many = iterative_normalize(x, 20)
    assert many.mean(0).abs().max() < 1e-6
    assert (many.norm(dim=1) - 1).abs().max() < 1e-3
    assert (once.norm(dim=1) - 1).abs().max() > (many.norm(dim=1) - 1).abs().max()
    # the fitted statistics transform the same sample identically
    norm = IterNorm.fit(x, 20)
    assert torch.allclose(norm.apply(x), many)


def csls_brute_force(q, y, k, pool):
    q, y, pool = F.normalize(q, dim=1), F.normalize(y, dim=1), F.normalize(pool, dim=1)
    out = torch.empty(len(q), len(y))
    for i in range(len(q)):
        r_q = sum(sorted((float(q[i] @ y[j]) for j in range(len(y))), reverse=True)[:k]) / k
        for j in range(len(y)):
            r_y = sum(sorted((float(y[j] @ pool[m]) for m in range(len(pool))), reverse=True)[:k]) / k
            out[i, j] = 2 * float(q[i] @ y[j]) - r_q - r_y
    return out


def test_csls_equals_brute_force_and_blocked_search():
    gen = torch.Generator().manual_seed(2)
    q, y, pool = torch.randn(12, 6, generator=gen), torch.randn(15, 6, generator=gen), torch.randn(20, 6, generator=gen)
    full = csls(q, y, k=3, query_pool=pool)
    assert torch.allclose(full, csls_brute_force(q, y, 3, pool), atol=1e-5)
    assert torch.equal(nearest(q, y, "csls", k=3, block=5, query_pool=pool), full.argmax(1))
    # CSLS penalises hubs: its choice differs from plain cosine somewhere on random data
    big_q, big_y = torch.randn(300, 8, generator=gen), torch.randn(300, 8, generator=gen)
    assert not torch.equal(nearest(big_q, big_y, "csls", k=10), nearest(big_q, big_y, "cosine"))
    assert torch.allclose(knn_mean_similarity(q, y, 100), (F.normalize(q, dim=1) @ F.normalize(y, dim=1).T).mean(1))


def test_retrieval_p_at_1():
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(257, 16, generator=gen)
    assert retrieval_p_at_1(x, x, block=50) == 1.0
    perm = torch.randperm(257, generator=gen)
    assert retrieval_p_at_1(x, x[perm], gold=torch.argsort(perm), block=64) == 1.0
    assert retrieval_p_at_1(x, x[perm], block=64) < 0.05
    assert precision_at_1(torch.tensor([0, 2, 1]), [{0, 5}, {1}, {1}]) == pytest.approx(2 / 3)


def test_fit_map_aligns_rotated_space_and_maps_back_to_raw_target():
    gen = torch.Generator().manual_seed(4)
    x = torch.randn(400, 24, generator=gen) * 2 + 1
    R = random_rotation(24, gen)
    y = x @ R * 0.5 + 4.0     # rotation, scaling and shift
    m = fit_map(x[:300], y[:300], iters=5)
    assert retrieval_p_at_1(m.shared(x[300:]), m.target(y[300:])) == 1.0
    raw = m.to_target(x[300:])
    assert (raw.mean(0) - y[300:].mean(0)).abs().max() < 0.5


def test_cka_invariances_and_equality_with_gram_form():
    gen = torch.Generator().manual_seed(5)
    x = torch.randn(300, 20, generator=gen)
    Q = random_rotation(20, gen)
    for debiased in (False, True):
        assert linear_cka(x, 3.7 * x @ Q, debiased) == pytest.approx(1.0, abs=1e-6)
    y = x[:, :10] @ torch.randn(10, 12, generator=gen) + torch.randn(300, 12, generator=gen)
    xc, yc = x.double() - x.double().mean(0), y.double() - y.double().mean(0)
    K, L = xc @ xc.T, yc @ yc.T
    gram = float((K * L).sum() / math.sqrt(float((K * K).sum()) * float((L * L).sum())))
    assert linear_cka(x, y) == pytest.approx(gram, abs=1e-9)
    assert 0.05 < linear_cka(x, y) < 0.95


def hsic1_brute_force(K, L):
    n = K.shape[0]
    K, L = K - torch.diag(torch.diag(K)), L - torch.diag(torch.diag(L))
    one = torch.ones(n, dtype=K.dtype)
    return (torch.trace(K @ L) + (one @ K @ one) * (one @ L @ one) / ((n - 1) * (n - 2))
            - 2 / (n - 2) * (one @ K @ L @ one)) / (n * (n - 3))


def test_debiased_cka_matches_gram_estimator_and_removes_bias():
    gen = torch.Generator().manual_seed(6)
    x, y = torch.randn(60, 30, generator=gen), torch.randn(60, 40, generator=gen)
    xc, yc = x.double() - x.double().mean(0), y.double() - y.double().mean(0)
    K, L = xc @ xc.T, yc @ yc.T
    expected = hsic1_brute_force(K, L) / torch.sqrt(hsic1_brute_force(K, K) * hsic1_brute_force(L, L))
    assert linear_cka(x, y, debiased=True) == pytest.approx(float(expected), abs=1e-9)
    # independent Gaussians: the biased estimate is far from 0 at n ~ d, the debiased one is not
    x, y = torch.randn(200, 100, generator=gen), torch.randn(200, 100, generator=gen)
    assert linear_cka(x, y) > 0.3
    assert abs(linear_cka(x, y, debiased=True)) < 0.03
