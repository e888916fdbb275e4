"""Each of the paper's claims as a check on this run's numbers; thresholds live in xstruct/data/claims.yaml.

A check returns (state, numbers): HOLDS or FAILS, with the text of the values it compared so a reader can
recheck the verdict by hand; a number it needs that this run did not produce raises `Missing` (NOT_MEASURED).
A claim's `requires` entries are checks too, run first: when one of them does not come out as expected the
claim is UNINFORMATIVE (its numbers cannot tell the paper's effect from "nothing was learnt"), never HOLDS.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources

import numpy as np
import pandas as pd
import yaml

HOLDS, FAILS, UNINFORMATIVE, NOT_MEASURED = "holds", "does not hold", "uninformative", "not measured"
STATES = (HOLDS, FAILS, UNINFORMATIVE, NOT_MEASURED)
COLUMNS = ["id", "section", "claim", "state", "numbers", "threshold", "precondition"]


class Missing(Exception):
    """A number the check needs was not produced by this run."""


@dataclass
class Evidence:
    """What claims are checked on. transfer: percent scores by (role, condition, target) of the pretrained
    conditions; floors: measured no-learning scores by (role or task, target) -> {source: percent} (the
    random-init control, test-data baselines); chance: config fallback per role when nothing was measured;
    analysis: per-layer tables by name (cka, retrieval, correlation, bli, alignment_transfer)."""
    transfer: dict[tuple[str, str, str], float] = field(default_factory=dict)
    chance: dict[str, float] = field(default_factory=dict)
    analysis: dict[str, pd.DataFrame] = field(default_factory=dict)
    floors: dict[tuple[str, str], dict[str, float]] = field(default_factory=dict)

    def score(self, role: str, condition: str, lang: str) -> float:
        v = self.transfer.get((role, condition, lang))
        if v is None or np.isnan(v):
            raise Missing(f"{role}/{condition}/{lang}")
        return v

    def floor(self, role: str, lang: str) -> tuple[float, str]:
        """The highest measured no-learning score (a floor must not be beatable by a rule that learns nothing);
        the config's chance level only when nothing was measured."""
        measured = {k: v for k, v in self.floors.get((role, lang), {}).items() if not pd.isna(v)}
        if measured:
            source = max(measured, key=measured.get)
            return measured[source], source
        if role in self.chance:
            return self.chance[role], "configured chance"
        raise Missing(f"floor of {role}/{lang} (no random-init score, baseline or chance level)")

    def langs(self, role: str, condition: str) -> list[str]:
        langs = sorted(l for r, c, l in self.transfer if r == role and c == condition)
        if not langs:
            raise Missing(f"{role}/{condition}")
        return langs

    def mean(self, role: str, condition: str) -> float:
        return float(np.mean([self.score(role, condition, l) for l in self.langs(role, condition)]))

    def delta(self, role: str, condition: str) -> float:
        return self.mean(role, condition) - self.mean(role, "default")

    def has_role(self, role: str) -> bool:
        return any(k[0] == role for k in self.transfer)

    def roles(self, wanted: list[str]) -> list[str]:
        have = [r for r in wanted if self.has_role(r)]
        if not have:
            raise Missing(f"tasks {', '.join(wanted)}")
        return have

    def table(self, name: str) -> pd.DataFrame:
        if name not in self.analysis or self.analysis[name].empty:
            raise Missing(name)
        return self.analysis[name]

    def rows(self, name: str, where: dict | None) -> pd.DataFrame:
        """The rows of table `name` whose columns equal `where`'s values (a column this run lacks is Missing)."""
        t = self.table(name)
        for k, v in (where or {}).items():
            if k not in t:
                raise Missing(f"column {k!r} of the {name} table")
            t = t[t[k] == v]
        if t.empty:
            raise Missing(f"{name} rows with {where}")
        return t


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


def near_floor(ev: Evidence, condition: str, roles: list[str], tol: float, langs: list[str] | None = None):
    """Within `tol` points of the measured floor (random init / baseline; configured chance as fallback)."""
    parts, ok = [], True
    for r in ev.roles(roles):
        for l in langs or ev.langs(r, condition):
            v, (f, source) = ev.score(r, condition, l), ev.floor(r, l)
            ok &= abs(v - f) <= tol
            parts.append(f"{r} en-{l} {v:.1f} (floor {f:.1f} from {source} ± {tol:.0f})")
    return _verdict(ok, parts)


