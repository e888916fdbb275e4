"""The §5 half of the report: per-layer tables and Figs. 4-8 from the analyses' result tables."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from xstruct.report import figures
from xstruct.report.table_formats import write_table


def read_pairs(paths: list[str | Path], stem_to_pair=lambda p: Path(p).stem) -> pd.DataFrame:
    """Concatenate per-pair CSVs (named en-xx.csv) with a `pair` column."""
    frames = [pd.read_csv(p).assign(pair=stem_to_pair(p)) for p in paths if Path(p).is_file()]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def pct(df: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    df = df.copy()
    for c in cols:
        if c in df:
            df[c] = 100.0 * df[c]
    return df


def write_similarity_report(inputs: dict[str, list[str]], tables_dir: str | Path, figures_dir: str | Path,
                            name: str) -> dict[str, pd.DataFrame]:
    """Write the §5 tables and figures; return the tables the claims read (empty when not run)."""
    tables_dir, figures_dir = Path(tables_dir), Path(figures_dir)
    out: dict[str, pd.DataFrame] = {}

    bli = pct(read_pairs(inputs.get("bli", [])), ["p_at_1", "test_coverage"])
    if not bli.empty:
        out["bli"] = bli
        cols = ["pair", "model", "vocabulary", "layer", "p_at_1", "test_coverage", "train_kept", "test_kept"]
        layer = bli["layer"].map(lambda v: "" if pd.isna(v) else str(int(v)))   # blank for the embedding rows
        write_table(bli[cols], tables_dir / "bli", f"Word translation ({name}): P@1 (%) with CSLS after "
                    "Procrustes, and test-dictionary coverage (%).", index=False, display=bli[cols].assign(layer=layer))
        emb = bli[bli.vocabulary == "embedding"].pivot_table(index="pair", columns="model", values="p_at_1")
        ctx = bli[bli.model.isin(["bert", "random"]) & (bli.vocabulary == "contextual")].copy()
        ctx["layer"] = ctx["layer"].astype(int)
        ctx["series"] = ctx.model.map({"bert": "BERT averaged contextual", "random": "random encoder"})
        ft = bli[(bli.model == "fasttext") & (bli.vocabulary == "contextual")].set_index("pair")["p_at_1"]
        figures.grouped_bars(emb, figures_dir / "fig4a_bli_embeddings", "P@1 (%)",
                             f"Fig. 4a ({name}): non-contextual word translation, BERT embedding layer "
                             "(single-piece words) vs fastText on the same words.")
        figures.per_layer({p: g for p, g in ctx.groupby("pair")},
                          "layer", "p_at_1", "series", figures_dir / "fig4b_bli_contextual",
                          f"Fig. 4b ({name}): word translation with averaged contextual vectors per layer "
                          "(dashed: a random encoder); dotted: fastText on the same words.", "P@1 (%)",
                          style="random", hlines=ft.to_dict())

    ret = pct(read_pairs(inputs.get("retrieval", [])), ["p_at_1", "p_at_1_reverse"])
    if not ret.empty:
        out["retrieval"] = ret
        write_table(ret, tables_dir / "retrieval", f"Sentence retrieval ({name}): P@1 (%) per layer, with and "
                    "without the Procrustes map; encoder `random`: the same models randomly initialised.", index=False)
        if "encoder" not in ret:   # tables written before the random-encoder control
            ret = ret.assign(encoder="trained")
        ret = ret[ret["mapped"] | (ret["encoder"] == "trained")]   # the control is drawn aligned only
        ret = ret.assign(series=np.where(ret["encoder"] == "random", "random encoder, aligned",
                                         np.where(ret["mapped"], "aligned (Procrustes)", "not aligned")))
        figures.per_layer({p: g for p, g in ret.groupby("pair")}, "layer", "p_at_1", "series",
                          figures_dir / "fig6_retrieval",
                          f"Fig. 6 ({name}): parallel sentence retrieval per layer of monolingual models "
                          "(dashed: not aligned; 'random encoder': the same models randomly initialised).", "P@1 (%)", style="not")

    cka = read_pairs(inputs.get("cka", []))
    if not cka.empty:
        out["cka"] = cka
        write_table(cka, tables_dir / "cka", f"Linear CKA ({name}) per layer and setting.", index=False, digits=3)
        grids = {}
        for setting, g in cka.groupby("setting", sort=False):
            grid = g.pivot_table(index="layer", columns="pair", values="cka", aggfunc="first")
            order = sorted((l for l in grid.index if str(l) != "avg"), key=int) + ["avg"]
            grids[setting] = grid.reindex([l for l in order if l in grid.index])
            grids[setting].index = [f"L{l}" if str(l) != "avg" else "average" for l in grids[setting].index]
        figures.heatmaps(grids, figures_dir / "fig7_cka", f"Fig. 7 ({name}): linear CKA between the two sides of "
                         "parallel sentences: two monolingual models, one bilingual model, trained vs random.")
    for path in inputs.get("correlation", []):
        if Path(path).is_file():
            corr = pd.read_csv(path)
            out["correlation"] = corr
            write_table(corr, tables_dir / "cka_retrieval_correlation", f"Pearson correlation ({name}) between "
                        "CKA and retrieval P@1 across layers.", index=False, digits=3)

    links = read_pairs(inputs.get("alignment", []), lambda p: f"{Path(p).parent.name}:{Path(p).stem}")
    if not links.empty:
        links[["pair", "setting"]] = links["pair"].str.split(":", expand=True)
        write_table(pct(links, ["p_at_1", "p_at_1_unmapped"]), tables_dir / "word_alignment",
                    f"Contextual word alignment ({name}): P@1 (%) of aligned word pairs per layer.", index=False)

    at = read_pairs(inputs.get("alignment_transfer", []), lambda p: Path(p).name.split(".")[0] + ":" +
                    Path(p).name.split(".")[1])
    if not at.empty:
        at[["pair", "task"]] = at["pair"].str.split(":", expand=True)
        at = pct(at, ["dev", "test"])
        out["alignment_transfer"] = at
        write_table(at, tables_dir / "alignment_transfer", f"Zero-shot transfer through layer-i representations "
                    f"({name}): MLM-align (monolingual models + Procrustes map) vs biMLM.", index=False)
        for fig, settings in (("fig5_alignment_transfer", ["mono", "bi"]), ("fig8_bimlm_alignment", ["bi", "bi+align"])):
            sub = at[at.setting.isin(settings)]
            if sub.empty:
                continue
            label = {"mono": "MLM align", "bi": "biMLM", "bi+align": "biMLM + align"}
            frames = {f"{p} {t}": g.assign(series=g.setting.map(label)) for (p, t), g in sub.groupby(["pair", "task"])}
            figures.per_layer(frames, "layer", "test", "series", figures_dir / fig,
                              f"Fig. {fig[3]} ({name}): zero-shot transfer from layer i, "
                              + ", ".join(label[s] for s in settings) + ".", "target test score (%)")
    return out
