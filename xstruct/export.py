"""Export a trained run as one standard Hugging Face `BertForMaskedLM` folder per language view.

A view holds that language's separate parts plus the shared ones, with the vocabulary restricted to the
language's LOCAL ids (rows `ids/{lang}.map.npy` of a shared global embedding, or the language's own table), so
it loads with `AutoModelForMaskedLM.from_pretrained` next to the tokenizer copied from `hf/{lang}`, with no
custom code. `sharing.json` names the HF parameters that are language-specific.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import torch

from .integrity import ArtifactError, verify
from .io import atomic_dir, file_entry, read_json, write_json
from .model import SHARED, MaskedLM


def hf_view(model: MaskedLM, lang: str, local_to_global: np.ndarray) -> dict[str, tuple[torch.Tensor, bool]]:
    """HF parameter name -> (tensor, language-specific?) for `lang`'s view of the model."""
    if model.cfg.norm != "post":
        raise ValueError(f"model.norm={model.cfg.norm!r}: only post-norm models export to BertForMaskedLM")
    key = lambda parts: lang if lang in parts else SHARED
    ek = key(model.embeddings)
    emb, sep = model.embeddings[ek], ek != SHARED
    rows = slice(None) if sep else torch.from_numpy(np.asarray(local_to_global, dtype=np.int64))
    word, bias = emb.word.weight[rows], emb.out_bias[rows]
    d = model.cfg.hidden
    out = {
        "bert.embeddings.word_embeddings.weight": (word, sep),
        "bert.embeddings.position_embeddings.weight": (emb.position.weight, sep),
        "bert.embeddings.token_type_embeddings.weight": (torch.zeros(1, d), False),   # unused: one segment type
        "bert.embeddings.LayerNorm.weight": (emb.norm.weight, sep),
        "bert.embeddings.LayerNorm.bias": (emb.norm.bias, sep),
    }
    for i, layer in enumerate(model.layers):
        lk = key(layer)
        b, sep_l, p = layer[lk], lk != SHARED, f"bert.encoder.layer.{i}."
        for name, w, bb in zip(("query", "key", "value"), b.qkv.weight.chunk(3), b.qkv.bias.chunk(3)):
            out[f"{p}attention.self.{name}.weight"] = (w, sep_l)
            out[f"{p}attention.self.{name}.bias"] = (bb, sep_l)
        for hf, mod in (("attention.output.dense", b.attn_out), ("attention.output.LayerNorm", b.attn_norm),
                        ("intermediate.dense", b.ffn_in), ("output.dense", b.ffn_out), ("output.LayerNorm", b.ffn_norm)):
            out[f"{p}{hf}.weight"] = (mod.weight, sep_l)
            out[f"{p}{hf}.bias"] = (mod.bias, sep_l)
    head = model.head
    out |= {
        "cls.predictions.transform.dense.weight": (head.dense.weight, False),
        "cls.predictions.transform.dense.bias": (head.dense.bias, False),
        "cls.predictions.transform.LayerNorm.weight": (head.norm.weight, False),
        "cls.predictions.transform.LayerNorm.bias": (head.norm.bias, False),
        "cls.predictions.bias": (bias, sep),
        "cls.predictions.decoder.weight": (word, sep),      # tied to the word embeddings
        "cls.predictions.decoder.bias": (bias, sep),
    }
    return {k: (t.detach().float().cpu().contiguous(), s) for k, (t, s) in out.items()}


def bert_config(model: MaskedLM, vocab_size: int):
    from transformers import BertConfig
    c = model.cfg
    return BertConfig(vocab_size=vocab_size, hidden_size=c.hidden, num_hidden_layers=c.layers,
                      num_attention_heads=c.heads, intermediate_size=c.ffn_ratio * c.hidden, hidden_act="gelu",
                      hidden_dropout_prob=c.dropout, attention_probs_dropout_prob=c.attention_dropout,
                      max_position_embeddings=c.max_positions, type_vocab_size=1, layer_norm_eps=c.layer_norm_eps,
                      initializer_range=c.init_std, pad_token_id=0, tie_word_embeddings=True)


