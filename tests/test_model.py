"""The sharing spec decides which parameters exist once and which once per language (paper §4.3)."""
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from xstruct.model import SHARED, MaskedLM, ModelConfig, Sharing
from xstruct.study import read_conditions

ROOT = Path(__file__).resolve().parents[1]
CFG = ModelConfig(layers=8, hidden=16, heads=2, max_positions=32, dropout=0.0, attention_dropout=0.0)
V_GLOBAL, V_EN, V_FR = 300, 170, 180


def sharing_of(condition: str) -> Sharing:
    """Sharing of a row of the paper's condition table (8 layers, so 'Sep L1-3' is layers 1, 2, 3)."""
    c = read_conditions(ROOT / "configs" / "conditions-paper.tsv")[condition]
    sizes = {"en": V_EN, "fr": V_FR} if c.separate_embeddings else {SHARED: V_GLOBAL}
    return Sharing(("en", "fr"), c.separate_embeddings, c.separate_layers, sizes)


def expected_count(sharing: Sharing) -> int:
    """Closed form: embeddings (word + output bias, positions, LayerNorm) + blocks + MLM head transform."""
    d, f, P = CFG.hidden, CFG.ffn_ratio * CFG.hidden, CFG.max_positions
    tables = [V_EN, V_FR] if sharing.separate_embeddings else [V_GLOBAL]
    emb = sum(v * d + v + P * d + 2 * d for v in tables)
    block = (3 * d * d + 3 * d) + (d * d + d) + 2 * d + (d * f + f) + (f * d + d) + 2 * d
    n_blocks = CFG.layers + len(sharing.separate_layers)   # one more copy of each separate layer
    return emb + n_blocks * block + (d * d + d + 2 * d)


def test_default_has_one_copy_of_everything():
    model = MaskedLM(CFG, sharing_of("default"))
    assert list(model.embeddings) == [SHARED]
    assert all(list(layer) == [SHARED] for layer in model.layers)
    assert model.num_parameters() == expected_count(model.sharing)
    assert model.language_parameters("en").keys() == model.language_parameters("fr").keys()


@pytest.mark.parametrize("condition,sep_layers", [("sep_emb", []), ("sep_l1_3", [1, 2, 3]),
                                                  ("sep_emb_l1_3", [1, 2, 3]), ("sep_emb_l1_6", [1, 2, 3, 4, 5, 6])])
def test_separate_parts_have_one_copy_per_language(condition, sep_layers):
    sharing = sharing_of(condition)
    model = MaskedLM(CFG, sharing)
    for i, layer in enumerate(model.layers, start=1):
        assert sorted(layer) == (["en", "fr"] if i in sep_layers else [SHARED])
    assert sorted(model.embeddings) == (["en", "fr"] if sharing.separate_embeddings else [SHARED])
    assert model.num_parameters() == expected_count(sharing)
    en, fr = model.language_parameters("en"), model.language_parameters("fr")
    shared = en.keys() & fr.keys()
    assert all(".en." not in n and ".fr." not in n for n in shared)
    assert en.keys() - shared and all(".en." in n for n in en.keys() - shared)


def test_sep_emb_l1_3_counts_two_copies_of_embeddings_and_layers_1_to_3():
    model = MaskedLM(CFG, sharing_of("sep_emb_l1_3"))
    blocks = [m for m in model.modules() if type(m).__name__ == "Block"]
    assert len(blocks) == CFG.layers + 3
    assert sum(type(m).__name__ == "Embeddings" for m in model.modules()) == 2
    assert model.embeddings["en"].word.num_embeddings == V_EN and model.embeddings["fr"].word.num_embeddings == V_FR


def test_top_layer_cannot_be_separate():
    with pytest.raises(ValueError, match="top layer"):
        MaskedLM(CFG, Sharing(("en", "fr"), False, (8,), {SHARED: V_GLOBAL}))


def test_one_language_never_touches_the_others_separate_parameters():
    torch.manual_seed(0)
    model = MaskedLM(CFG, sharing_of("sep_emb_l1_3"))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.0)
    fr_only = {n: p for n, p in model.named_parameters() if ".fr." in n}

    def step(lang, vocab):
        ids = torch.randint(5, vocab, (2, 16))
        positions = torch.tensor([1, 5, 17, 30])
        loss = F.cross_entropy(model(ids, lang, positions), ids.view(-1)[positions])
        loss.backward()
        return loss

    step("fr", V_FR)           # give the French parameters Adam state first
    opt.step()
    opt.zero_grad(set_to_none=True)
    before = {n: p.detach().clone() for n, p in fr_only.items()}
    step("en", V_EN)
    assert all(p.grad is None for p in fr_only.values())
    used = model.language_parameters("en")
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in used.values())
    opt.step()
    assert all(torch.equal(before[n], p) for n, p in fr_only.items())


def test_sparse_head_matches_dense_logits_at_the_same_positions():
    torch.manual_seed(0)
    model = MaskedLM(CFG, sharing_of("default")).eval()
    ids = torch.randint(5, V_GLOBAL, (3, 20))
    positions = torch.tensor([0, 7, 21, 59])
    dense = model(ids, "en").flatten(0, 1)[positions]
    assert torch.allclose(model(ids, "en", positions), dense, atol=1e-5)


def test_pre_norm_and_post_norm_differ_only_in_layout():
    post = MaskedLM(CFG, sharing_of("default"))
    pre = MaskedLM(ModelConfig(**{**CFG.__dict__, "norm": "pre"}), sharing_of("default"))
    assert pre.num_parameters() == post.num_parameters() + 2 * CFG.hidden   # the final LayerNorm


def test_cpu_dropout_drops_at_rate_p_keeps_the_mean_and_masks_the_gradient():
    from xstruct.model import dropout
    torch.manual_seed(0)
    x = torch.full((400, 500), 2.0, requires_grad=True)
    y = dropout(x, 0.1)
    dropped = (y == 0).float().mean().item()
    assert abs(dropped - 0.1) < 0.005
    assert torch.allclose(y[y != 0], torch.tensor(2.0 / 0.9))
    assert abs(y.mean().item() - 2.0) < 0.02          # inverted dropout keeps the expectation
    y.sum().backward()
    assert torch.equal(x.grad == 0, y == 0)           # the gradient flows only where the input was kept
    torch.manual_seed(0)
    assert torch.equal(dropout(x.detach(), 0.1), y.detach())     # seeded: the same mask again
    assert dropout(x, 0.1, training=False) is x and dropout(x, 0.0) is x
    assert dropout(x.detach().bfloat16(), 0.1).dtype == torch.bfloat16


def test_freed_training_tensors_are_reused_without_new_page_faults():
    import resource

    from xstruct.hardware import keep_freed_memory
    if not keep_freed_memory():
        pytest.skip("not glibc: the allocator setting does not apply")
    for _ in range(5):                                 # 64 MB, over glibc's largest mmap threshold; the
        torch.zeros(16_000_000)                        # heap settles after a few aligned allocations
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(5):
        torch.zeros(16_000_000)
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    assert faults < 5 * 16_000_000 * 4 / 4096 / 10    # unmapped and re-faulted every time would be ~78k


def test_cpu_attention_computes_what_gpus_get_from_sdpa():
    from xstruct.model import attention
    torch.manual_seed(0)
    q, k, v = (torch.randn(2, 3, 17, 8) for _ in range(3))      # (batch, heads, tokens, head width)
    assert torch.allclose(attention(q, k, v, 0.0), F.scaled_dot_product_attention(q, k, v), atol=1e-6)
