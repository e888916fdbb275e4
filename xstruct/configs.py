"""The encoder's and the pretraining recipe's settings, checked where they are read and up front (no torch).

`ModelConfig` and `PretrainConfig` are built from the config's `model` and `pretrain` sections; `check_recipe`
runs every check the recipe would, so a bad value fails in one line before Snakemake schedules any job.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass, fields


@dataclass(frozen=True)
class ModelConfig:
    layers: int = 4
    hidden: int = 256
    heads: int = 4
    ffn_ratio: int = 4             # feed-forward inner size = ffn_ratio * hidden (paper: 3072 = 4 * 768)
    max_positions: int = 128       # learned position embeddings; streams are at most this long
    dropout: float = 0.1
    attention_dropout: float = 0.1
    norm: str = "post"             # "post" (BERT; exports to BertForMaskedLM) or "pre"
    layer_norm_eps: float = 1e-12
    init_std: float = 0.02
    # Initialisation only (the trained model is a plain BERT): "sinusoidal" starts the learned position embeddings
    # from Transformer sinusoids scaled to init_std, so nearby positions start similar; a mimetic_qk_std starts each
    # layer's key projection equal to its query projection (Trockman & Kolter 2023), drawn with that std, so
    # attention starts to favour similar tokens and nearby positions instead of being uniform.
    position_init: str = "normal"
    mimetic_qk_std: float | None = None

    @classmethod
    def from_dict(cls, d: dict, where: str = "model") -> ModelConfig:
        return dataclass_from_dict(cls, d, where)

    def __post_init__(self):
        if self.hidden % self.heads:
            raise ValueError(f"model.hidden={self.hidden} must be a multiple of model.heads={self.heads}")
        if self.position_init not in ("normal", "sinusoidal"):
            raise ValueError(f"model.position_init={self.position_init!r}: expected 'normal' or 'sinusoidal'")
        if self.norm not in ("post", "pre"):
            raise ValueError(f"model.norm={self.norm!r}: expected 'post' or 'pre'")


def merge_config(base: dict, over: dict) -> dict:
    """`over` merged into a copy of `base` as Snakemake merges a --configfile: mappings merge key by key,
    anything else (lists included) replaces."""
    out = copy.deepcopy(base)
    for k, v in over.items():
        out[k] = merge_config(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def dataclass_from_dict(cls, d: dict, where: str):
    """Build a config dataclass from a plain dict; unknown keys are an error, missing keys keep their defaults."""
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(d) - known)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(unknown)}; expected a subset of {', '.join(sorted(known))}")
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})


@dataclass(frozen=True)
class PretrainConfig:
    seq_len: int = 128                 # tokens per stream (paper: 256)
    curriculum: tuple = ()             # length curriculum: (stream length, share of the steps) stages of shorter
                                       # streams (same tokens per step) before seq_len (BERT: 128, then 512)
    batch_size: int = 64               # streams per batch and per process (paper: 96 per GPU)
    max_steps: int | None = None       # stop at this many optimizer steps ...
    max_tokens: int | None = None      # ... or after this many training tokens, whichever comes first
    lr: float = 1e-3                   # peak learning rate (paper: 1e-4)
    warmup_steps: int = 200            # linear warm-up (paper: 30k) ...
    schedule: str = "inverse_sqrt"     # ... then inverse square root (paper), constant, or linear decay to 0
    adam_betas: tuple = (0.9, 0.999)
    adam_eps: float = 1e-8
    weight_decay: float = 0.0          # 0 = plain Adam, as in the paper
    clip_norm: float = 1.0             # gradient norm clipping; 0 = off
    mask_rate: float = 0.15
    mask_split: tuple = (0.8, 0.1, 0.1)  # [MASK] / random token / unchanged
    lang_alpha: float = 0.7            # language sampling exponent
    codeswitch_prob: float = 0.3       # Extra anchors: replace a dictionary word with this probability ...
    codeswitch_max_rate: float = 0.15  # ... never more than this share of the words of a batch
    eval_every: int = 100              # steps between validation runs (and a final one at the end)
    eval_tokens: int = 16384           # validation tokens per language (from the start of the valid part)
    checkpoint_every: int = 100        # steps between resumable checkpoints (and on SIGTERM/SIGUSR1)
    log_every: int = 10                # steps between training-loss log rows
    bf16: bool = True                  # bf16 autocast (CPU: only where the CPU has bf16 instructions)
    compile: bool = False              # torch.compile the training forward
    device: str = "auto"               # auto | cpu | cuda

    @classmethod
    def from_dict(cls, d: dict, where: str = "pretrain") -> PretrainConfig:
        cfg = dataclass_from_dict(cls, d, where)
        if cfg.max_steps is None and cfg.max_tokens is None:
            raise ValueError(f"{where}: set max_steps or max_tokens (the training budget)")
        for i, stage in enumerate(cfg.curriculum):
            if len(stage) != 2 or not 0 < stage[0] < cfg.seq_len or (cfg.seq_len * cfg.batch_size) % stage[0]:
                raise ValueError(f"{where}.curriculum[{i}]={list(stage)}: expected [length, share] with a length "
                                 f"below seq_len that divides the tokens of a batch "
                                 f"(batch_size x seq_len = {cfg.batch_size * cfg.seq_len})")
        if not 0 <= sum(share for _, share in cfg.curriculum) <= 1:
            raise ValueError(f"{where}.curriculum: the shares of the steps sum to more than 1")
        if cfg.schedule not in SCHEDULES:
            raise ValueError(f"{where}.schedule={cfg.schedule!r}: expected one of {', '.join(SCHEDULES)}")
        if not math.isclose(sum(cfg.mask_split), 1.0) or len(cfg.mask_split) != 3:
            raise ValueError(f"{where}.mask_split={list(cfg.mask_split)}: expected three shares summing to 1")
        return cfg

    # keys that only schedule side effects: changing them keeps a checkpoint resumable
    SCHEDULE_ONLY = ("max_steps", "max_tokens", "eval_every", "checkpoint_every", "log_every")


SCHEDULES = ("inverse_sqrt", "constant", "linear")


def check_fits(model: ModelConfig, cfg: PretrainConfig) -> None:
    if cfg.seq_len > model.max_positions:
        raise ValueError(f"pretrain.seq_len={cfg.seq_len} exceeds model.max_positions={model.max_positions}")


def check_recipe(model: dict, pretrain: dict) -> None:
    """Every check the recipe makes of the config's `model` and `pretrain` sections, without building anything:
    ValueError (one line naming the key) on the first bad value."""
    check_fits(ModelConfig.from_dict(model), PretrainConfig.from_dict(pretrain))
