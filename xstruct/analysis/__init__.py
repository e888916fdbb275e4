"""Similarity of BERT models (paper §5): word translation, sentence retrieval, CKA and contextual alignment.

Math: `align` (iterative normalisation, Procrustes, CSLS / cosine search), `cka`, `retrieval` (P@1).
Data: `texts` (evaluation sets, dictionaries, Tatoeba, XNLI), `extract` (one cached encoding per model view and
set), `fasttext` (baseline vectors), `plan` (which views each analysis needs, from the config).
Drivers, reading only cached arrays: `bli` (Fig. 4), `sentences` (Fig. 6), `similarity` (Fig. 7),
`wordalign` (Figs. 5/8 maps); `transfer` holds the aligned encoder for the Fig. 5 transfer.
"""
