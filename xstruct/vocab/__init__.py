"""Subword vocabularies of the paper's conditions, built from SentencePiece BPE models.

A vocabulary id `<mode>/<domain>.<lang>+<domain>.<lang>` (xstruct.study.vocab_id) names one global vocabulary
with one view per language:

- joint: one BPE model trained on every language's text (languages resampled as pretraining samples them);
  every view is that model, local ids = global ids.
- union ("Default anchors"): one BPE model per language; the global vocabulary is the union of their pieces,
  so an identical piece string in two languages is one global id (an anchor).
- disjoint ("No anchors"): the same per-language models, every piece tagged with its language, so no global id
  is shared except the specials.

The specials have the same ids in every model, view and global vocabulary.

Modules: `train` (sampling, SentencePiece training), `table` (the global vocabulary: vocab.tsv, meta.json,
local -> global ids), `view` (a language view: Hugging Face tokenizer + id map), `encode` (token-id arrays),
`anchors` (anchor statistics). This file stays import-light: it holds only the special tokens.
"""
SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
PAD, UNK, CLS, SEP, MASK = range(len(SPECIALS))
# Corpus parts every tokenizer is trained on (the validation part stays unseen).
TRAINING_PARTS = ("a", "b")
