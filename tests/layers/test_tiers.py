"""The customer tier file: the source's thresholds, exact boundaries, assumptions listed,
line-numbered errors, and the same codes and bands as DEFAULT_SEGMENTS."""

import numpy as np
import pytest

from gridplan.errors import InputError
from gridplan.layers.segments import DEFAULT_SEGMENTS
from gridplan.layers.tiers import DEFAULT_TIERS, FAMILIES, default_tiers, load_tiers


def _derive(family, values):
    return list(default_tiers().family(family).derive(np.array(values, dtype=float))[0])


@pytest.mark.parametrize(
    ("spend", "segment"),
    [
        (3000.01, "vip_diamond"),  # diamond is > 3,000
        (3000.0, "vip_gold"),
        (2999.99, "vip_gold"),
        (1500.0, "vip_gold"),
        (1499.99, "vip_silver"),
        (666.0, "vip_silver"),
        (665.99, "public"),  # below every VIP tier: the fallback
        (0.0, "public"),
        (1e6, "vip_diamond"),
    ],
)
def test_vip_boundaries(spend, segment):
    assert _derive("vip", [spend]) == [segment]


@pytest.mark.parametrize(
    ("handsets", "segment"),
    [
        (9, "public"),
        (10, "group_c"),
        (99, "group_c"),
        (100, "group_b"),
        (499, "group_b"),
        (500, "group_a"),
        (5000, "group_a"),
    ],
)
def test_group_boundaries_by_handsets(handsets, segment):
    assert _derive("group", [handsets]) == [segment]


@pytest.mark.parametrize(
    ("spend", "segment"),
    [
        (2999.99, "public"),
        (3000.0, "large_crystal"),
        (9999.99, "large_crystal"),
        (10000.0, "large_silver"),
        (20000.0, "large_gold"),
        (50000.0, "large_platinum"),
        (100000.0, "large_diamond"),
        (199999.99, "large_diamond"),
        (200000.0, "large_crown"),
    ],
)
def test_large_boundaries(spend, segment):
    assert _derive("large", [spend]) == [segment]


@pytest.mark.parametrize(
    ("spend", "segment"),
    [
        (0.0, "business_c"),
        (299.99, "business_c"),
        (300.0, "business_b"),
        (800.0, "business_a"),
        (1499.99, "business_a"),
        (1500.0, "business_a_plus"),
        (3000.0, "business_a_plus"),
        (3000.01, "business_a_plus"),  # the top business tier is open-ended
    ],
)
def test_business_boundaries(spend, segment):
    assert _derive("business", [spend]) == [segment]


def test_below_every_tier_is_flagged_and_nan_is_below():
    codes, under = default_tiers().family("vip").derive(np.array([665.99, 666.0, np.nan]))
    assert list(codes) == ["public", "vip_silver", "public"]
    assert list(under) == [True, False, True]


def test_tiers_agree_with_default_segments():
    """One source of truth: the tier file's codes, families, order and bands are those of
    gridplan/layers/segments.py (the demo generator and the workload read the latter)."""
    tiers = default_tiers()
    assert tiers.codes() == tuple(s.code for s in DEFAULT_SEGMENTS)
    for seg in DEFAULT_SEGMENTS:
        fam = tiers.family(seg.family)
        tier = next(t for t in fam.tiers if t.code == seg.code)
        assert tier.threshold == (seg.min_value or 0), seg.code
        assert tier.upper == seg.max_value, seg.code
    assert [f.family for f in tiers.families] == list(FAMILIES)


def test_assumptions_name_every_figure_not_in_the_source():
    keys = {a.key for a in default_tiers().assumptions()}
    source = {
        "group.tiers.group_a",
        "vip.tiers.vip_diamond",
        "vip.tiers.vip_gold",
        "vip.tiers.vip_silver",
        "large.tiers.large_crystal",
        "business.tiers.business_a_plus",
    }
    assert not keys & source
    for code in ("large_crown", "large_diamond", "large_platinum", "large_gold", "large_silver"):
        assert f"large.tiers.{code}" in keys
    for code in ("business_a", "business_b", "business_c"):
        assert f"business.tiers.{code}" in keys
    assert {"vip.below", "group.below", "large.below"} <= keys
    text = DEFAULT_TIERS.read_text(encoding="utf-8").splitlines()
    for a in default_tiers().assumptions():  # the line holds the assumption and its comment
        assert "assumption" in text[a.line - 1], a


def test_group_by_spend_switch(tmp_path):
    path = tmp_path / "tiers.yaml"
    text = DEFAULT_TIERS.read_text(encoding="utf-8").replace(
        "by: handsets        #", "by: spend        #"
    )
    path.write_text(text, encoding="utf-8")
    fam = load_tiers(path).family("group")
    assert fam.by == "spend"
    assert list(fam.derive(np.array([479.99, 480, 4800, 24000]))[0]) == [
        "public",
        "group_c",
        "group_b",
        "group_a",
    ]


def test_bad_tier_file_lists_every_problem_with_lines(tmp_path):
    path = tmp_path / "tiers.yaml"
    text = DEFAULT_TIERS.read_text(encoding="utf-8")
    text = text.replace("vip_gold: {from: 1500, to: 3000}", "vip_gold: {from: lots, to: 3000}")
    text = text.replace("large_crystal: {from: 3000", "large_crystal: {from: 30000000")
    text = text.replace("business_b: {from: 300", "business_x: {from: 300")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_tiers(path)
    msg = str(exc.value)
    lines = text.splitlines()
    gold = next(i for i, t in enumerate(lines, 1) if "vip_gold:" in t)
    assert f"line {gold}: 'vip.tiers.vip_gold.from' must be a number, got 'lots'" in msg
    assert "large_silver must start above large_crystal" in msg
    assert "unknown segment 'business.tiers.business_x'" in msg
    assert len(exc.value.problems) == 3