def export_view(model: MaskedLM, lang: str, local_to_global: np.ndarray, tokenizer_dir: Path, out: Path) -> list[str]:
    """Write `lang`'s view to `out` (atomically); returns the names of its language-specific parameters."""
    from transformers import BertForMaskedLM
    view = hf_view(model, lang, local_to_global)
    hf = BertForMaskedLM(bert_config(model, len(local_to_global)))
    missing, unexpected = hf.load_state_dict({k: t for k, (t, _) in view.items()}, strict=False)
    if missing or unexpected:
        raise RuntimeError(f"export of {lang}: parameters missing {missing} / unexpected {unexpected}")
    hf.eval()
    with atomic_dir(out) as tmp:
        hf.save_pretrained(tmp)
        for f in Path(tokenizer_dir).iterdir():
            if f.is_file():
                shutil.copy2(f, tmp / f.name)
    return [k for k, (_, sep) in view.items() if sep]


def export_run(model: MaskedLM, maps: dict[str, np.ndarray], vocab_dir: Path, out_dir: Path, run: dict,
               metrics: dict) -> None:
    """Every language view, then sharing.json (written after the views: its presence means they are complete)."""
    out_dir, separate = Path(out_dir), []
    for lang, m in maps.items():
        names = export_view(model, lang, m, Path(vocab_dir) / "hf" / lang, out_dir / lang)
        separate = separate or names
    files = {f.relative_to(out_dir).as_posix(): file_entry(f)
             for lang in maps for f in sorted((out_dir / lang).iterdir()) if f.is_file()}
    write_json(out_dir / "sharing.json", {
        "separate": separate, "languages": list(maps), "condition": run["condition"], "run": run["id"],
        "vocab": str(vocab_dir), "best_step": metrics["best_step"], "files": files,
    })


def view_files(sharing_path: str | Path) -> dict[Path, dict]:
    """Each file of a run's exported views -> the entry sharing.json recorded for it (none before checksums)."""
    sharing_path = Path(sharing_path)
    return {sharing_path.parent / rel: e for rel, e in read_json(sharing_path).get("files", {}).items()}


_checked: set[tuple[Path, int]] = set()    # (view, sharing.json mtime) already verified in this process


def check_view(folder: str | Path) -> None:
    """Raise integrity.ArtifactError if a file of an exported view is not the one its export wrote. A job loads
    a view several times (tokenizer, config, one encoder per setting): its files are hashed once."""
    folder = Path(folder)
    sharing = folder.parent / "sharing.json"
    if not sharing.is_file():
        return
    key = (folder.resolve(), sharing.stat().st_mtime_ns)
    if key not in _checked:
        verify({p: e for p, e in view_files(sharing).items() if p.parent == folder}, sharing)
        _checked.add(key)


def from_export(loader, folder: str | Path, **kwargs):
    """`loader.from_pretrained(folder)` for an exported view (AutoTokenizer, AutoConfig, AutoModel...), after
    checking its files against sharing.json; every failure is one ArtifactError line naming the folder."""
    from transformers.utils import logging

    folder = Path(folder)
    needed = "tokenizer.json" if loader.__name__ == "AutoTokenizer" else "config.json"
    if not (folder / needed).is_file():
        raise ArtifactError(f"{folder}: not an exported view ({needed} missing); rerun Snakemake to export it")
    check_view(folder)
    verbosity = logging.get_verbosity()
    logging.set_verbosity_error()  # an MLM checkpoint loaded as an encoder drops its head, on purpose
    try:
        return loader.from_pretrained(folder, **kwargs)
    except Exception as err:  # noqa: BLE001 - truncated safetensors, bad JSON, ...: all mean "re-export"
        why = " ".join(str(err).split())[:100]
        raise ArtifactError(f"{folder}: cannot load the exported view ({type(err).__name__}: {why}); "
                            f"delete the run's folder ({Path(folder).parent}) and rerun Snakemake to re-export it") from None
    finally:
        logging.set_verbosity(verbosity)
