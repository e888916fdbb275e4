"""One cached encoding per (model view, evaluation set); every analysis reads these arrays and never encodes.

A folder holds, for layers 0 (embedding output) .. L:
  sentences.npy        (L+1, n, d) float32  mean of the sentence's word pieces, special tokens excluded;
  words.npy            (L+1, W, d) float16  one vector per whitespace word (its pieces averaged) of the first
  word_offsets.npy     (m+1,) int64         m = `word_sentences` sentences; sentence i's words are rows
                                            offsets[i]:offsets[i+1] (a truncated word keeps a zero row);
  types.npy            (L+1, T, d) float32  each frequent word type averaged over all its occurrences in the
  types.tsv            word<TAB>count       set (averaged contextual word vectors, paper §5.1.1);
  embeddings.npy       (V1, d) float32      input-embedding rows of the words that are one piece, and
  embedding_words.txt                       those words (non-contextual word vectors).
Types and embedding words are spelt as the dictionaries spell words (lowercased letters, no punctuation).
  manifest.json        written last: what was encoded, the cache key, counts and throughput.
A view is a trained model folder, or a randomly initialised model of the same configuration (`init="random"`).
"""
from __future__ import annotations

import hashlib
import time
from collections import Counter
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from xstruct.corpora.dictionaries import dictionary_form
from xstruct.export import from_export
from xstruct.hardware import resolve_device
from xstruct.io import atomic_dir, read_json, sha256_file, write_json

INITS = ("trained", "random")
_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
_TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "spiece.model")


def load_view(model_dir: str | Path, init: str = "trained", seed: int = 0):
    """(fast tokenizer, encoder) of a model folder; `init="random"` re-initialises the same architecture."""
    from transformers import AutoConfig, AutoModelForMaskedLM, AutoTokenizer

    model_dir = Path(model_dir)
    if init not in INITS:
        raise ValueError(f"model view {model_dir}: init {init!r} must be one of {', '.join(INITS)}")
    tok = from_export(AutoTokenizer, model_dir)
    if not tok.is_fast:
        raise ValueError(f"{model_dir}: tokenizer must be a fast tokenizer (tokenizer.json) to map pieces to words")
    if init == "random":
        torch.manual_seed(seed)
        model = AutoModelForMaskedLM.from_config(from_export(AutoConfig, model_dir))
    else:
        model = from_export(AutoModelForMaskedLM, model_dir)
    return tok, model.base_model.eval()


def fingerprint(model_dir: str | Path, init: str, seed: int) -> str:
    """Identity of a view: config + tokenizer (+ weights when trained, + seed when random)."""
    model_dir = Path(model_dir)
    names = ["config.json", *_TOKENIZER_FILES] + (list(_WEIGHT_FILES) if init == "trained" else [])
    h = hashlib.sha256(f"{init}:{seed if init == 'random' else ''}".encode())
    for name in names:
        if (model_dir / name).is_file():
            h.update(f"{name}:{sha256_file(model_dir / name)}".encode())
    return h.hexdigest()


def single_piece_words(tok) -> list[tuple[str, int]]:
    """Vocabulary entries that are a whole word: the piece decodes to a word which encodes back to that piece."""
    special = set(tok.all_special_ids)
    cands = [(tok.convert_tokens_to_string([p]).strip(), i) for p, i in tok.get_vocab().items() if i not in special]
    cands = [(w, i) for w, i in cands if w and not any(c.isspace() for c in w)]
    enc = tok([w for w, _ in cands], add_special_tokens=False)["input_ids"] if cands else []
    keep = {w: i for (w, i), ids in zip(cands, enc) if ids == [i]}
    return sorted(keep.items(), key=lambda t: t[1])


def embedding_words(tok) -> list[tuple[str, int]]:
    """Single-piece words in the dictionaries' form, one piece per word: the piece spelt as the dictionary
    spells the word ("roi") if there is one, else the first of its other spellings ("Roi")."""
    best: dict[str, tuple[bool, int]] = {}
    for w, i in single_piece_words(tok):
        form = dictionary_form(w)
        if form:
            best[form] = min(best.get(form, (True, i)), (w != form, i))
    return sorted(((form, i) for form, (_, i) in best.items()), key=lambda t: t[1])


