"""fastText baseline for word translation (paper Fig. 4): vectors trained with gensim on the same corpus as
the monolingual BERT, in the dictionaries' word form (lowercased runs of letters, as MUSE's fastText vectors are
lowercased), evaluated on exactly the BERT word lists (out-of-vocabulary words get fastText's own character
n-gram vectors), so both methods retrieve among the same vocabulary."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from xstruct.corpora.dictionaries import dictionary_words
from xstruct.io import atomic_dir, read_json, write_json


def train_fasttext(paths: list[str | Path], out_dir: str | Path, *, dim: int, epochs: int, min_count: int,
                   window: int, minn: int, maxn: int, skipgram: bool, threads: int, seed: int) -> dict:
    """Train on the dictionary words of the given text files; writes `vectors.kv` and `manifest.json`.
    One worker thread is the only setting gensim reproduces exactly (others reorder updates)."""
    from gensim.models import FastText

    sentences = []
    for p in paths:
        if not Path(p).is_file():
            raise FileNotFoundError(f"{p}: fastText training text not found")
        with open(p, encoding="utf-8") as f:
            sentences += [words for words in map(dictionary_words, f) if words]
    started = time.perf_counter()
    model = FastText(sentences=sentences, vector_size=dim, window=window, min_count=min_count, min_n=minn,
                     max_n=maxn, sg=int(skipgram), epochs=epochs, workers=threads, seed=seed)
    manifest = {"paths": [str(p) for p in paths], "sentences": len(sentences), "vocab": len(model.wv),
                "dim": dim, "epochs": epochs, "seconds": round(time.perf_counter() - started, 1)}
    with atomic_dir(out_dir) as tmp:
        model.wv.save(str(tmp / "vectors.kv"))
        write_json(tmp / "manifest.json", manifest)
    return manifest


def fasttext_vectors(folder: str | Path, words: list[str]) -> torch.Tensor:
    from gensim.models.fasttext import FastTextKeyedVectors

    folder = Path(folder)
    read_json(folder / "manifest.json")  # a folder without a manifest is an unfinished training
    kv = FastTextKeyedVectors.load(str(folder / "vectors.kv"))
    if not words:
        return torch.zeros(0, kv.vector_size)
    return torch.from_numpy(np.stack([kv[w] for w in words]).astype(np.float32))
