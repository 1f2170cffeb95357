"""Customer segments from the grid-marketing source material.

Every customer carries one ``segment`` code from :data:`DEFAULT_SEGMENTS`. Spend
bands are monthly ARPU in CNY per month; group clients are banded by handsets.
The bands are defaults: a :class:`SegmentCatalogue` can be built with others.

The thresholds that *derive* a customer's segment from its type and spend live in
``data/customer_tiers.yaml`` (:mod:`gridplan.layers.tiers`); the codes, families,
order and bands here are the same (``tests/layers/test_tiers.py`` ties them), and the
synthetic demo draws its spend inside these bands. A band is ``[min, max]``
here; the tier file says which side a boundary belongs to (VIP diamond is ``> 3000``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Segment:
    """One customer segment.

    ``family`` is one of group / vip / large / business / public. ``min_value`` and
    ``max_value`` bound the banding figure: handsets for group clients, monthly
    spend (CNY/month) for the others; ``None`` means unbounded.
    """

    code: str
    family: str
    label_en: str
    label_zh: str
    min_value: float | None = None
    max_value: float | None = None


DEFAULT_SEGMENTS: tuple[Segment, ...] = (
    # Group clients by number of handsets: A >=500 (~5 %), B 100-499 (~25 %), C 10-99 (~70 %).
    Segment("group_a", "group", "Group client A", "集团客户A类", 500, None),
    Segment("group_b", "group", "Group client B", "集团客户B类", 100, 499),
    Segment("group_c", "group", "Group client C", "集团客户C类", 10, 99),
    # VIP individuals by monthly ARPU (CNY/month).
    Segment("vip_diamond", "vip", "VIP diamond", "钻石卡VIP", 3000, None),
    Segment("vip_gold", "vip", "VIP gold", "金卡VIP", 1500, 3000),
    Segment("vip_silver", "vip", "VIP silver", "银卡VIP", 666, 1500),
    # Large customers: six levels by monthly spend (CNY/month); "crystal" is 3000-10000.
    Segment("large_crown", "large", "Large customer crown", "皇冠大客户", 200000, None),
    Segment("large_diamond", "large", "Large customer diamond", "钻石大客户", 100000, 200000),
    Segment("large_platinum", "large", "Large customer platinum", "白金大客户", 50000, 100000),
    Segment("large_gold", "large", "Large customer gold", "金牌大客户", 20000, 50000),
    Segment("large_silver", "large", "Large customer silver", "银牌大客户", 10000, 20000),
    Segment("large_crystal", "large", "Large customer crystal", "水晶大客户", 3000, 10000),
    # Business customers: four levels by monthly spend (CNY/month); A+ is 1500-3000.
    Segment("business_a_plus", "business", "Business A+", "商业客户A+", 1500, 3000),
    Segment("business_a", "business", "Business A", "商业客户A", 800, 1500),
    Segment("business_b", "business", "Business B", "商业客户B", 300, 800),
    Segment("business_c", "business", "Business C", "商业客户C", 0, 300),
    # Ordinary public (mass-market) customers.
    Segment("public", "public", "Public customer", "公众客户", 0, None),
)


@dataclass(frozen=True)
class SegmentCatalogue:
    """An ordered set of segments, looked up by code."""

    segments: tuple[Segment, ...] = DEFAULT_SEGMENTS

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(s.code for s in self.segments)

    def get(self, code: str) -> Segment:
        for s in self.segments:
            if s.code == code:
                return s
        raise KeyError(code)

    def families(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for s in self.segments:
            seen.setdefault(s.family, None)
        return tuple(seen)

    def codes_in(self, family: str) -> tuple[str, ...]:
        return tuple(s.code for s in self.segments if s.family == family)


def customer_column(code: str) -> str:
    """Name of the per-cell column counting customers of one segment: ``cust_<code>``."""
    return f"cust_{code}"
