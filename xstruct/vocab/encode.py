"""Encode a corpus text once into the global-id array that pretraining memory-maps.

Format (the artifact contract): a 1-D .npy of GLOBAL ids, every line's pieces followed by [SEP], lines
concatenated; uint16 when the global vocabulary fits, else int32. Lines are encoded in batches by the view's
Hugging Face tokenizer (the one downstream tasks use, so both see the same pieces) and streamed to disk, so the
text never has to fit in memory.
"""
from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
from tqdm import tqdm
from transformers import AutoTokenizer

from xstruct.corpora.text import check_parts
from xstruct.io import atomic_write, read_json, write_json
from xstruct.vocab import SEP, UNK


def id_dtype(global_size: int) -> np.dtype:
    return np.dtype(np.uint16 if global_size <= np.iinfo(np.uint16).max + 1 else np.int32)


def _batches(path: Path, batch_lines: int, bar: tqdm) -> Iterator[list[str]]:
    with path.open("rb") as f:
        for start in itertools.count(1, batch_lines):
            chunk = list(itertools.islice(f, batch_lines))
            if not chunk:
                return
            bar.update(sum(map(len, chunk)))
            yield [_decode(line, path, start + i) for i, line in enumerate(chunk)]


def _decode(line: bytes, path: Path, number: int) -> str:
    try:
        return line.decode("utf-8").rstrip("\n")
    except UnicodeDecodeError:
        raise ValueError(f"{path}:{number}: line is not UTF-8") from None


def encode_text(text: str | Path, tokenizer, to_global: np.ndarray, dtype: np.dtype, out: str | Path,
                stats: str | Path, batch_lines: int = 2048) -> dict:
    """Write `out` (.npy of global ids) and `stats` ({lines, tokens, unk}) for one text; return the stats."""
    text, out = Path(text), Path(out)
    if not text.is_file():
        raise FileNotFoundError(f"{text}: corpus text not found")
    lines = tokens = unk = 0
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=out.parent) as raw, \
            tqdm(total=os.path.getsize(text), unit="B", unit_scale=True, desc=f"encode {text.name}") as bar:
        for batch in _batches(text, batch_lines, bar):
            encoded = tokenizer(batch, add_special_tokens=False)["input_ids"]
            local = np.fromiter(itertools.chain.from_iterable(ids + [SEP] for ids in encoded), dtype=np.int64)
            raw.write(to_global[local].astype(dtype).tobytes())
            lines += len(batch)
            tokens += len(local)
            unk += int((local == UNK).sum())
        raw.seek(0)
        with atomic_write(out, "wb") as f:
            np.lib.format.write_array_header_1_0(
                f, {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": (tokens,)})
            shutil.copyfileobj(raw, f)
    result = {"lines": lines, "tokens": tokens, "unk": unk}
    write_json(stats, result)
    return result


def encode_view(texts: Sequence[str | Path], hf_dir: str | Path, map_path: str | Path, meta: str | Path,
                outs: Sequence[str | Path], stats: Sequence[str | Path]) -> list[dict]:
    """Encode each text of a language view with its tokenizer into outs[i] (+ stats[i])."""
    if not len(texts) == len(outs) == len(stats):
        raise ValueError(f"encode_view: {len(texts)} texts, {len(outs)} outputs and {len(stats)} stats files")
    check_parts(texts)
    tokenizer = AutoTokenizer.from_pretrained(str(hf_dir))
    to_global = np.load(map_path)
    dtype = id_dtype(read_json(meta)["global_size"])
    return [encode_text(t, tokenizer, to_global, dtype, o, s) for t, o, s in zip(texts, outs, stats)]
