"""SentencePiece BPE training: one model per language, or one joint model on several languages' text.

The joint model sees the languages resampled the way pretraining samples them (XLM): language l, with n_l of the
N training lines, gets a share p_l ∝ (n_l / N) ** alpha of the sample, so small languages are upsampled (lines
repeated) and large ones downsampled. A model on one language is the same procedure with p = 1. The sample is
drawn here with a seeded generator, not by SentencePiece, and training runs on one thread, so the same text and
settings give the same model bytes.
"""
from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import sentencepiece as spm
from tqdm import tqdm

from xstruct.corpora.text import check_parts, read_lines
from xstruct.io import atomic_write
from xstruct.vocab import PAD, SPECIALS, UNK

MIN_COVERAGE = 0.98  # SentencePiece refuses lower character coverage
_TOO_SMALL = re.compile(r"Vocabulary size is smaller than required_chars\. (\d+) vs (\d+)")


def count_lines(path: str | Path) -> int:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: corpus text not found")
    with path.open("rb") as f:
        return sum(1 for _ in f)


def language_counts(n: Mapping[str, int], alpha: float, max_sentences: int) -> dict[str, int]:
    """Lines each language contributes to the training sample: p_l ∝ (n_l/N)^alpha, the total kept at N but
    shrunk so that no language exceeds `max_sentences`."""
    bad = [l for l, k in n.items() if k <= 0]
    if bad:
        raise ValueError(f"no training lines for language(s) {', '.join(bad)}")
    total = sum(n.values())
    q = np.array([n[l] / total for l in n]) ** alpha
    p = q / q.sum()
    size = min(total, max_sentences / p.max())
    return {l: max(1, round(float(pl) * size)) for l, pl in zip(n, p)}


def _multiplicity(n: int, count: int, rng: np.random.Generator) -> np.ndarray:
    """How often each of n lines is drawn for a sample of `count` lines: whole copies, then a subset without
    replacement for the remainder."""
    reps, rest = divmod(count, n)
    mult = np.full(n, reps, dtype=np.int64)
    mult[rng.choice(n, size=rest, replace=False)] += 1
    return mult


def sample_lines(texts: Mapping[str, Sequence[str | Path]], alpha: float, max_sentences: int,
                 seed: int) -> list[str]:
    """The resampled training lines of every language (language by language, in file order)."""
    check_parts(p for paths in texts.values() for p in paths)
    n = {lang: sum(count_lines(p) for p in paths) for lang, paths in texts.items()}
    for lang, paths in texts.items():
        if not n[lang]:
            raise ValueError(f"{', '.join(map(str, paths))}: no lines to train the {lang!r} tokenizer on")
    counts = language_counts(n, alpha, max_sentences)
    rng = np.random.default_rng(seed)
    out: list[str] = []
    for lang, paths in texts.items():
        mult = iter(_multiplicity(n[lang], counts[lang], rng))
        for line in read_lines(paths):
            out.extend([line] * int(next(mult)))
    return out


def character_coverage(vocab_config: Mapping, lang: str | None = None) -> float:
    """The character coverage of a per-language model (`lang`) or of a joint model (None).

    `vocab.character_coverage`, unless `vocab.language_coverage` ({lang: coverage}) lowers it for a language's
    own model: a small per-language vocabulary cannot hold every Chinese character. A joint model, twice as
    large, keeps the base coverage so that no language loses characters to the other's frequencies.
    """
    base = vocab_config["character_coverage"]
    return (vocab_config.get("language_coverage") or {}).get(lang, base) if lang else base


def train_bpe(lines: Sequence[str], size: int, coverage: float, seed: int, name: str = "model",
              size_key: str = "size") -> bytes:
    """A BPE model with the fixed specials ([PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 [MASK]=4), as serialized bytes."""
    if not MIN_COVERAGE <= coverage <= 1:
        raise ValueError(f"{name}: character_coverage {coverage} must be in [{MIN_COVERAGE}, 1] "
                         "(SentencePiece's range)")
    model = io.BytesIO()
    spm.set_random_generator_seed(seed)
    try:
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(tqdm(lines, desc=f"spm {name}", unit="line", mininterval=5)),
            model_writer=model, model_type="bpe", vocab_size=size, character_coverage=coverage,
            input_sentence_size=0, shuffle_input_sentence=False,  # the sample is already drawn (sample_lines)
            num_threads=1, minloglevel=1,
            pad_id=PAD, pad_piece=SPECIALS[PAD], unk_id=UNK, unk_piece=SPECIALS[UNK], bos_id=-1, eos_id=-1,
            control_symbols=[s for i, s in enumerate(SPECIALS) if i not in (PAD, UNK)],
        )
    except RuntimeError as err:
        if m := _TOO_SMALL.search(str(err)):
            raise ValueError(f"{name}: {size_key} {size} is smaller than the {m.group(2)} pieces (characters and "
                             f"specials) that character_coverage {coverage} needs; raise {size_key} or lower "
                             "vocab.character_coverage (vocab.language_coverage for one language)") from None
        raise ValueError(f"{name}: SentencePiece training failed: {str(err).splitlines()[0]}") from None
    return model.getvalue()


def train_model(texts: Mapping[str, Sequence[str | Path]], out: str | Path, *, size: int, coverage: float,
                max_sentences: int, seed: int, alpha: float = 1.0, name: str = "model",
                size_key: str = "size") -> None:
    """Train one BPE model on the resampled lines of `texts` ({lang: [text files]}) and write it to `out`.
    `alpha` matters for a joint model only; `name` and `size_key` name the model and config key in errors."""
    lines = sample_lines(texts, alpha, max_sentences, seed)
    model = train_bpe(lines, size, coverage, seed, name=name, size_key=size_key)
    with atomic_write(out, "wb") as f:
        f.write(model)
