"""Customers as operators export them: headers mapped, tiers derived.

A billing/CRM export holds, per customer: an id, longitude/latitude (EPSG:4326 unless
told), the customer type (public / business / group / VIP / large, Chinese values too),
the monthly spend (ARPU, CNY/month), handsets (group clients), and optionally the
industry and product flags (broadband, contract expiry month).
:func:`gridplan.layers.read.read_customers` reads such a file (CSV in UTF-8 with or
without BOM or GB18030/GBK, or XLSX, through :func:`gridplan.layers.read.read_table`;
GIS files through ``read_layer``) and :func:`customers_from_table` here turns the table
into the customer layer of :mod:`gridplan.layers.model` with a ``segment`` derived by
:mod:`gridplan.layers.tiers`.

Headers: :data:`CUSTOMER_SYNONYMS` (case, spaces, ``-`` and ``.`` ignored), or an
explicit mapping ``{field: your_header}`` (the ``customers:`` part of ``--columns
mapping.yaml``). The mapping used is returned (:attr:`CustomerLayer.mapping`).

Segments: a row with a segment code (or its English/Chinese label) keeps it; a row
without one gets the tier of its type and spend (handsets for group clients). A kept
code that contradicts the type/spend is a warning naming the rows. A customer below
every tier of its type (a VIP under 666 CNY/month) gets the family's ``below``
segment (public) and is counted in :attr:`CustomerLayer.below`.

Bad input (spend not a number, negative handsets, unknown type, a header matching two
fields, missing lon/lat, ...) is collected: one :class:`~gridplan.errors.InputError`
lists every problem with the file, the rows and the fix.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridplan.errors import Problem
from gridplan.layers.crs import WGS84
from gridplan.layers.segments import DEFAULT_SEGMENTS
from gridplan.layers.tiers import CustomerTiers, default_tiers
from gridplan.layers.validate import Notice, format_rows

__all__ = [
    "CUSTOMER_FIELDS",
    "CUSTOMER_SYNONYMS",
    "TYPE_NAMES",
    "CustomerLayer",
    "customer_meta",
    "customers_from_table",
    "map_customer_columns",
]

#: The fields of a customer row; the first three are required, ``type`` unless every
#: row carries a ``segment``, ``lon``/``lat`` for plain tables.
CUSTOMER_FIELDS: tuple[str, ...] = (
    "customer_id",
    "lon",
    "lat",
    "type",
    "spend",
    "segment",
    "handsets",
    "industry",
    "broadband",
    "expiry_month",
)

#: Accepted headers for each field (compared case-folded, with spaces, ``-`` and ``.``
#: as ``_``). No header belongs to two fields.
CUSTOMER_SYNONYMS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "customer_id": (
            "customer_id", "customer", "cust_id", "client_id", "user_id", "id",
            "客户编号", "客户id", "客户号", "客户编码", "用户编号",
        ),
        "lon": ("lon", "lng", "long", "longitude", "x", "point_x", "经度"),
        "lat": ("lat", "latitude", "y", "point_y", "纬度"),
        "type": (
            "type", "customer_type", "cust_type", "client_type", "kind",
            "客户类型", "客户类别", "客户分类", "类型",
        ),
        "spend": (
            "spend", "arpu", "monthly_spend", "monthly_arpu", "revenue", "bill", "amount",
            "月消费", "消费", "月均消费", "月消费额", "月arpu", "arpu值",
        ),
        "segment": ("segment", "tier", "level", "grade", "客户等级", "等级", "客户级别", "级别"),
        "handsets": (
            "handsets", "phones", "lines", "terminals", "手机数", "手机数量", "终端数", "成员数",
        ),
        "industry": ("industry", "sector", "行业", "所属行业"),
        "broadband": ("broadband", "has_broadband", "宽带", "是否宽带", "宽带用户"),
        "expiry_month": (
            "expiry_month", "expiry", "contract_end", "到期月", "到期月份", "合约到期",
        ),
    }
)  # fmt: skip

#: Customer type values per family (compared case-folded, spaces and ``-``/``_`` ignored).
TYPE_NAMES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "public": ("public", "mass", "consumer", "individual", "residential",
                   "公众", "公众客户", "个人", "个人客户", "普通客户"),
        "business": ("business", "commercial", "sme", "shop",
                     "商业", "商业客户", "商客", "商铺", "沿街商铺"),
        "group": ("group", "enterprise", "corporate", "集团", "集团客户", "政企", "政企客户"),
        "vip": ("vip", "vip客户", "贵宾", "贵宾客户", "高端客户"),
        "large": ("large", "keyaccount", "key", "major", "大客户", "重要客户"),
    }
)  # fmt: skip

_YES = frozenset({"1", "y", "yes", "true", "t", "是", "有"})
_NO = frozenset({"0", "n", "no", "false", "f", "否", "无"})
_LIMIT = 10  # rows named in a message before "(and N more)"


@dataclass(frozen=True)
class CustomerLayer:
    """Customers read and tiered.

    ``customers``: points (EPSG:4326 for tables) with ``customer_id``, ``segment``,
    ``spend`` (CNY/month), ``handsets``, ``type`` (family) and the optional fields,
    plus the file's other columns; ``mapping``: field → the file's header;
    ``counts``: customers per segment code (every code, file order); ``derived``:
    rows whose segment was derived; ``below``: per family, derived rows below every
    tier (given the family's ``below`` segment); ``warnings``: :class:`Notice` s.
    """

    customers: gpd.GeoDataFrame
    mapping: Mapping[str, str]
    counts: pd.Series
    derived: int
    below: Mapping[str, int]
    warnings: tuple[Problem, ...] = ()
    tiers: CustomerTiers = field(default_factory=default_tiers)

    def table(self) -> pd.DataFrame:
        """Counts per tier with their family and labels (the report table)."""
        labels = {s.code: s for s in DEFAULT_SEGMENTS}
        rows = [
            {
                "segment": code,
                "family": labels[code].family if code in labels else "",
                "label_en": labels[code].label_en if code in labels else code,
                "label_zh": labels[code].label_zh if code in labels else code,
                "customers": int(n),
            }
            for code, n in self.counts.items()
        ]
        return pd.DataFrame(rows)

    def summary(self) -> list[str]:
        """Lines for the command line: the counts per tier and the fallbacks."""
        shown = self.counts[self.counts > 0]
        lines = [
            f"customers per tier: {len(self.customers):,} customers, {self.derived:,} tiers "
            f"derived from type and spend/handsets ({self.tiers.source})"
        ]
        width = max((len(c) for c in shown.index), default=0)
        for code, n in shown.items():
            lines.append(f"  {code:<{width}}  {int(n):>9,}")
        empty = len(self.counts) - len(shown)
        if empty:
            lines.append(f"  ({empty} other tiers: no customers)")
        for fam, n in self.below.items():
            if n:
                below = self.tiers.family(fam).below
                lines.append(f"  {n:,} {fam} customers below every {fam} tier, counted as {below}")
        lines.append("  columns: " + ", ".join(f"{f}={h!r}" for f, h in self.mapping.items()))
        return lines


def customer_meta(layer: CustomerLayer) -> dict[str, str]:
    """Plan meta entries recording how the customer file was read: ``customer_columns``
    (JSON ``{field: header}``) and ``customer_tiers`` (the tier file)."""
    return {
        "customer_columns": json.dumps(dict(layer.mapping), ensure_ascii=False),
        "customer_tiers": str(layer.tiers.source),
    }


# --------------------------------------------------------------------------- headers


def _norm(name: object) -> str:
    return re.sub(r"[\s\-\.]+", "_", str(name).strip().casefold())


def map_customer_columns(
    columns: list[str], explicit: Mapping[str, str] | None, where: str
) -> tuple[dict[str, str], list[Problem]]:
    """Field → header of the file, from ``explicit`` (``{field: header}``; the
    reverse direction ``{header: field}`` is accepted) and :data:`CUSTOMER_SYNONYMS`;
    a header named like the field itself wins over its synonyms.

    Problems: a mapped header not in the file, one header mapped to two fields, two
    headers matching one field. Required fields are checked by the caller.
    """
    mapping, problems, _ = _map_columns(columns, explicit, where)
    return mapping, problems


def _map_columns(
    columns: list[str], explicit: Mapping[str, str] | None, where: str
) -> tuple[dict[str, str], list[Problem], set[str]]:
    """:func:`map_customer_columns`, and the fields whose header is ambiguous."""
    problems: list[Problem] = []
    unclear: set[str] = set()
    by_norm: dict[str, list[str]] = {}
    for c in columns:
        by_norm.setdefault(_norm(c), []).append(c)
    chosen: dict[str, str] = {}
    for key, value in (explicit or {}).items():
        fld, header = (key, value) if key in CUSTOMER_FIELDS else (value, key)
        if fld not in CUSTOMER_FIELDS:
            problems.append(
                Problem(
                    f"the column mapping {key!r}: {value!r} names no customer field",
                    f"{where}, columns",
                    f"map the fields {', '.join(CUSTOMER_FIELDS)} to your headers, "
                    "e.g. {'spend': '月消费'}",
                )
            )
            continue
        found = header if header in columns else (by_norm.get(_norm(header)) or [None])[0]
        if found is None:
            problems.append(
                Problem(
                    f"the column {header!r} given for {fld} is not in the file",
                    f"{where}, columns",
                    f"the file has columns {', '.join(columns[:30])}; correct the column mapping",
                )
            )
            continue
        chosen[fld] = found
    twice = {h: [f for f, x in chosen.items() if x == h] for h in chosen.values()}
    for header, fields in twice.items():
        if len(fields) > 1:
            problems.append(
                Problem(
                    f"the header {header!r} is mapped to {len(fields)} fields "
                    f"({', '.join(fields)})",
                    f"{where}, columns",
                    "map each field to its own column",
                )
            )
    taken = set(chosen.values())
    for fld, names in CUSTOMER_SYNONYMS.items():
        if fld in chosen:
            continue
        hits = [c for n in names for c in by_norm.get(_norm(n), []) if c not in taken]
        hits = list(dict.fromkeys(hits))
        exact = [c for c in hits if _norm(c) == fld]
        hits = exact or hits  # a header named like the field itself wins
        if len(hits) == 1:
            chosen[fld] = hits[0]
        elif len(hits) > 1:
            unclear.add(fld)
            problems.append(
                Problem(
                    f"{len(hits)} headers match the field {fld}: {', '.join(map(repr, hits))}",
                    f"{where}, columns",
                    f"say which one in the column mapping, e.g. customers: {{{fld}: {hits[0]}}}",
                )
            )
    return chosen, problems, unclear


# --------------------------------------------------------------------------- rows


class _Rows:
    """Collects row problems of one table (rows named by the table's index)."""

    def __init__(self, index: pd.Index, where: str):
        self.index = index
        self.where = where
        self.problems: list[Problem] = []

    def at(self, mask: np.ndarray) -> str:
        return f"{self.where}, {format_rows(self.index, mask, limit=_LIMIT)}"

    def error(self, what: str, mask: np.ndarray, fix: str) -> None:
        if mask.any():
            self.problems.append(Problem(what, self.at(mask), fix))


def _text(s: pd.Series) -> pd.Series:
    out = s.astype("string").str.strip()
    return out.mask(out == "")


def _numbers(
    rows: _Rows, s: pd.Series, name: str, unit: str, *, whole: bool = False, signed: bool = False
) -> np.ndarray:
    """The column as floats (NaN where blank); non-numbers, negatives (unless
    ``signed``) and fractions (for ``whole``) are errors."""
    raw = _text(s) if not pd.api.types.is_numeric_dtype(s) else s
    num = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, copy=True)
    given = raw.notna().to_numpy()
    bad = given & ~np.isfinite(num)
    if bad.any():
        shown = ", ".join(map(repr, pd.unique(raw.to_numpy()[bad])[:5].tolist()))
        rows.error(
            f"{name} is not a number ({shown})",
            bad,
            f"write {name} as plain numbers in {unit} (no units, text or thousands separators)",
        )
    ok = np.isfinite(num)
    if not signed:
        rows.error(f"{name} is negative", ok & (num < 0), f"{name} must be 0 or more ({unit})")
    if whole:
        rows.error(
            f"{name} is not a whole number", ok & (num != np.round(num)), f"give whole {unit}"
        )
    num[bad] = np.nan
    return num


def _by_value(s: pd.Series, fn: Callable[[pd.Series], pd.Series]) -> tuple[np.ndarray, np.ndarray]:
    """``fn`` applied to the distinct stripped values of ``s`` only (fast on a million
    rows of a few types): the per-row results (object, None where blank or where ``fn``
    gives NaN) and the mask of rows with a value."""
    codes, uniques = pd.factorize(_text(s).astype(object), use_na_sentinel=True)
    mapped = fn(pd.Series(uniques, dtype=object)).astype(object).to_numpy()
    mapped = np.where(pd.isna(mapped), None, mapped)
    return np.append(mapped, None).astype(object)[codes], codes >= 0


def _unknown(rows: _Rows, s: pd.Series, unknown: np.ndarray, what: str, fix: str) -> None:
    if unknown.any():
        values = pd.unique(_text(s).to_numpy()[unknown])[:8]
        rows.error(f"{what} ({', '.join(map(repr, values))})", unknown, fix)


def _families(rows: _Rows, s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Family of each row's type (None where blank or unknown) and the mask of rows
    with a type written; unknown types are errors."""
    lookup = {re.sub(r"[\s\-_]+", "", n.casefold()): f for f, ns in TYPE_NAMES.items() for n in ns}
    fam, given = _by_value(
        s, lambda u: u.str.casefold().str.replace(r"[\s\-_]+", "", regex=True).map(lookup)
    )
    _unknown(
        rows,
        s,
        given & pd.isna(fam),
        "customer type that maps to nothing",
        "write one of public/公众, business/商业, group/集团, VIP, large/大客户 "
        "(see TYPE_NAMES in gridplan/layers/customers.py)",
    )
    return fam, given


def _segments(rows: _Rows, s: pd.Series) -> np.ndarray:
    """Segment code of each row (None where blank or unknown); unknown codes are errors."""
    lookup = {}
    for seg in DEFAULT_SEGMENTS:
        for name in (seg.code, seg.label_en, seg.label_zh):
            lookup[_norm(name)] = seg.code
    codes, given = _by_value(s, lambda u: u.map(lambda v: lookup.get(_norm(v))))
    _unknown(
        rows,
        s,
        given & pd.isna(codes),
        "unknown customer segment",
        "use a segment code of gridplan/layers/segments.py (or its label), or leave "
        "it blank to derive it from type and spend",
    )
    return codes


def _flags(rows: _Rows, s: pd.Series, name: str) -> pd.Series:
    """Yes/no values (1/0, yes/no, true/false, 是/否) as booleans (NA where blank)."""

    def flag(u: pd.Series) -> pd.Series:
        low = u.str.casefold()
        return pd.Series(np.where(low.isin(_YES), True, np.where(low.isin(_NO), False, None)))

    out, given = _by_value(s, flag)
    _unknown(rows, s, given & pd.isna(out), f"{name} is not yes/no", "write 1/0, yes/no or 是/否")
    return pd.Series(out, index=s.index).astype("boolean")


def _months(rows: _Rows, s: pd.Series, name: str) -> pd.Series:
    """Months as ``YYYY-MM`` text (dates and ``YYYY-MM`` are understood)."""

    def month(u: pd.Series) -> pd.Series:
        return pd.to_datetime(u, errors="coerce", format="mixed").dt.strftime("%Y-%m")

    out, given = _by_value(s, month)
    _unknown(
        rows, s, given & pd.isna(out), f"{name} is not a month", "write YYYY-MM (e.g. 2026-09)"
    )
    return pd.Series(out, index=s.index).astype("string")


# --------------------------------------------------------------------------- the table


def _points(rows: _Rows, table: pd.DataFrame, mapping: Mapping[str, str], crs: Any) -> Any:
    """Point geometries from lon/lat (missing or non-numeric coordinates are errors)."""
    x = _numbers(rows, table[mapping["lon"]], "lon", "degrees (or the CRS's units)", signed=True)
    y = _numbers(rows, table[mapping["lat"]], "lat", "degrees (or the CRS's units)", signed=True)
    missing = ~(np.isfinite(x) & np.isfinite(y))
    rows.error(
        "longitude/latitude missing", missing, "fill in lon and lat of these rows, or delete them"
    )
    geoms = np.full(len(table), None, dtype=object)
    geoms[~missing] = shapely.points(x[~missing], y[~missing])
    return gpd.GeoSeries(geoms, index=table.index, crs=crs if crs is not None else WGS84)


def _required(
    columns: list[str], mapping: Mapping[str, str], needs_xy: bool, where: str, unclear: set[str]
) -> list[Problem]:
    need = ["customer_id", "spend"] + (["lon", "lat"] if needs_xy else [])
    if "segment" not in mapping:
        need.append("type")
    problems = []
    free = [c for c in columns if c not in set(mapping.values())]
    for fld in need:
        if fld not in mapping and fld not in unclear:
            names = ", ".join(CUSTOMER_SYNONYMS[fld][:6])
            hint = _closest(fld, free)
            header = hint or "YOUR_HEADER"
            problems.append(
                Problem(
                    f"no {fld} column (columns: {', '.join(columns[:30]) or 'none'})",
                    where,
                    (f"{hint!r} looks like {fld}: " if hint else "")
                    + f"name it one of {names} (see data/README.md), or map it: "
                    f"--columns mapping.yaml with 'customers: {{{fld}: {header}}}'",
                )
            )
    return problems


def _closest(fld: str, headers: list[str]) -> str | None:
    """The header most like one of the field's synonyms (difflib ratio >= 0.6), if any."""
    best, score = None, 0.6
    for h in headers:
        for n in CUSTOMER_SYNONYMS[fld]:
            r = difflib.SequenceMatcher(None, _norm(h), _norm(n)).ratio()
            if r >= score:
                best, score = h, r
    return best


def _tiered(
    rows: _Rows,
    tiers: CustomerTiers,
    family: np.ndarray,
    typed: np.ndarray,
    given: np.ndarray,
    spend: np.ndarray,
    handsets: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, dict[str, int], list[Problem]]:
    """Final segments, families (the type, else the given segment's family), the
    per-family count of derived rows below every tier, and the warnings."""
    seg_family = {s.code: s.family for s in DEFAULT_SEGMENTS}
    fam = np.where(pd.isna(family), pd.Series(given).map(seg_family).to_numpy(), family)
    rows.error(
        "no customer type (and no segment)",
        ~typed & pd.isna(given),
        "write the type (public/business/group/VIP/large) or a segment code",
    )
    derived = np.full(len(fam), None, dtype=object)
    under = np.zeros(len(fam), dtype=bool)
    for ft in tiers.families:
        m = fam == ft.family
        if not m.any():
            continue
        values = handsets if ft.by == "handsets" else spend
        derived[m], under[m] = ft.derive(values[m])
        if ft.by == "handsets":
            rows.error(
                f"handsets missing for {ft.family} clients (tiered by handsets)",
                m & pd.isna(given) & ~np.isfinite(handsets),
                "give the number of handsets, or a segment code, or set group.by: spend "
                "in the tier file",
            )
            unknown = m & ~np.isfinite(handsets)
            under[unknown] = False
            derived[unknown] = None  # not derivable: a given segment is kept unchecked
    has_given = ~pd.isna(given)
    contradict = has_given & ~pd.isna(derived) & (given != derived)
    out = np.where(has_given, given, derived)
    warnings: list[Problem] = []
    if contradict.any():
        pairs = [
            f"{g} (derived {d})"
            for g, d in dict.fromkeys(zip(given[contradict], derived[contradict], strict=True))
        ][:5]
        warnings.append(
            Notice(
                f"{int(contradict.sum()):,} customers carry a segment that contradicts their "
                f"type and spend/handsets: {', '.join(pairs)}; the given segment is kept",
                rows.at(contradict),
                "correct the segment, or leave it blank to derive it from the tier file",
            )
        )
    below = {
        ft.family: int((under & ~has_given & (fam == ft.family)).sum())
        for ft in tiers.families
        if ft.family != "public"
    }
    return out, fam, below, warnings


def _fields(
    rows: _Rows,
    table: pd.DataFrame,
    mapping: Mapping[str, str],
    tiers: CustomerTiers,
) -> tuple[dict[str, Any], dict[str, int], list[Problem], int]:
    """Every field's values (a missing column reads as blank and is not checked again),
    the per-family counts below every tier, the warnings and the number of rows whose
    segment was derived; problems go to ``rows``."""
    blank = pd.Series(pd.NA, index=table.index, dtype="string")

    def col(fld: str) -> pd.Series:
        return table[mapping[fld]] if fld in mapping else blank

    ids = _text(col("customer_id"))
    if "customer_id" in mapping:
        rows.error("customer_id missing", ids.isna().to_numpy(), "give every customer an id")
        dup = (ids.duplicated(keep=False) & ids.notna()).to_numpy()
        rows.error("duplicate customer_id", dup, "give every customer its own id")
    spend = _numbers(rows, col("spend"), "spend", "CNY/month")
    if "spend" in mapping:
        missing = np.isnan(spend) & _text(col("spend")).isna().to_numpy()
        rows.error("spend missing", missing, "fill in the monthly spend (CNY/month)")
    handsets = _numbers(rows, col("handsets"), "handsets", "handsets", whole=True)
    family, typed = _families(rows, col("type"))
    given = _segments(rows, col("segment"))
    check_type = "type" in mapping or "segment" in mapping
    segment, family, below, warnings = _tiered(
        rows, tiers, family, typed | ~check_type, given, spend, handsets
    )
    data: dict[str, Any] = {"customer_id": ids.astype(object)}
    data |= {"segment": segment, "spend": spend, "handsets": handsets, "type": family}
    if "industry" in mapping:
        data["industry"] = _text(col("industry")).astype(object)
    if "broadband" in mapping:
        data["broadband"] = _flags(rows, col("broadband"), "broadband")
    if "expiry_month" in mapping:
        data["expiry_month"] = _months(rows, col("expiry_month"), "expiry_month")
    return data, below, warnings, int(pd.isna(given).sum())


def customers_from_table(
    table: pd.DataFrame,
    where: str,
    *,
    columns: Mapping[str, str] | None = None,
    tiers: CustomerTiers | None = None,
    crs: Any = None,
) -> tuple[CustomerLayer | None, list[Problem]]:
    """The customer layer of a read table (see the module docstring) and its problems.

    ``table`` is a plain table (lon/lat columns needed, in ``crs``, default EPSG:4326)
    or a GeoDataFrame (its geometry is used). ``columns`` maps fields to headers.
    Every problem is collected (headers, then rows); returns ``(None, problems)``
    when any is an error. Never raises for data.
    """
    tiers = tiers or default_tiers()
    geo = isinstance(table, gpd.GeoDataFrame) and table.geometry.name in table.columns
    cols = [str(c) for c in table.columns if not (geo and c == table.geometry.name)]
    mapping, problems, unclear = _map_columns(cols, columns, where)
    if geo:
        mapping.pop("lon", None)
        mapping.pop("lat", None)
    problems += _required(cols, mapping, not geo, where, unclear)
    rows = _Rows(table.index, where)
    data, below, warnings, n_derived = _fields(rows, table, mapping, tiers)
    if geo:
        geometry = table.geometry
    elif "lon" in mapping and "lat" in mapping:
        geometry = _points(rows, table, mapping, crs)
    if problems or rows.problems:
        return None, problems + rows.problems
    segment = data["segment"]
    used = set(mapping.values()) | ({table.geometry.name} if geo else set())
    rest = table[[c for c in table.columns if c not in used and c not in data]]
    out = gpd.GeoDataFrame(
        pd.concat([pd.DataFrame(data, index=table.index), rest], axis=1),
        geometry=geometry,
    )
    counts = pd.Series(segment).value_counts().reindex(
        [s.code for s in DEFAULT_SEGMENTS], fill_value=0
    )  # fmt: skip
    layer = CustomerLayer(
        customers=out,
        mapping=MappingProxyType(dict(mapping)),
        counts=counts.astype("int64"),
        derived=n_derived,
        below=MappingProxyType(below),
        warnings=tuple(warnings),
        tiers=tiers,
    )
    return layer, list(warnings)
