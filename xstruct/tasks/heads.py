"""Task heads on top of a BERT encoder's last layer.

- PairClassifier: the first token's vector -> classes (XNLI / xref).
- TokenTagger: the first piece of each word -> tags (NER / punct).
- BiaffineParser: Dozat & Manning (2017) deep biaffine attention over the first pieces, [CLS] standing for the
  root; arcs decoded as a maximum spanning tree, each word's relation read at its predicted head.
Each head gives `scores(hidden, batch)`, `loss(scores, batch)` and `decode(scores, batch)` (labels per example).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from xstruct.tasks.encoding import IGNORE
from xstruct.tasks.mst import decode_tree


def first_pieces(hidden: torch.Tensor, first: torch.Tensor) -> torch.Tensor:
    """hidden [B, T, H], first [B, W] piece positions -> [B, W, H]"""
    return hidden.gather(1, first.unsqueeze(-1).expand(-1, -1, hidden.size(-1)))


class LinearHead(nn.Module):
    """Dropout + one linear layer over the encoder's states; subclasses pick which states."""

    def __init__(self, hidden: int, labels: list[str], dropout: float):
        super().__init__()
        self.labels = list(labels)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(hidden, len(labels))


class PairClassifier(LinearHead):

    def scores(self, hidden, batch):
        return self.out(self.drop(hidden[:, 0]))

    def loss(self, scores, batch):
        return F.cross_entropy(scores, batch["label"], ignore_index=IGNORE)

    def decode(self, scores, batch) -> list[str]:
        return [self.labels[i] for i in scores.argmax(-1).tolist()]


class TokenTagger(LinearHead):

    def scores(self, hidden, batch):
        return self.out(self.drop(first_pieces(hidden, batch["first"])))

    def loss(self, scores, batch):
        return F.cross_entropy(scores.flatten(0, 1), batch["tags"].flatten(), ignore_index=IGNORE)

    def decode(self, scores, batch) -> list[list[str]]:
        best = scores.argmax(-1).tolist()
        return [[self.labels[t] for t in row[:n]] for row, n in zip(best, batch["word_mask"].sum(1).tolist())]


class MLP(nn.Sequential):
    def __init__(self, d_in: int, d_out: int, dropout: float):
        super().__init__(nn.Linear(d_in, d_out), nn.LeakyReLU(0.1), nn.Dropout(dropout))


class Biaffine(nn.Module):
    """s[b, o, i, j] = [x_i; 1]^T U_o [y_j; 1] (the ones only where the bias flags say)."""

    def __init__(self, d: int, n_out: int, bias_x: bool, bias_y: bool):
        super().__init__()
        self.bias_x, self.bias_y = bias_x, bias_y
        self.weight = nn.Parameter(torch.zeros(n_out, d + bias_x, d + bias_y))  # zero init, as Dozat & Manning

    def forward(self, x, y):
        if self.bias_x:
            x = torch.cat([x, torch.ones_like(x[..., :1])], -1)
        if self.bias_y:
            y = torch.cat([y, torch.ones_like(y[..., :1])], -1)
        return torch.einsum("bxi,oij,byj->boxy", x, self.weight, y)


class BiaffineParser(nn.Module):
    def __init__(self, hidden: int, labels: list[str], dropout: float, arc_dim: int, rel_dim: int):
        super().__init__()
        self.labels = list(labels)
        self.drop = nn.Dropout(dropout)
        self.arc_dep, self.arc_head = MLP(hidden, arc_dim, dropout), MLP(hidden, arc_dim, dropout)
        self.rel_dep, self.rel_head = MLP(hidden, rel_dim, dropout), MLP(hidden, rel_dim, dropout)
        self.arc = Biaffine(arc_dim, 1, bias_x=True, bias_y=False)  # the x bias gives each head a prior score
        self.rel = Biaffine(rel_dim, len(labels), bias_x=True, bias_y=True)

    def scores(self, hidden, batch):
        b = hidden.size(0)
        root = torch.zeros((b, 1), dtype=torch.long, device=hidden.device)  # [CLS] is the root node
        nodes = self.drop(first_pieces(hidden, torch.cat([root, batch["first"]], 1)))  # [B, N+1, H]
        node_mask = torch.cat([torch.ones_like(root, dtype=torch.bool), batch["word_mask"]], 1)
        arc = self.arc(self.arc_dep(nodes), self.arc_head(nodes)).squeeze(1)  # [B, dep, head]
        n = arc.size(-1)
        blocked = ~node_mask[:, None, :] | torch.eye(n, dtype=torch.bool, device=arc.device)
        arc = arc.masked_fill(blocked, float("-inf"))
        rel = self.rel(self.rel_dep(nodes), self.rel_head(nodes)).permute(0, 2, 3, 1)  # [B, dep, head, R]
        return arc, rel

    def loss(self, scores, batch):
        arc, rel = scores
        heads = batch["heads"]  # [B, W], IGNORE where no usable head
        arc_loss = F.cross_entropy(arc[:, 1:].flatten(0, 1), heads.flatten(), ignore_index=IGNORE)
        at_gold = heads.clamp(min=0)[..., None, None].expand(-1, -1, 1, rel.size(-1))
        rel_gold = rel[:, 1:].gather(2, at_gold).squeeze(2)  # [B, W, R]
        return arc_loss + F.cross_entropy(rel_gold.flatten(0, 1), batch["rels"].flatten(), ignore_index=IGNORE)

    def decode(self, scores, batch) -> list[tuple[list[int], list[str]]]:
        arc, rel = scores
        logp = arc.float().log_softmax(-1).cpu().numpy()
        best_rel = rel.argmax(-1).cpu().numpy()  # [B, dep, head]
        out = []
        for i, n in enumerate(batch["word_mask"].sum(1).tolist()):
            heads = decode_tree(logp[i, : n + 1, : n + 1]) if n else []
            out.append((heads, [self.labels[best_rel[i, d + 1, h]] for d, h in enumerate(heads)]))
        return out


def build_head(kind: str, hidden: int, labels: list[str], cfg: dict) -> nn.Module:
    if kind == "pair":
        return PairClassifier(hidden, labels, cfg["dropout"])
    if kind == "tag":
        return TokenTagger(hidden, labels, cfg["dropout"])
    return BiaffineParser(hidden, labels, cfg["dropout"], cfg["arc_dim"], cfg["rel_dim"])