def informative(ev: Evidence, condition: str, roles: list[str], margin: float, langs: list[str] | None = None):
    """`condition` beats the floor by `margin` points on every (task, language): its scores carry signal."""
    parts, ok = [], True
    for r in ev.roles(roles):
        for l in langs or ev.langs(r, condition):
            v, (f, source) = ev.score(r, condition, l), ev.floor(r, l)
            ok &= v - f >= margin
            parts.append(f"{r} en-{l}: {condition} {v:.1f} − floor {f:.1f} ({source}) = {v - f:+.1f}")
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


def bli_embedding_vs_fasttext(ev: Evidence, min_gain: float):
    b = ev.table("bli")
    emb = b[b.vocabulary == "embedding"].pivot_table(index="pair", columns="model", values="p_at_1")
    if "fasttext" not in emb or "bert" not in emb or emb[["bert", "fasttext"]].dropna().empty:
        raise Missing("BLI fastText or BERT embedding rows")
    emb = emb.dropna(subset=["bert", "fasttext"])
    ok = bool((emb["bert"] - emb["fasttext"] >= min_gain).all())
    return _verdict(ok, [f"{p}: BERT {r.bert:.1f} − fastText {r.fasttext:.1f} = {r.bert - r.fasttext:+.1f}"
                         for p, r in emb.iterrows()])


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
    t = _layers(ev.rows(table, where))
    parts, ok = [], True
    for pair, g in t.groupby("pair"):
        top = int(g.loc[g[value].idxmax(), "layer"])
        n = int(g["layer"].max())
        ok &= top <= n / 2
        parts.append(f"{pair}: best layer {top} of 0-{n} ({g[value].max():.3g})")
    return _verdict(ok, parts)


def beats_control(ev: Evidence, table: str, value: str, where: dict, control: dict, margin: float):
    """Per pair, the best value of the `where` rows beats the best of the `control` rows (e.g. the random
    encoder) by `margin`."""
    ours = ev.rows(table, where).groupby("pair")[value].max()
    ctrl = ev.rows(table, control).groupby("pair")[value].max()
    missing = [p for p in ours.index if p not in ctrl.index]
    if missing:
        raise Missing(f"{table} control rows {control} for {', '.join(missing)}")
    gap = ours - ctrl[ours.index]
    return _verdict(bool((gap >= margin).all()),
                    [f"{p}: best {ours[p]:.3g} − control {ctrl[p]:.3g} = {gap[p]:+.3g}" for p in ours.index])


def above_floor(ev: Evidence, table: str, value: str, where: dict, margin: float):
    """Per (pair, task) of an analysis transfer table, the best layer beats Table 1's floor for that task and
    target language by `margin` points."""
    parts, ok = [], True
    for (pair, task), g in ev.rows(table, where).groupby(["pair", "task"]):
        best, (f, source) = g[value].max(), ev.floor(task, pair.split("-", 1)[1])
        ok &= best - f >= margin
        parts.append(f"{pair} {task}: best {best:.1f} − floor {f:.1f} ({source}) = {best - f:+.1f}")
    return _verdict(ok, parts)


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
                                  monotone, near_floor, language_order, bli_embedding_vs_fasttext, bli_contextual,
                                  peak_early, cka_order, cka_gap_shrinks, correlation_above, align_below_bi,
                                  align_best_middle, informative, beats_control, above_floor)}