def type_vocabulary(forms: list[list[str | None]], min_count: int, max_vocab: int) -> list[tuple[str, int]]:
    """Most frequent word types (count >= min_count), by descending count then the word itself. `forms` are the
    sentences' words in the dictionaries' form (`dictionary_form`: "Roi," and "roi" are one type; None is no
    type), so that every dictionary word finds all its occurrences and no near-duplicate competes with it."""
    counts = Counter(t for fs in forms for t in fs if t)
    kept = sorted(((w, c) for w, c in counts.items() if c >= min_count), key=lambda t: (-t[1], t[0]))
    return kept[:max_vocab]


def texts_sha256(texts: list[str]) -> str:
    return hashlib.sha256("\n".join(texts).encode()).hexdigest()


def extract(model_dir: str | Path, texts: list[str], out_dir: str | Path, *, init: str = "trained", seed: int = 0,
            batch_size: int = 64, max_length: int = 128, word_sentences: int = 0, types: dict | None = None,
            embeddings: bool = False, device: str = "cpu", precision: str = "fp32", source: str = "",
            progress: bool = True) -> dict:
    """Encode `texts` with one model view into `out_dir` (see the module doc) and return its manifest.

    If `out_dir` already holds a manifest with the same key (view fingerprint, texts, options), nothing is
    encoded. `types` = {min_count, max_vocab} turns on type averages over the whole set.
    """
    out_dir = Path(out_dir)
    options = {"init": init, "seed": seed if init == "random" else None, "max_length": max_length,
               "word_sentences": min(word_sentences, len(texts)), "types": types, "embeddings": embeddings,
               "word_form": "dictionary"}     # types and embedding words in `dictionary_form` (older caches: raw)
    key = {"view": fingerprint(model_dir, init, seed), "texts": texts_sha256(texts), "options": options}
    if (out_dir / "manifest.json").is_file() and read_json(out_dir / "manifest.json").get("key") == key:
        return read_json(out_dir / "manifest.json")
    if precision not in ("fp32", "bf16"):
        raise ValueError(f"extraction precision {precision!r} must be 'fp32' or 'bf16'")
    words = [t.split() for t in texts]
    empty = next((i for i, w in enumerate(words) if not w), None)
    if empty is not None or not texts:
        raise ValueError(f"{source or 'texts'}: sentence {empty} is empty; every evaluation sentence needs a word")

    tok, model = load_view(model_dir, init, seed)
    dev = resolve_device(device)
    model.to(dev)
    n_layers, dim = model.config.num_hidden_layers + 1, model.config.hidden_size
    max_length = min(max_length, model.config.max_position_embeddings)  # the model cannot see further
    enc = tok(words, is_split_into_words=True, truncation=True, max_length=max_length)
    ids = enc["input_ids"]
    word_ids = [[-1 if w is None else w for w in enc.word_ids(i)] for i in range(len(texts))]

    m = options["word_sentences"]
    offsets = np.concatenate([[0], np.cumsum([len(w) for w in words[:m]])]).astype(np.int64)
    forms = [[dictionary_form(w) for w in ws] for ws in words] if types else []
    vocab = type_vocabulary(forms, types["min_count"], types["max_vocab"]) if types else []
    type_index = {w: i for i, (w, _) in enumerate(vocab)}

    started = time.perf_counter()
    with atomic_dir(out_dir) as tmp:
        sent = np.lib.format.open_memmap(tmp / "sentences.npy", "w+", np.float32, (n_layers, len(texts), dim))
        word_arr = np.lib.format.open_memmap(tmp / "words.npy", "w+", np.float16, (n_layers, int(offsets[-1]), dim)) if m else None
        t_sum = torch.zeros(n_layers, len(vocab), dim, device=dev) if vocab else None
        t_cnt = torch.zeros(len(vocab), device=dev) if vocab else None
        order = sorted(range(len(texts)), key=lambda i: (len(ids[i]), i))   # length buckets: little padding
        batches = [order[s:s + batch_size] for s in range(0, len(order), batch_size)]
        n_tokens = n_truncated = 0
        for batch in tqdm(batches, desc=f"encode {source or Path(model_dir).name}", disable=not progress):
            hidden, wid = _encode_batch(model, [ids[i] for i in batch], [word_ids[i] for i in batch],
                                        tok.pad_token_id, dev, precision)
            valid = wid >= 0
            n_tokens += int(valid.sum())
            count = valid.sum(1).clamp(min=1).float()
            sent[:, batch] = (torch.einsum("lbsd,bs->lbd", hidden, valid.float()) / count[None, :, None]).cpu().numpy()
            # word vectors: average the pieces of each word (words are numbered across the batch)
            n_words = torch.tensor([len(words[i]) for i in batch], device=dev)
            base = torch.cumsum(n_words, 0) - n_words
            flat = (base[:, None] + wid)[valid]
            w_sum = torch.zeros(n_layers, int(n_words.sum()), dim, device=dev).index_add_(1, flat, hidden[:, valid])
            w_cnt = torch.bincount(flat, minlength=w_sum.shape[1]).float()
            w_vec = w_sum / w_cnt.clamp(min=1)[None, :, None]
            n_truncated += int((w_cnt == 0).sum())
            if word_arr is not None:
                rows = [(offsets[i] + j, int(base[b]) + j) for b, i in enumerate(batch) if i < m for j in range(len(words[i]))]
                if rows:
                    dst, src = map(list, zip(*rows))
                    word_arr[:, dst] = w_vec[:, src].cpu().numpy().astype(np.float16)
            if t_sum is not None:
                tid = torch.tensor([type_index.get(f, -1) for i in batch for f in forms[i]], device=dev)
                ok = (tid >= 0) & (w_cnt > 0)
                t_sum.index_add_(1, tid[ok], w_vec[:, ok])
                t_cnt.index_add_(0, tid[ok], torch.ones(int(ok.sum()), device=dev))
        sent.flush()
        files = ["sentences.npy"]
        if word_arr is not None:
            word_arr.flush()
            np.save(tmp / "word_offsets.npy", offsets)
            files += ["words.npy", "word_offsets.npy"]
        if t_sum is not None:
            # types whose every occurrence was truncated away keep a zero vector and count 0
            np.save(tmp / "types.npy", (t_sum / t_cnt.clamp(min=1)[None, :, None]).cpu().numpy())
            with open(tmp / "types.tsv", "w", encoding="utf-8") as f:
                f.writelines(f"{w}\t{int(c)}\n" for (w, _), c in zip(vocab, t_cnt.tolist()))
            files += ["types.npy", "types.tsv"]
        n_emb = 0
        if embeddings:
            pieces = embedding_words(tok)
            table = model.get_input_embeddings().weight.detach().float().cpu()
            np.save(tmp / "embeddings.npy", table[[i for _, i in pieces]].numpy())
            (tmp / "embedding_words.txt").write_text("".join(f"{w}\n" for w, _ in pieces), encoding="utf-8")
            files += ["embeddings.npy", "embedding_words.txt"]
            n_emb = len(pieces)
        seconds = time.perf_counter() - started
        manifest = {"key": key, "model": str(model_dir), "source": source, "files": files,
                    "n_sentences": len(texts), "n_layers": n_layers, "dim": dim, "word_sentences": m,
                    "n_words": int(offsets[-1]), "n_types": len(vocab), "n_embedding_words": n_emb,
                    "tokens": n_tokens, "truncated_words": n_truncated, "device": str(dev),
                    "seconds": round(seconds, 3), "tokens_per_s": round(n_tokens / max(seconds, 1e-9), 1)}
        write_json(tmp / "manifest.json", manifest)
    return manifest


