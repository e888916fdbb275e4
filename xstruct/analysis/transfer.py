"""Zero-shot transfer through contextual alignment (paper §5.1.2, Figs. 5 and 8): the encoder side.

`AlignedEncoder` is a drop-in encoder for `xstruct.finetune.TaskModel` (it returns `.last_hidden_state`):
the first i layers of a frozen BERT view, optionally followed by the per-layer map of
`xstruct.analysis.wordalign` into the English model's layer-i space, then `top` trainable transformer layers
(the paper's four) shared between training and test.

TODO(transfer loop, with the transfer engineer's xstruct.finetune): for i = 0..L, train
TaskModel(AlignedEncoder(English mono view, i, top), head) on English (only `top` and the head learn), then
evaluate TaskModel(AlignedEncoder(target mono view, i, same top, maps[i]), same head) on the target test set
("MLM align"); compare with the bilingual model's views without a map ("biMLM") and with the bi maps (Fig. 8).
Results: results/analysis/alignment/en-{xx}/transfer.{task}.csv, one row per (setting, layer).
"""
from __future__ import annotations

from types import SimpleNamespace

import torch
from torch import nn

from .align import Map


def transformer_top(dim: int, layers: int, heads: int, ffn: int, dropout: float) -> nn.TransformerEncoder:
    """The trainable layers above the frozen prefix (post-norm, GELU, like BERT)."""
    layer = nn.TransformerEncoderLayer(dim, heads, ffn, dropout, activation="gelu", batch_first=True)
    return nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)


class AlignedEncoder(nn.Module):
    def __init__(self, base: nn.Module, layer: int, top: nn.Module | None = None, mapping: Map | None = None):
        super().__init__()
        n = base.config.num_hidden_layers
        if not 0 <= layer <= n:
            raise ValueError(f"aligned encoder: layer {layer} must be in 0..{n}")
        base.encoder.layer = nn.ModuleList(base.encoder.layer[:layer])   # layers above i are never run
        for p in base.parameters():
            p.requires_grad_(False)
        self.base, self.layer, self.top, self.mapping = base.eval(), layer, top, mapping

    def train(self, mode: bool = True):
        super().train(mode)
        self.base.eval()          # the prefix is frozen: no dropout in it either
        return self

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor):
        with torch.no_grad():
            h = self.base(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            if self.mapping is not None:
                h = self.mapping.to_target(h.reshape(-1, h.shape[-1])).reshape(h.shape).to(h.dtype)
        if self.top is not None:
            h = self.top(h, src_key_padding_mask=attention_mask == 0)
        return SimpleNamespace(last_hidden_state=h)