# What each check compares, filled from its params, for the `threshold` column.
THRESHOLDS = {
    "delta_at_least": "Δ ≥ {min:+.1f} on each task", "delta_at_most": "Δ ≤ {max:+.1f} on each task",
    "delta_order": "Δ {lower} < Δ {higher}", "close": "|{a} − {b}| ≤ {tol:.1f} on each task",
    "less": "{a} < {b} on each task", "best": "{condition} highest of all conditions",
    "gain_larger": "gain {a} − {b}: en-{larger} > en-{smaller}", "monotone": "non-increasing along each sequence",
    "near_floor": "|{condition} − floor| ≤ {tol:.1f}", "language_order": "{better} > each of {worse}",
    "bli_embedding_vs_fasttext": "BERT − fastText ≥ {min_gain:+.1f}",
    "bli_contextual": "upper layers > lower layers, best < fastText", "peak_early": "best layer ≤ half the stack",
    "cka_order": "bi ≥ mono − {tol}, mono > random at every layer",
    "cka_gap_shrinks": "smallest close-pair gap ≥ largest distant-pair gap", "correlation_above": "r > {min}",
    "align_below_bi": "MLM-align < biMLM (exempt: {exceptions})", "align_best_middle": "0 < best layer < last",
    "informative": "{condition} − floor ≥ {margin:.1f}", "beats_control": "best − control best ≥ {margin:g}",
    "above_floor": "best − floor ≥ {margin:.1f}",
}


def threshold(check: str, params: dict) -> str:
    return THRESHOLDS[check].format(**params)


def load_claims(text: str | None = None) -> list[dict]:
    if text is None:
        text = resources.files("xstruct.data").joinpath("claims.yaml").read_text(encoding="utf-8")
    claims = yaml.safe_load(text)
    for c in claims:
        for entry in [c, *c.get("requires", [])]:
            if entry["check"] not in CHECKS:
                raise ValueError(f"claims.yaml: claim {c['id']!r} names unknown check {entry['check']!r}; "
                                 f"known: {', '.join(CHECKS)}")
            if entry.get("expect", HOLDS) not in (HOLDS, FAILS):
                raise ValueError(f"claims.yaml: claim {c['id']!r}: expect {entry['expect']!r} must be "
                                 f"{HOLDS!r} or {FAILS!r}")
    return claims


def _run(ev: Evidence, entry: dict) -> tuple[str, str]:
    try:
        return CHECKS[entry["check"]](ev, **entry["params"])
    except Missing as missing:
        return NOT_MEASURED, f"missing: {missing}"


def _preconditions(ev: Evidence, claim: dict) -> tuple[str | None, str]:
    """(None, text) when every precondition comes out as expected, else (NOT_MEASURED or UNINFORMATIVE, text)."""
    lines, state = [], None
    for req in claim.get("requires", []):
        got, numbers = _run(ev, req)
        want = req.get("expect", HOLDS)
        if got == NOT_MEASURED:
            state, mark = NOT_MEASURED, "not measured"
        elif got != want:
            state, mark = state or UNINFORMATIVE, "FAILED"
        else:
            mark = "ok"
        must = "" if want == HOLDS else " (must not hold)"
        lines.append(f"{mark}: {req['check']} {threshold(req['check'], req['params'])}{must} — {numbers}")
    return state, " / ".join(lines)


def _scope(ev: Evidence, claim: dict) -> str:
    """Claims about several tasks are checked on the tasks run: name the ones that did not run."""
    roles = claim["params"].get("roles")
    if not roles or not ev.transfer:
        return claim["claim"]
    absent = [r for r in roles if not ev.has_role(r)]
    return claim["claim"] + (f" (on the tasks run; not run: {', '.join(absent)})" if absent else "")


def check_claims(ev: Evidence, claims: list[dict]) -> pd.DataFrame:
    rows = []
    for c in claims:
        gate, precondition = _preconditions(ev, c)
        state, numbers = _run(ev, c)
        if gate is not None and state != NOT_MEASURED:
            state = gate   # the numbers are shown, but they cannot support a verdict
        rows.append({"id": c["id"], "section": c["section"], "claim": _scope(ev, c), "state": state,
                     "numbers": numbers, "threshold": threshold(c["check"], c["params"]),
                     "precondition": precondition or "none"})
    return pd.DataFrame(rows, columns=COLUMNS)


COUNT_WORDS = {HOLDS: "hold", FAILS: "do not hold", UNINFORMATIVE: "uninformative", NOT_MEASURED: "not measured"}


def state_counts(claims: pd.DataFrame) -> str:
    """The report's first line: "N hold, N do not hold, N uninformative, N not measured"."""
    counts = claims["state"].value_counts()
    return ", ".join(f"{int(counts.get(s, 0))} {COUNT_WORDS[s]}" for s in STATES)
