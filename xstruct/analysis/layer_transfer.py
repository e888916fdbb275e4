"""Zero-shot transfer through contextual alignment (paper §5.1.2, Figs. 5 and 8).

For each layer i = 0..L (0 = embedding output): freeze the first i layers of an English model, train `top_layers`
fresh transformer layers and a task head on English (best epoch on English dev), then test on the target language
by encoding with the target model's first i layers, mapping them into the English model's layer-i space, and
applying the trained top. Settings (one table row per setting and layer):

  mono      "MLM align": English monolingual model; target monolingual model + the layer-i map (target -> English)
  bi        "biMLM": the bilingual model's English view; its target view, no map
  bi+align  Fig. 8: as bi, with the map learnt on the bilingual model's own layer-i word vectors

Settings that read the same English model share one trained top per layer (bi and bi+align differ only at test).
The fine-tuning step, heads, encoding and scores are those of `xstruct.finetune` and `xstruct.tasks`. Output:
`xstruct.paths.alignment_transfer_table(xx, task)` with columns setting, layer, dev, test, metric.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import torch
from torch import nn
from tqdm.auto import tqdm

from xstruct.export import from_export
from xstruct.finetune import (METRIC, TaskModel, TrainData, label_set, load_encoder, load_tokenizer, max_length_of,
                               predict, score, seed_everything, train_setting)
from xstruct.hardware import resolve_device
from xstruct.tasks import task_kind
from xstruct.tasks.encoding import Pieces, encode
from xstruct.tasks.examples import example_path, read_examples
from xstruct.tasks.heads import build_head

from .align import Map
from .csv_tables import write_csv_table
from .wordalign import load_maps

SETTINGS = ("mono", "bi", "bi+align")
COLUMNS = ["setting", "layer", "dev", "test", "metric"]


def transformer_top(dim: int, layers: int, heads: int, ffn: int, dropout: float) -> nn.TransformerEncoder:
    """The trainable layers above the frozen prefix (post-norm, GELU, like BERT)."""
    layer = nn.TransformerEncoderLayer(dim, heads, ffn, dropout, activation="gelu", batch_first=True)
    return nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)


class AlignedEncoder(nn.Module):
    """A drop-in encoder for `xstruct.finetune.TaskModel` (it returns `.last_hidden_state`): the first `layer`
    layers of a frozen BERT view, optionally a map into the English model's layer space, then `top`."""

    def __init__(self, base: nn.Module, layer: int, top: nn.Module | None = None, mapping: Map | None = None):
        super().__init__()
        n = base.config.num_hidden_layers
        if not 0 <= layer <= n:
            raise ValueError(f"aligned encoder: layer {layer} must be in 0..{n}")
        base.encoder.layer = nn.ModuleList(base.encoder.layer[:layer])   # layers above i are never run
        for p in base.parameters():
            p.requires_grad_(False)
        self.base, self.layer, self.top, self.mapping = base.eval(), layer, top, mapping

    @property
    def config(self):
        return self.base.config

    def train(self, mode: bool = True):
        super().train(mode)
        self.base.eval()          # the prefix is frozen: no dropout in it either
        return self

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor):
        with torch.no_grad():
            h = self.base(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            if self.mapping is not None:  # maps are fitted (and kept) on the CPU, in float64
                flat = self.mapping.to_target(h.reshape(-1, h.shape[-1]).cpu())
                h = flat.reshape(h.shape).to(h.device, h.dtype)
        if self.top is not None:
            h = self.top(h, src_key_padding_mask=attention_mask == 0)
        return SimpleNamespace(last_hidden_state=h)


@dataclass(frozen=True)
class Setting:
    name: str
    source: Path                  # English model view (frozen prefix at training time)
    target: Path                  # target-language model view (frozen prefix at test time)
    maps: list | None = None      # per layer 0..L, target -> English; None: no map


@dataclass(frozen=True)
class Recipe:
    """How the top and head are trained (config `analysis.alignment.transfer`)."""
    top_layers: int
    dropout: float
    epochs: int
    lr: float
    batch_size: int


def _encoded(folder: Path, kind: str, labels: list[str], examples: dict[str, list[dict]], max_length: int):
    tok = load_tokenizer(folder)
    pieces = Pieces(tok)
    max_length = max_length_of(folder, max_length)
    return tok.pad_token_id, {k: encode(v, kind, pieces, labels, max_length) for k, v in examples.items()}


def _architecture(folder: Path) -> tuple[int, int]:
    from transformers import AutoConfig

    cfg = from_export(AutoConfig, folder)
    return cfg.num_hidden_layers, cfg.hidden_size


def train_top(kind: str, spec: dict, recipe: Recipe, source: Path, layer: int, labels: list[str], train: list[dict],
              dev: list[dict], dev_examples: list[dict], pad: int, *, seed: int, device: torch.device,
              desc: str = "") -> tuple[TaskModel, dict]:
    """Fresh top layers + head trained on the frozen first `layer` layers of `source` (the best English dev epoch
    kept), with `xstruct.finetune.train_setting`'s loop; `spec` gives everything but the recipe's numbers."""
    rng = seed_everything(seed)
    base = load_encoder(source)
    cfg = base.config
    top = transformer_top(cfg.hidden_size, recipe.top_layers, cfg.num_attention_heads, cfg.intermediate_size,
                          recipe.dropout)
    encoder = AlignedEncoder(base, layer, top)
    model = TaskModel(encoder, build_head(kind, cfg.hidden_size, labels, spec["head"]))
    config = {**spec, "epochs": recipe.epochs, "batch_size": recipe.batch_size, "lr": recipe.lr, "head_lr": recipe.lr}
    model, record = train_setting(model, TrainData(kind, train, dev, dev_examples, pad), config, rng, device, desc)
    return model, {"seed": seed, **record}


def transfer_sweep(kind: str, spec: dict, train: list[dict], dev: list[dict], test: list[dict],
                   settings: list[Setting], recipe: Recipe, *, seed: int, device: torch.device,
                   layers: list[int] | None = None, desc: str = "") -> pd.DataFrame:
    """One row per (setting, layer): English dev score of the selected epoch, target test score, metric name.

    `spec` holds the task's fine-tuning settings (`xstruct.tasks.transfer_jobs.task_spec`); `train`/`dev` are English
    examples, `test` the target language's."""
    if not settings:
        raise ValueError("alignment transfer: no settings to run")
    names = [s.name for s in settings]
    if len(set(names)) != len(names):
        raise ValueError(f"alignment transfer: setting names {names} must be distinct")
    metric = METRIC[kind]
    labels = label_set(kind, train)
    groups: dict[Path, list[Setting]] = {}
    for s in settings:
        groups.setdefault(Path(s.source), []).append(s)
    shapes = {Path(f): _architecture(f) for s in settings for f in (s.source, s.target)}
    first, shape = next(iter(shapes.items()))
    for folder, other in shapes.items():
        if other != shape:
            raise ValueError(f"{folder}: (layers, hidden size) {other} differ from {first}'s {shape}; the prefix of "
                             "one model must feed the top trained on the other")
    n_layers = shape[0]
    for s in settings:
        if s.maps is not None and len(s.maps) != n_layers + 1:
            raise ValueError(f"setting {s.name}: {len(s.maps)} maps, expected one per layer 0..{n_layers} "
                             "(analysis.alignment maps of another model?)")
    layers = list(range(n_layers + 1)) if layers is None else layers
    targets = {}
    for s in settings:
        if Path(s.target) not in targets:
            targets[Path(s.target)] = _encoded(Path(s.target), kind, labels, {"test": test}, spec["max_length"])
    rows = []
    bar = tqdm(total=len(groups) * len(layers), desc=f"{desc} alignment transfer")
    for source, group in groups.items():
        pad, enc = _encoded(source, kind, labels, {"train": train, "dev": dev}, spec["max_length"])
        enc["train"] = [e for e in enc["train"] if e["first"]]  # nothing to learn from a sentence cut to nothing
        for layer in layers:
            label = f"{desc} {'/'.join(s.name for s in group)} L{layer}"
            tuned, record = train_top(kind, spec, recipe, source, layer, labels, enc["train"], enc["dev"], dev, pad,
                                      seed=seed, device=device, desc=label)
            for s in group:
                t_pad, t_enc = targets[Path(s.target)]
                mapping = s.maps[layer] if s.maps is not None else None
                tested = TaskModel(AlignedEncoder(load_encoder(s.target), layer, tuned.encoder.top, mapping),
                                   tuned.head).to(device)
                got = score(kind, test, predict(tested, t_enc["test"], spec["eval_batch_size"], t_pad, device,
                                                f"{label} test {s.name}"))
                rows.append({"setting": s.name, "layer": layer, "dev": record["dev"][metric], "test": got[metric],
                             "metric": metric})
            bar.update()
    bar.close()
    order = {n: i for i, n in enumerate(names)}
    rows.sort(key=lambda r: (order[r["setting"]], r["layer"]))
    return pd.DataFrame(rows, columns=COLUMNS)


def _capped(examples: list[dict], limit: int | None) -> list[dict]:
    return examples if limit is None else examples[:limit]  # prepared files are in a fixed order


def run_alignment_transfer(task: str, spec: dict, data_dir: str | Path, target: str, views: dict[str, dict],
                           out_csv: str | Path, *, recipe: Recipe, max_examples: dict, seed: int, source: str = "en",
                           device: str = "auto") -> pd.DataFrame:
    """The Fig. 5/8 table of one task and one en-xx pair, written atomically to `out_csv`.

    `views`: setting -> {"source": English model folder, "target": xx model folder, "maps": maps file or None}."""
    started = time.time()
    kind = task_kind(spec, task)
    if kind not in ("tag", "parse"):
        raise ValueError(f"analysis.alignment.transfer.tasks: {task!r} is a {kind} task; only word-level "
                         "(tag, parse) tasks are transferred through word alignment")
    unknown = [k for k in max_examples if k not in ("train", "dev", "test")]
    if unknown:
        raise ValueError(f"analysis.alignment.transfer.max_examples: unknown split(s) {unknown}; use train, dev, test")
    bad = [s for s in views if s not in SETTINGS]
    if bad:
        raise ValueError(f"alignment transfer: settings {bad} must be among {', '.join(SETTINGS)}")
    settings = [Setting(name, Path(v["source"]), Path(v["target"]), load_maps(v["maps"]) if v.get("maps") else None)
                for name, v in views.items()]
    data = {split: _capped(read_examples(example_path(data_dir, lang, split), kind), max_examples.get(split))
            for lang, split in ((source, "train"), (source, "dev"), (target, "test"))}
    table = transfer_sweep(kind, spec, data["train"], data["dev"], data["test"], settings, recipe, seed=seed,
                           device=resolve_device(device), desc=f"{task} {source}-{target}")
    write_csv_table(table, out_csv)
    print(f"{task} {source}-{target}: {len(table)} rows in {time.time() - started:.1f} s", file=sys.stderr)
    return table
