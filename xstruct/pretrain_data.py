"""The data side of a pretraining run: what the recipe streams, masks and validates on.

Token-id arrays of the run's corpus parts (memory-mapped), one language per batch sampled by `lang_alpha`,
continuous streams (shorter ones first when the config has a length curriculum), dictionary code-switching for
Extra anchors, MLM masking, fixed validation streams, the step budget, and the unigram baseline a model must beat
before it uses context. Its random state (samplers, masks, code-switcher) travels in the checkpoint.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .checkpoint import array_digest
from .codeswitch import CodeSwitcher
from .configs import PretrainConfig
from .io import read_json
from .mlm import (MaskConfig, StreamSampler, global_to_local, load_ids, mask_tokens, sampling_probs,
                  unigram_log_probs, valid_windows)
from .model import N_SPECIALS, SHARED

UNIGRAM_TOKENS = 10_000_000     # per corpus part: enough for the unigram distribution of any vocabulary here


class PretrainData:
    def __init__(self, run: dict, cfg: PretrainConfig, vocab_dir: str | Path, dictionary: str | Path | None,
                 rank: int = 0, world: int = 1):
        self.run, self.cfg, self.langs = run, cfg, list(run["langs"])
        seed = run["seed"]
        cond = run["condition"]
        self.separate_embeddings = bool(cond["separate_embeddings"])
        vocab_dir = Path(vocab_dir)
        self.global_size = int(read_json(vocab_dir / "meta.json")["global_size"])
        ids = vocab_dir / "ids"
        self.maps = {l: np.load(ids / f"{l}.map.npy") for l in self.langs}
        arrays = {l: [load_ids(ids / f"{l}.{p}.npy") for p in run["parts"][l]] for l in self.langs}
        lines = {l: sum(int(read_json(ids / f"{l}.{p}.json")["lines"]) for p in run["parts"][l])
                 for l in self.langs}
        self.probs = sampling_probs(lines, cfg.lang_alpha)
        # separate embeddings see each language's local ids; shared ones the global ids
        self.to_model = ({l: global_to_local(m, self.global_size) for l, m in self.maps.items()}
                         if self.separate_embeddings else None)
        size = {l: (len(self.maps[l]) if self.separate_embeddings else self.global_size) for l in self.langs}
        self.sizes = size
        self.vocab_sizes = size if self.separate_embeddings else {SHARED: self.global_size}
        self.replacements = {l: torch.arange(N_SPECIALS, size[l]) for l in self.langs}   # never a special
        rank_seed = seed * 1000 + rank       # streams, masks and code-switching differ between DDP ranks
        codeswitch = cond["anchors"] == "dictionary"

        def sampler(seq_len: int) -> StreamSampler:   # code-switching looks ahead to refill shortened streams
            return StreamSampler(arrays, self.probs, seq_len, cfg.batch_size * cfg.seq_len // seq_len,
                                 seed=rank_seed, lang_seed=seed, window=seq_len * (2 if codeswitch else 1))
        self.sampler = sampler(cfg.seq_len)
        self.stage_samplers = [sampler(int(length)) for length, _ in cfg.curriculum]
        self.switcher = None
        if codeswitch:
            from transformers import AutoTokenizer
            toks = {l: AutoTokenizer.from_pretrained(vocab_dir / "hf" / l) for l in self.langs}
            self.switcher = CodeSwitcher.from_files(dictionary, toks, self.maps, self.global_size,
                                                    cfg.codeswitch_prob, cfg.codeswitch_max_rate, cfg.seq_len,
                                                    seed=rank_seed)
        self.valid = {l: self.model_ids(l, valid_windows(load_ids(ids / f"{l}.valid.npy"), cfg.seq_len,
                                                         cfg.eval_tokens, str(ids / f"{l}.valid.npy")))
                      for l in self.langs}
        self.mask_cfg = MaskConfig(cfg.mask_rate, tuple(cfg.mask_split))
        self.mask_gen = torch.Generator().manual_seed(rank_seed)
        self.tokens_per_step = cfg.batch_size * cfg.seq_len * world
        budget = [b for b in (cfg.max_steps, cfg.max_tokens and cfg.max_tokens // self.tokens_per_step)
                  if b is not None]
        # a control condition (pretrain = none) is exported at its initialisation: zero steps, same everything else
        pretrained = cond.get("pretrain", "mlm") == "mlm"
        self.total_steps = min(budget) if pretrained else 0
        # the step at which each curriculum stage ends
        self.stage_ends = list(np.round(np.cumsum([s for _, s in cfg.curriculum]) * self.total_steps).astype(int))
        if self.total_steps < 1 and pretrained:
            raise ValueError(f"pretrain: the budget (max_steps={cfg.max_steps}, max_tokens={cfg.max_tokens}) "
                             f"is less than one step of {self.tokens_per_step} tokens")
        # the content, not only the size, of every array the run reads decides its trajectory
        self.fingerprint = {"tokens": {l: [len(a) for a in arrays[l]] for l in self.langs}, "lines": lines,
                            "sha256": {l: [array_digest(a) for a in (*arrays[l], self.valid[l], self.maps[l])]
                                       for l in self.langs},
                            "vocab": {"global_size": self.global_size, "sizes": size}}

    def samplers(self) -> list[StreamSampler]:
        return [*self.stage_samplers, self.sampler]

    def sampler_at(self, step: int) -> StreamSampler:
        """The sampler of the curriculum stage `step` falls in (the full-length one after the last stage)."""
        return next((s for s, end in zip(self.stage_samplers, self.stage_ends) if step < end), self.sampler)

    def model_ids(self, lang: str, batch: np.ndarray) -> torch.Tensor:
        """Global ids -> the ids the language's embedding table uses."""
        if self.to_model is None:
            return torch.from_numpy(batch)
        local = self.to_model[lang][batch]
        if (local < 0).any():
            raise ValueError(f"language {lang!r}: token ids outside its vocabulary (ids/{lang}.map.npy)")
        return torch.from_numpy(local)

    def batch(self, step: int) -> tuple[str, torch.Tensor, torch.Tensor, torch.Tensor]:
        """The next training batch: its language, masked inputs, masked positions and their targets."""
        sampler = self.sampler_at(step)
        lang, windows = sampler.next()
        batch = self.switcher(lang, windows, sampler.seq_len)[0] if self.switcher else np.stack(windows)
        inputs, positions, targets = mask_tokens(self.model_ids(lang, batch), self.mask_cfg,
                                                 self.replacements[lang], self.mask_gen)
        return lang, inputs, positions, targets

    def valid_batches(self, lang: str, every_masked: bool = False):
        """(inputs, positions, targets) of the language's validation streams, on the same masks every time;
        `every_masked` puts [MASK] at every predicted position (same positions), as the plateau measure needs."""
        gen = torch.Generator().manual_seed(self.run["seed"])
        mask_cfg = MaskConfig(self.cfg.mask_rate, (1.0, 0.0, 0.0)) if every_masked else self.mask_cfg
        for batch in self.valid[lang].split(self.cfg.batch_size):
            yield mask_tokens(batch, mask_cfg, self.replacements[lang], gen)

    def plateau_baselines(self) -> dict[str, dict[str, float]]:
        """Per language, what the training text's unigram distribution scores on the validation masks: its loss and
        the accuracy of always answering its most frequent piece (the unigram plateau an MLM starts on)."""
        out = {}
        for lang in self.langs:
            log_p = unigram_log_probs([self.model_ids(lang, np.array(a[:UNIGRAM_TOKENS])).numpy()
                                       for a in self.sampler.arrays[lang]], self.sizes[lang])
            targets = torch.cat([t for _, _, t in self.valid_batches(lang)])
            out[lang] = {"unigram_loss": -log_p[targets].mean().item(),
                         "most_frequent_acc": (targets == log_p.argmax()).double().mean().item()}
        return out

    def state_dict(self) -> dict:
        return {"samplers": [s.state_dict() for s in self.samplers()], "mask_gen": self.mask_gen.get_state(),
                "switcher": self.switcher.state_dict() if self.switcher else None}

    def load_state_dict(self, state: dict) -> None:
        for sampler, saved in zip(self.samplers(), state["samplers"]):
            sampler.load_state_dict(saved)
        self.mask_gen.set_state(state["mask_gen"])
        if self.switcher:
            self.switcher.load_state_dict(state["switcher"])
