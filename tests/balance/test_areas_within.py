"""group_into_areas(within=...): areas inside organisation units."""

from __future__ import annotations

import numpy as np
import pytest

from gridplan.balance import group_into_areas, territory_adjacency
from gridplan.errors import InputError
from gridplan.graph import is_connected_subset
from tests.conftest import lattice


def strips(rows: int, cols: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A lattice of ``rows x cols`` units, each unit its own territory, and the column
    of each (to cut units out of)."""
    ip, ix = lattice(rows, cols)
    return ip, ix, np.arange(rows * cols) % cols


def assert_areas_valid(res, ip, ix, within):
    within = np.asarray(within)
    K = int(res.labels.max()) + 1
    assert sorted(set(res.labels.tolist())) == list(range(K))
    for a in range(K):
        members = np.flatnonzero(res.labels == a)
        assert len(set(within[members].tolist())) == 1, f"area {a} spans units"
        assert is_connected_subset(ip, ix, members), f"area {a} is not contiguous"


def test_areas_never_span_units_and_follow_area_size():
    ip, ix, col = strips(6, 6)
    T = 36
    within = np.where(col < 2, "b", np.where(col < 5, "a", "c"))  # 12, 18, 6 territories
    w = np.random.default_rng(0).integers(1, 10, T).astype(float)
    res = group_into_areas(np.arange(T), (ip, ix), w, area_size=6, within=within,
                           tolerance=0.2, time_limit=20, work_limit=2)  # fmt: skip
    assert_areas_valid(res, ip, ix, within)
    # ceil(T_u / 6) areas per unit, numbered in sorted unit order: a (3), b (2), c (1)
    assert res.report.n_managers == 6
    unit_of_area = [within[np.flatnonzero(res.labels == a)[0]] for a in range(6)]
    assert unit_of_area == ["a", "a", "a", "b", "b", "c"]
    assert res.report.contiguous
    # inside a unit, areas are numbered by their smallest territory index
    firsts = [int(np.flatnonzero(res.labels == a)[0]) for a in range(3)]
    assert firsts == sorted(firsts)


def test_n_areas_shared_by_territory_count():
    ip, ix, col = strips(4, 6)
    within = np.where(col < 4, 1, 2)  # 16 and 8 territories
    w = np.ones(24)
    res = group_into_areas(np.arange(24), (ip, ix), w, n_areas=3, within=within,
                           tolerance=0.0, time_limit=20, work_limit=2)  # fmt: skip
    assert_areas_valid(res, ip, ix, within)
    counts = np.bincount(res.labels)
    assert counts.tolist() == [8, 8, 8]
    assert set(res.labels[within == 1].tolist()) == {0, 1}
    assert set(res.labels[within == 2].tolist()) == {2}


def test_more_units_than_areas_gives_each_unit_one_and_notes_it():
    ip, ix, col = strips(2, 6)
    within = col // 2  # 3 units
    res = group_into_areas(np.arange(12), (ip, ix), np.ones(12), n_areas=2, within=within,
                           time_limit=5)  # fmt: skip
    assert int(res.labels.max()) + 1 == 3
    assert any("3 areas formed" in n for n in res.report.notes)


def test_disconnected_unit_gets_areas_per_part():
    ip, ix, col = strips(4, 5)
    # unit 0 = columns 0 and 4 (two strips that do not touch), unit 1 = columns 1..3
    within = np.where((col == 0) | (col == 4), 0, 1)
    w = np.ones(20)
    res = group_into_areas(np.arange(20), (ip, ix), w, area_size=4, within=within,
                           tolerance=0.0, time_limit=10, work_limit=1)  # fmt: skip
    assert_areas_valid(res, ip, ix, within)
    assert set(res.labels[col == 0].tolist()).isdisjoint(res.labels[col == 4].tolist())
    assert any("disconnected parts" in n for n in res.report.notes)
    assert res.report.contiguous


def test_units_from_the_unit_adjacency_and_same_seed_same_labels():
    ip, ix = lattice(8, 8)
    w = np.random.default_rng(1).integers(1, 5, 64).astype(float)
    rows, cols = np.divmod(np.arange(64), 8)
    terr = (rows // 2) * 4 + cols // 2  # 16 territories of 2 x 2 units
    tw = np.bincount(terr, weights=w, minlength=16)
    tip, tix = territory_adjacency(terr, (ip, ix), 16)
    assert tix.size == 2 * 24  # a 4 x 4 lattice of territories
    within = np.where(np.arange(16) % 4 < 2, "west", "east")
    kw = dict(area_size=3, within=within, tolerance=0.3, seed=4, time_limit=30, work_limit=0.5)
    a = group_into_areas(terr, (ip, ix), tw, **kw)
    b = group_into_areas(terr, (ip, ix), tw, **kw)
    np.testing.assert_array_equal(a.labels, b.labels)
    assert_areas_valid(a, tip, tix, within)


def test_without_units_unchanged():
    ip, ix = lattice(2, 3)
    tw = np.ones(6)
    res = group_into_areas(np.arange(6), (ip, ix), tw, area_size=3, tolerance=0.0,
                           time_limit=5, work_limit=0.5)  # fmt: skip
    assert sorted(np.bincount(res.labels).tolist()) == [3, 3]
    same = group_into_areas(np.arange(6), (ip, ix), tw, area_size=3, tolerance=0.0,
                            time_limit=5, work_limit=0.5, within=np.zeros(6))  # fmt: skip
    assert sorted(np.bincount(same.labels).tolist()) == [3, 3]
    with pytest.raises(InputError, match="n_areas or area_size"):
        group_into_areas(np.arange(6), (ip, ix), tw, within=np.zeros(6))
    with pytest.raises(InputError, match="within must have 6 values"):
        group_into_areas(np.arange(6), (ip, ix), tw, area_size=3, within=np.zeros(5))
