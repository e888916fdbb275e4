"""A language view of a vocabulary: a Hugging Face fast tokenizer with the view's local ids, its local ->
global id map, and its corpus parts encoded with that tokenizer.

The tokenizer is built from the SentencePiece model by transformers' own converter
(`SpmConverter.build_tokenizer_from_spm_proto`: the model's normalizer, whitespace handling and BPE merges ranked
by piece score), so it encodes like `SentencePieceProcessor.encode`; it is saved as a plain `tokenizer.json`
that `AutoTokenizer.from_pretrained` loads without custom code and that adds [CLS] ... [SEP] around a text.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sentencepiece import sentencepiece_model_pb2
from tokenizers import processors
from transformers import PreTrainedTokenizerFast
from transformers.convert_slow_tokenizer import SpmConverter

from xstruct.io import atomic_dir, atomic_write
from xstruct.vocab import CLS, MASK, PAD, SEP, SPECIALS, UNK
from xstruct.vocab.encode import encode_view
from xstruct.vocab.table import local_to_global, model_pieces, read_table


def hf_tokenizer(model: str | Path) -> PreTrainedTokenizerFast:
    """The fast tokenizer of a SentencePiece BPE model, ids unchanged, with the BERT [CLS]/[SEP] template."""
    proto = sentencepiece_model_pb2.ModelProto()
    proto.ParseFromString(Path(model).read_bytes())
    vocab = {piece.piece: i for i, piece in enumerate(proto.pieces)}
    backend = SpmConverter.build_tokenizer_from_spm_proto(proto, vocab)
    cls, sep = SPECIALS[CLS], SPECIALS[SEP]
    # Pretraining streams one segment type (MLM without next-sentence prediction), so a pair keeps type 0 too
    # and the tokenizer returns no token_type_ids: the model's defaults are what it was trained on.
    backend.post_processor = processors.TemplateProcessing(
        single=f"{cls} $A {sep}", pair=f"{cls} $A {sep} $B {sep}", special_tokens=[(cls, CLS), (sep, SEP)])
    return PreTrainedTokenizerFast(
        tokenizer_object=backend, pad_token=SPECIALS[PAD], unk_token=SPECIALS[UNK], cls_token=cls,
        sep_token=sep, mask_token=SPECIALS[MASK], model_input_names=["input_ids", "attention_mask"])


def export_tokenizer(model: str | Path, out_dir: str | Path) -> None:
    tokenizer = hf_tokenizer(model)
    with atomic_dir(out_dir) as tmp:
        tokenizer.save_pretrained(tmp)


def export_view(lang: str, model: str | Path, tsv: str | Path, hf_dir: str | Path, map_path: str | Path) -> None:
    """Write a language view: its tokenizer folder (local ids) and ids/{lang}.map.npy (local -> global)."""
    mapping = local_to_global(read_table(tsv), lang, model_pieces(model))
    export_tokenizer(model, hf_dir)
    with atomic_write(map_path, "wb") as f:
        np.save(f, mapping)


def build_view(lang: str, model: str | Path, tsv: str | Path, meta: str | Path, hf_dir: str | Path,
               map_path: str | Path, texts: Sequence[str | Path], ids: Sequence[str | Path],
               stats: Sequence[str | Path]) -> list[dict]:
    """The whole view: tokenizer, id map, then each text encoded into ids[i] (+ stats[i]) by that tokenizer."""
    export_view(lang, model, tsv, hf_dir, map_path)
    return encode_view(texts, hf_dir, map_path, meta, ids, stats)
