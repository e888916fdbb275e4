"""eflomal word alignment of real parallel verses, and symmetrisation."""
import pytest
from helpers import verses

from xstruct.analysis.wordalign import (
    eflomal_links,
    read_links,
    symmetrize,
    write_links,
)


def parallel(books=(1, 1), limit=800):
    """(French, English) verses with the same key, in canonical order."""
    en, fr = dict(verses("k", "en", books, 10**6)), dict(verses("l", "fr", books, 10**6))
    keys = [k for k in en if k in fr][:limit]
    return [fr[k] for k in keys], [en[k] for k in keys]


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
