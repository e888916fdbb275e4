"""xstruct: the logic behind the cross-lingual structure pipeline (corpora, vocabularies, models, analyses)."""
