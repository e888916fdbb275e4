"""Where every artifact of the pipeline lives, and how runs and vocabularies are named: the one place that spells
either. Configs name sources and settings, never a results path.

Each function returns a path; called with Snakemake wildcards as arguments ("{run}", "{lang}") it returns the
rule's output pattern, so rules and package code build paths the same way.
"""
from __future__ import annotations

RESULTS = "results"
LOGS = f"{RESULTS}/logs"
BENCHMARKS = f"{RESULTS}/benchmarks"

# --- ids ---

RUN_ID = r"[a-z][a-z0-9_]*\.[a-z0-9-]+\.s\d+"   # wildcard constraint of a run id


def run_id(condition: str, langs, seed) -> str:
    """`sep_emb.en-fr.s1`: condition, languages (English first), seed."""
    return f"{condition}.{'-'.join(langs)}.s{seed}"


def vocab_id(mode: str, sources: list[tuple[str, str]]) -> str:
    """`joint/bible.en+bible.fr`: the mode and the (domain, language) texts the tokenizer is trained on."""
    return f"{mode}/" + "+".join(f"{d}.{l}" for d, l in sources)


def parse_vocab_id(vid: str) -> tuple[str, list[tuple[str, str]]]:
    mode, spec = vid.split("/", 1)
    return mode, [tuple(s.split(".", 1)) for s in spec.split("+")]  # type: ignore[misc]


# --- corpora and dictionaries (rules/data.smk) ---

def corpus_part(domain: str, lang: str, part: str) -> str:
    """Pretraining text: part a, b (disjoint halves of the line keys) or valid."""
    return f"{RESULTS}/corpus/{domain}/{lang}.{part}.txt"


def corpus_stats(domain: str, lang: str) -> str:
    return f"{RESULTS}/corpus/{domain}/{lang}.stats.json"


def heldout_verses(domain: str, lang: str) -> str:
    """Held-out verses, `key<TAB>text`, aligned across languages by verse key."""
    return f"{RESULTS}/corpus/{domain}/heldout/{lang}.tsv"


def crossrefs(domain: str) -> str:
    return f"{RESULTS}/corpus/{domain}/crossref.tsv"


def dictionary(xx: str, split: str) -> str:
    """The en-xx dictionary: `train` / `test` (the BLI split) or `all` (extra anchors)."""
    return f"{RESULTS}/dict/en-{xx}.{split}.txt"


def dictionary_stats(xx: str) -> str:
    return f"{RESULTS}/dict/en-{xx}.stats.json"


def dictionary_split_stats(xx: str) -> str:
    """What the word-translation train / test split kept, and by which rule."""
    return f"{RESULTS}/dict/en-{xx}.split.json"


def fetched_set(name: str) -> str:
    """Folder of an analysis set the pipeline downloads (rule analysis_set)."""
    return f"{RESULTS}/data/sets/{name}"


# --- vocabularies (rules/vocab.smk) ---

def vocab(vid: str) -> str:
    return f"{RESULTS}/vocab/{vid}"


def spm_model(vid: str, lang: str, domain: str) -> str:
    """The SentencePiece model of a language view: the joint model, or the language's own model."""
    return joint_spm(vid) if parse_vocab_id(vid)[0] == "joint" else language_spm(domain, lang)


def joint_spm(vid: str) -> str:
    return f"{vocab(vid)}/spm.model"


def language_spm(domain: str, lang: str) -> str:
    return f"{RESULTS}/vocab/spm/{domain}.{lang}.model"


def vocab_table(vid: str) -> str:
    return f"{vocab(vid)}/vocab.tsv"


def vocab_meta(vid: str) -> str:
    return f"{vocab(vid)}/meta.json"


def anchors(vid: str) -> str:
    """Anchor statistics; requesting them builds the whole vocabulary."""
    return f"{vocab(vid)}/anchors.json"


def id_array(vid: str, lang: str, part: str) -> str:
    return f"{vocab(vid)}/ids/{lang}.{part}.npy"


def id_stats(vid: str, lang: str, part: str) -> str:
    return f"{vocab(vid)}/ids/{lang}.{part}.json"


def id_map(vid: str, lang: str) -> str:
    """The language view's local-to-global id map."""
    return f"{vocab(vid)}/ids/{lang}.map.npy"


def tokenizer(vid: str, lang: str) -> str:
    return f"{vocab(vid)}/hf/{lang}"


# --- pretraining (rules/pretrain.smk) ---

def run_dir(run: str) -> str:
    return f"{RESULTS}/pretrain/{run}"


def view(run: str, lang: str) -> str:
    """One exported BertForMaskedLM folder (a language view of the run)."""
    return f"{run_dir(run)}/{lang}"


def sharing(run: str) -> str:
    return f"{run_dir(run)}/sharing.json"


def metrics(run: str) -> str:
    return f"{run_dir(run)}/metrics.json"


def checkpoints(run: str) -> str:
    """Resumable checkpoints: not a rule output, so Snakemake never deletes them."""
    return f"{RESULTS}/checkpoints/{run}"


# --- transfer (rules/transfer.smk) ---

def task_data(task: str) -> str:
    return f"{RESULTS}/tasks/{task}"


def transfer_result(task: str, run: str) -> str:
    return f"{RESULTS}/transfer/{task}/{run}.json"


# --- analyses (rules/analysis.smk) ---

def features(init: str, run: str, lang: str, set_id: str, text: str) -> str:
    """Cached per-layer features of one model view (trained or random init) on one text set."""
    return f"{RESULTS}/analysis/features/{init}/{run}/{lang}/{set_id}.{text}"


def fasttext(lang: str) -> str:
    return f"{RESULTS}/analysis/fasttext/{lang}"


def analysis_table(kind: str, xx: str) -> str:
    """Per-layer result table of one pair: kind bli, retrieval or cka."""
    return f"{RESULTS}/analysis/{kind}/en-{xx}.csv"


def correlation_table() -> str:
    return f"{RESULTS}/analysis/cka/correlation.csv"


def alignment(xx: str) -> str:
    """Folder of the word links and the per-setting alignment tables and maps of one pair."""
    return f"{RESULTS}/analysis/alignment/en-{xx}"


def alignment_table(xx: str, setting: str) -> str:
    return f"{alignment(xx)}/{setting}.csv"


def alignment_maps(xx: str, setting: str) -> str:
    return f"{alignment(xx)}/{setting}.maps.pt"


def alignment_transfer_table(xx: str, task: str) -> str:
    return f"{RESULTS}/analysis/alignment_transfer/en-{xx}.{task}.csv"


# --- report (rules/report.smk) ---

TABLES = f"{RESULTS}/tables"
FIGURES = f"{RESULTS}/figures"
CLAIMS = f"{RESULTS}/claims.md"
CLAIMS_CSV = f"{RESULTS}/claims.csv"
