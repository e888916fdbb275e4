"""Corpora of the study: the Bible, Debian documentation, Hub text, and bilingual dictionaries.

Submodules: `text` (cleaning, scripts, segmentation, part hashing, shared by all sources), `bible`, `debian`,
`hub`, `dictionaries`.
"""
from __future__ import annotations
