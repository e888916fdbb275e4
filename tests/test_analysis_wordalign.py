"""eflomal word alignment of real parallel verses, and symmetrisation."""
import sqlite3

import pytest
from test_analysis_extract import bible_db

from xstruct.analysis.wordalign import (
    eflomal_links,
    read_links,
    symmetrize,
    write_links,
)
from xstruct.corpora.bible import clean_verse
from xstruct.corpora.text import segment


def parallel(books=(1, 1), limit=800):
    con = sqlite3.connect(f"file:{bible_db()}?mode=ro", uri=True)
    q = ("SELECT a.vText, b.vText FROM bible a JOIN bible b ON a.bNumber = b.bNumber AND a.cNumber = b.cNumber "
         "AND a.vNumber = b.vNumber WHERE a.bbName = 'k' AND b.bbName = 'l' AND a.bNumber BETWEEN ? AND ? "
         "ORDER BY a.bNumber, a.cNumber, a.vNumber LIMIT ?")
    rows = con.execute(q, (*books, limit)).fetchall()
    con.close()
    return ([segment(clean_verse(f, "fr"), "fr") for _, f in rows], [segment(clean_verse(e, "en"), "en") for e, _ in rows])


def test_eflomal_links_god_to_dieu_on_real_verses(tmp_path):
    fr, en = parallel()
    fwd, rev = eflomal_links(fr, en, n_samplers=2)
    links = symmetrize(fwd, rev, "intersection")
    both = [s for s in range(len(fr)) if "Dieu" in fr[s].split() and "God" in en[s].split()]
    assert len(both) > 50
    hit = sum(any(fr[s].split()[i] == "Dieu" and en[s].split()[j] == "God" for i, j in links[s]) for s in both)
    assert hit / len(both) > 0.8
    # "Dieu" is mostly linked to "God", not to function words
    targets = [en[s].split()[j] for s in both for i, j in links[s] if fr[s].split()[i] == "Dieu"]
    assert targets.count("God") / len(targets) > 0.9
    write_links(tmp_path / "links.txt", links)
    assert read_links(tmp_path / "links.txt") == links


def test_symmetrisation_is_between_intersection_and_union():
    fwd = [{(0, 0), (1, 1), (2, 1), (5, 7)}]
    rev = [{(0, 0), (1, 1), (2, 2), (5, 6)}]
    inter, union = symmetrize(fwd, rev, "intersection")[0], symmetrize(fwd, rev, "union")[0]
    gdfa = symmetrize(fwd, rev, "grow-diag-final-and")[0]
    assert inter == {(0, 0), (1, 1)} and inter <= gdfa <= union
    assert {(2, 1), (2, 2)} <= gdfa  # grown from (1, 1): neighbours with one end still unaligned
    assert (5, 7) in gdfa            # final-and (forward first): both words unaligned
    assert (5, 6) not in gdfa        # source word 5 is aligned by then
    with pytest.raises(ValueError, match="symmetrize"):
        symmetrize(fwd, rev, "diag")
