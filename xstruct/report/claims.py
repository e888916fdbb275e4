"""Each of the paper's claims as a check on this run's numbers; thresholds live in xstruct/data/claims.yaml.

A check returns (status, numbers): status is HOLDS, FAILS or NOT_MEASURED (a number it needs is missing), and
numbers is the text of the values it compared, so a reader can recheck the verdict by hand.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources

import numpy as np
import pandas as pd
import yaml

HOLDS, FAILS, NOT_MEASURED = "holds", "does not hold", "not measured"


class Missing(Exception):
    """A number the check needs was not produced by this run."""


@dataclass
class Evidence:
    """What claims are checked on. transfer: percent scores by (role, condition, target);
    analysis: per-layer tables by name (cka, retrieval, correlation, bli, alignment)."""
    transfer: dict[tuple[str, str, str], float] = field(default_factory=dict)
    chance: dict[str, float] = field(default_factory=dict)
    analysis: dict[str, pd.DataFrame] = field(default_factory=dict)

    def score(self, role: str, condition: str, lang: str) -> float:
        v = self.transfer.get((role, condition, lang))
        if v is None or np.isnan(v):
            raise Missing(f"{role}/{condition}/{lang}")
        return v

    def langs(self, role: str, condition: str) -> list[str]:
        langs = sorted(l for r, c, l in self.transfer if r == role and c == condition)
        if not langs:
            raise Missing(f"{role}/{condition}")
        return langs

    def mean(self, role: str, condition: str) -> float:
        return float(np.mean([self.score(role, condition, l) for l in self.langs(role, condition)]))

    def delta(self, role: str, condition: str) -> float:
        return self.mean(role, condition) - self.mean(role, "default")

    def roles(self, wanted: list[str]) -> list[str]:
        have = [r for r in wanted if any(k[0] == r for k in self.transfer)]
        if not have:
            raise Missing(f"tasks {', '.join(wanted)}")
        return have

    def table(self, name: str) -> pd.DataFrame:
        if name not in self.analysis or self.analysis[name].empty:
            raise Missing(name)
        return self.analysis[name]


def _verdict(ok: bool, parts: list[str]):
    return (HOLDS if ok else FAILS), "; ".join(parts)


def delta_at_least(ev: Evidence, condition: str, roles: list[str], min: float):
    d = {r: ev.delta(r, condition) for r in ev.roles(roles)}
    return _verdict(all(v >= min for v in d.values()), [f"Δ {r} {v:+.1f} (≥ {min:+.1f})" for r, v in d.items()])


def delta_at_most(ev: Evidence, condition: str, roles: list[str], max: float):
    d = {r: ev.delta(r, condition) for r in ev.roles(roles)}
    return _verdict(all(v <= max for v in d.values()), [f"Δ {r} {v:+.1f} (≤ {max:+.1f})" for r, v in d.items()])


def delta_order(ev: Evidence, condition: str, lower: str, higher: str):
    lo, hi = ev.delta(lower, condition), ev.delta(higher, condition)
    return _verdict(lo < hi, [f"Δ {lower} {lo:+.1f} < Δ {higher} {hi:+.1f}"])


def close(ev: Evidence, a: str, b: str, roles: list[str], tol: float):
    d = {r: ev.mean(r, a) - ev.mean(r, b) for r in ev.roles(roles)}
    return _verdict(all(abs(v) <= tol for v in d.values()), [f"{r}: {a} − {b} = {v:+.1f}" for r, v in d.items()])


def less(ev: Evidence, a: str, b: str, roles: list[str]):
    m = {r: (ev.mean(r, a), ev.mean(r, b)) for r in ev.roles(roles)}
    return _verdict(all(x < y for x, y in m.values()), [f"{r}: {x:.1f} < {y:.1f}" for r, (x, y) in m.items()])


def best(ev: Evidence, condition: str, roles: list[str]):
    parts, ok = [], True
    for r in ev.roles(roles):
        conds = sorted({c for rr, c, _ in ev.transfer if rr == r})
        if condition not in conds:
            raise Missing(f"{r}/{condition}")
        means = {c: ev.mean(r, c) for c in conds}
        top = max(means, key=means.get)
        ok &= top == condition
        parts.append(f"{r}: {condition} {means[condition]:.1f}, best {top} {means[top]:.1f}")
    return _verdict(ok, parts)


def gain_larger(ev: Evidence, a: str, b: str, roles: list[str], larger: str, smaller: str):
    parts, ok = [], True
    for r in ev.roles(roles):
        g_hi = ev.score(r, a, larger) - ev.score(r, b, larger)
        g_lo = ev.score(r, a, smaller) - ev.score(r, b, smaller)
        ok &= g_hi > g_lo
        parts.append(f"{r}: gain en-{larger} {g_hi:+.1f} vs en-{smaller} {g_lo:+.1f}")
    return _verdict(ok, parts)


def monotone(ev: Evidence, sequences: list[list[str]], roles: list[str]):
    parts, ok = [], True
    for r in ev.roles(roles):
        for seq in sequences:
            means = [ev.mean(r, c) for c in seq]
            ok &= all(x >= y for x, y in zip(means, means[1:]))
            parts.append(f"{r}: " + " ≥ ".join(f"{c} {m:.1f}" for c, m in zip(seq, means)))
    return _verdict(ok, parts)


def near_chance(ev: Evidence, condition: str, roles: list[str], tol: float, langs: list[str] | None = None):
    parts, ok = [], True
    for r in ev.roles(roles):
        if r not in ev.chance:
            raise Missing(f"chance level of {r}")
        for l in langs or ev.langs(r, condition):
            v = ev.score(r, condition, l)
            ok &= abs(v - ev.chance[r]) <= tol
            parts.append(f"{r} en-{l} {v:.1f} (chance {ev.chance[r]:.1f} ± {tol:.0f})")
    return _verdict(ok, parts)


def language_order(ev: Evidence, condition: str, roles: list[str], better: str, worse: list[str]):
    parts, ok = [], True
    for r in ev.roles(roles):
        hi = ev.score(r, condition, better)
        for w in worse:
            lo = ev.score(r, condition, w)
            ok &= hi > lo
            parts.append(f"{r}: {better} {hi:.1f} > {w} {lo:.1f}")
    return _verdict(ok, parts)


def _layers(df: pd.DataFrame) -> pd.DataFrame:
    df = df[df["layer"].astype(str) != "avg"].copy()
    df["layer"] = df["layer"].astype(int)
    return df


def bli_embedding_vs_fasttext(ev: Evidence, tol: float):
    b = ev.table("bli")
    emb = b[b.vocabulary == "embedding"].pivot_table(index="pair", columns="model", values="p_at_1").dropna()
    if "fasttext" not in emb or "bert" not in emb or emb.empty:
        raise Missing("BLI fastText or BERT embedding rows")
    ok = bool((emb["bert"] >= emb["fasttext"] - tol).all())
    return _verdict(ok, [f"{p}: BERT {r.bert:.1f} vs fastText {r.fasttext:.1f}" for p, r in emb.iterrows()])


def bli_contextual(ev: Evidence):
    """Averaged contextual vectors: usable, below fastText, upper layers better than lower layers."""
    b = ev.table("bli")
    parts, ok = [], True
    for pair, g in b.groupby("pair"):
        ctx = _layers(g[(g.model == "bert") & (g.vocabulary == "contextual")]).dropna(subset=["p_at_1"])
        ctx = ctx.sort_values("layer")
        ft = g[(g.model == "fasttext") & (g.vocabulary == "contextual")]["p_at_1"].dropna()
        if ctx.empty or ft.empty:
            raise Missing(f"BLI contextual rows for {pair}")
        half = len(ctx) // 2
        low, high = ctx["p_at_1"].iloc[:half].mean(), ctx["p_at_1"].iloc[half:].mean()
        ok &= bool(high > low and ctx["p_at_1"].max() < ft.iloc[0])
        parts.append(f"{pair}: lower layers {low:.1f}, upper {high:.1f}, best {ctx['p_at_1'].max():.1f} "
                     f"< fastText {ft.iloc[0]:.1f}")
    return _verdict(ok, parts)


def peak_early(ev: Evidence, table: str, value: str, where: dict | None = None):
    """The per-layer maximum lies in the lower half of the stack, for every pair."""
    t = _layers(ev.table(table))
    for k, v in (where or {}).items():
        t = t[t[k] == v]
    parts, ok = [], True
    for pair, g in t.groupby("pair"):
        top = int(g.loc[g[value].idxmax(), "layer"])
        n = int(g["layer"].max())
        ok &= top <= n / 2
        parts.append(f"{pair}: best layer {top} of 0-{n}")
    return _verdict(ok, parts)


def below(ev: Evidence, table: str, value: str, limit: float, where: dict | None = None):
    t = ev.table(table)
    for k, v in (where or {}).items():
        t = t[t[k] == v]
    best = t.groupby("pair")[value].max()
    return _verdict(bool((best < limit).all()), [f"{p}: best {v:.1f} < {limit:.0f}" for p, v in best.items()])


def cka_order(ev: Evidence, tol: float):
    c = _layers(ev.table("cka")).pivot_table(index=["pair", "layer"], columns="setting", values="cka")
    if not {"mono", "bi", "random"} <= set(c.columns):
        raise Missing("CKA settings mono, bi and random")
    c = c.dropna(subset=["mono", "bi", "random"])
    ok_rows = (c["bi"] >= c["mono"] - tol) & (c["mono"] > c["random"])
    parts = [f"{p}: holds at {int(g.sum())}/{len(g)} layers" for p, g in ok_rows.groupby(level="pair")]
    return _verdict(bool(ok_rows.all()), parts)


def cka_gap_shrinks(ev: Evidence, close_pairs: list[str], distant_pairs: list[str]):
    c = ev.table("cka")
    avg = c[c["layer"].astype(str) == "avg"].pivot_table(index="pair", columns="setting", values="cka")
    if not {"mono", "bi"} <= set(avg.columns):
        raise Missing("CKA settings mono and bi")
    gap = (avg["bi"] - avg["mono"]).dropna()
    missing = [p for p in close_pairs + distant_pairs if p not in gap]
    if missing:
        raise Missing(f"CKA pairs {', '.join(missing)}")
    ok = min(gap[p] for p in close_pairs) >= max(gap[p] for p in distant_pairs)
    return _verdict(ok, [f"{p}: bi − mono {gap[p]:+.3f}" for p in close_pairs + distant_pairs])


def correlation_above(ev: Evidence, min: float):
    c = ev.table("correlation").dropna(subset=["pearson_r"])
    if c.empty:
        raise Missing("CKA-retrieval correlations")
    return _verdict(bool((c["pearson_r"] > min).all()), [f"{r.pair}: r = {r.pearson_r:.2f}" for r in c.itertuples()])


def align_below_bi(ev: Evidence, exceptions: list[str]):
    t = ev.table("alignment_transfer")
    best = t.groupby(["pair", "task", "setting"])["test"].max().unstack("setting")
    if not {"mono", "bi"} <= set(best.columns):
        raise Missing("alignment transfer settings mono and bi")
    parts, ok = [], True
    for (pair, task), r in best.iterrows():
        exempt = f"{pair} {task}" in exceptions
        ok &= exempt or r["mono"] < r["bi"]
        parts.append(f"{pair} {task}: MLM-align {r['mono']:.1f} vs biMLM {r['bi']:.1f}" + (" (exempt)" if exempt else ""))
    return _verdict(ok, parts)


def align_best_middle(ev: Evidence):
    t = ev.table("alignment_transfer")
    t = t[t.setting == "mono"]
    if t.empty:
        raise Missing("MLM-align rows")
    parts, ok = [], True
    for (pair, task), g in t.groupby(["pair", "task"]):
        top, n = int(g.loc[g["test"].idxmax(), "layer"]), int(g["layer"].max())
        ok &= 0 < top < n
        parts.append(f"{pair} {task}: best layer {top} of 0-{n}")
    return _verdict(ok, parts)


CHECKS = {f.__name__: f for f in (delta_at_least, delta_at_most, delta_order, close, less, best, gain_larger,
                                  monotone, near_chance, language_order, bli_embedding_vs_fasttext, bli_contextual,
                                  peak_early, below, cka_order, cka_gap_shrinks, correlation_above, align_below_bi,
                                  align_best_middle)}


def load_claims(text: str | None = None) -> list[dict]:
    if text is None:
        text = resources.files("xstruct.data").joinpath("claims.yaml").read_text(encoding="utf-8")
    claims = yaml.safe_load(text)
    for c in claims:
        if c["check"] not in CHECKS:
            raise ValueError(f"claims.yaml: claim {c['id']!r} names unknown check {c['check']!r}; "
                             f"known: {', '.join(CHECKS)}")
    return claims


def check_claims(ev: Evidence, claims: list[dict]) -> pd.DataFrame:
    rows = []
    for c in claims:
        try:
            status, numbers = CHECKS[c["check"]](ev, **c["params"])
        except Missing as missing:
            status, numbers = NOT_MEASURED, f"missing: {missing}"
        rows.append({"id": c["id"], "section": c["section"], "claim": c["claim"], "status": status,
                     "numbers": numbers})
    return pd.DataFrame(rows, columns=["id", "section", "claim", "status", "numbers"])