@torch.inference_mode()
def _encode_batch(model, ids: list[list[int]], word_ids: list[list[int]], pad_id: int, dev: torch.device,
                  precision: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Hidden states (L+1, B, S, d) float32 of one padded batch and the word index of every piece (-1: none)."""
    width = max(map(len, ids))
    input_ids = torch.full((len(ids), width), pad_id, dtype=torch.long)
    wid = torch.full((len(ids), width), -1, dtype=torch.long)
    for b, (row, w) in enumerate(zip(ids, word_ids)):
        input_ids[b, :len(row)] = torch.tensor(row)
        wid[b, :len(w)] = torch.tensor(w)
    input_ids, wid = input_ids.to(dev), wid.to(dev)
    mask = (torch.arange(width, device=dev)[None, :] < torch.tensor([len(r) for r in ids], device=dev)[:, None]).long()
    with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=precision == "bf16"):
        out = model(input_ids=input_ids, attention_mask=mask, output_hidden_states=True)
    return torch.stack(out.hidden_states).float(), wid


class Features:
    """Read-only access to one extraction folder (arrays are memory-mapped)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not (self.path / "manifest.json").is_file():
            raise FileNotFoundError(f"{self.path}: no manifest.json; run the extraction for this view and set first")
        self.manifest = read_json(self.path / "manifest.json")
        self.n_layers, self.dim, self.n = self.manifest["n_layers"], self.manifest["dim"], self.manifest["n_sentences"]

    def _need(self, name: str) -> Path:
        if name not in self.manifest["files"]:
            raise ValueError(f"{self.path}: extraction has no {name} (its set config does not ask for it)")
        return self.path / name

    def sentences(self, layer: int, index=None) -> torch.Tensor:
        arr = np.load(self._need("sentences.npy"), mmap_mode="r")[layer]
        return torch.from_numpy(np.array(arr if index is None else arr[np.asarray(index)], dtype=np.float32))

    def word_offsets(self) -> np.ndarray:
        return np.load(self._need("word_offsets.npy"))

    def words(self, layer: int, rows=None) -> torch.Tensor:
        arr = np.load(self._need("words.npy"), mmap_mode="r")[layer]
        return torch.from_numpy(np.array(arr if rows is None else arr[np.asarray(rows)], dtype=np.float32))

    def types(self) -> tuple[list[str], np.ndarray]:
        with open(self._need("types.tsv"), encoding="utf-8") as f:
            rows = [line.rstrip("\n").split("\t") for line in f]
        return [r[0] for r in rows], np.array([int(r[1]) for r in rows], dtype=np.int64)

    def type_vectors(self, layer: int) -> torch.Tensor:
        return torch.from_numpy(np.array(np.load(self._need("types.npy"), mmap_mode="r")[layer], dtype=np.float32))

    def embeddings(self) -> tuple[list[str], torch.Tensor]:
        words = self._need("embedding_words.txt").read_text(encoding="utf-8").splitlines()
        return words, torch.from_numpy(np.load(self._need("embeddings.npy")))


def same_sentences(a: Features, b: Features) -> None:
    """Paired analyses need both sides to encode the same number of sentences."""
    if a.n != b.n:
        raise ValueError(f"{a.path} has {a.n} sentences but {b.path} has {b.n}; the two sides must be parallel")
    if a.n_layers != b.n_layers:
        raise ValueError(f"{a.path} has {a.n_layers} layers but {b.path} has {b.n_layers}")



def extract_set(model_dir: str | Path, sets: dict, set_id: str, lang: str, out_dir: str | Path, *, init: str,
                seed: int, batch_size: int, max_length: int, device: str, precision: str) -> dict:
    """Encode one configured evaluation set (see `xstruct.analysis.texts`) with one model view. Per-word vectors
    are kept for trained views only (word alignment); random encoders keep types and embeddings too, since they
    are the no-pretraining control of CKA, retrieval and word translation."""
    from .texts import read_set, set_spec

    spec, trained = set_spec(sets, set_id), init == "trained"
    return extract(model_dir, read_set(sets, set_id, lang), out_dir, init=init, seed=seed, batch_size=batch_size,
                   max_length=max_length, word_sentences=spec.get("word_sentences", 0) if trained else 0,
                   types=spec.get("types"), embeddings=spec.get("embeddings", False),
                   device=device, precision=precision, source=f"{set_id}.{lang}")
