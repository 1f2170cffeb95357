"""Workload of a grid in hours per month, from visit standards.

For each grid (a row with per-segment customer counts in ``cust_<code>`` columns):

- visits (hours/month) = sum over segments of count * visits_per_month * minutes_per_visit / 60
- calls (hours/month)  = sum over segments of count * calls_per_month * minutes_per_call / 60
  (``minutes_per_call: phone`` uses the phone productivity:
  ``effective_talk_hours_per_day * 60 / effective_contacts_per_day`` minutes, by default
  3.5 h * 60 / 85 = 2.47 min per contact)
- maintenance (hours/month) = (population / 1000 * minutes_per_1000_residents
  + households * minutes_per_household) / 60
- travel (hours/month) = visits_per_month_total * (a + b * sqrt(area_km2) + c * spread_km) / 60
  with ``a`` = base minutes per visit (10), ``b`` = minutes per sqrt(km²) (5) and ``c`` =
  minutes per km of customer spread (3); ``spread_km`` is the RMS distance of the grid's
  customers from their centre when the grid carries it (``customer_spread_km``), else 0.
- total = visits + calls + maintenance + travel.

Staffing checks from the source ratios are reported beside the hours: 1 client manager
per 50 group clients, 1 per 400 VIP individuals, 1 personal client manager per 5,000
customers served by phone.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from gridplan.errors import InputError, Problem
from gridplan.layers.segments import DEFAULT_SEGMENTS, SegmentCatalogue, customer_column

__all__ = [
    "DEFAULT_VISIT_STANDARDS",
    "VisitStandard",
    "WorkloadConfig",
    "default_workload_config",
    "grid_workload",
    "load_visit_standards",
    "suggest_headcount",
]

#: the bundled default standards
DEFAULT_VISIT_STANDARDS = Path(__file__).resolve().parent.parent / "data" / "visit_standards.yaml"


@dataclass(frozen=True)
class VisitStandard:
    """Service standard of one customer segment (per customer).

    ``visits_per_month`` and ``calls_per_month`` are per customer per month (1 per
    quarter = 1/3); ``minutes_per_visit`` excludes travel; ``minutes_per_call`` is
    ``None`` when the phone productivity applies.
    """

    segment: str
    visits_per_month: float
    minutes_per_visit: float
    calls_per_month: float
    minutes_per_call: float | None


@dataclass(frozen=True)
class WorkloadConfig:
    """All knobs of the workload model (see the module docstring for the formulas)."""

    standards: tuple[VisitStandard, ...]
    hours_per_month: float = 160.0
    utilisation: float = 0.8
    effective_contacts_per_day: float = 85.0
    effective_talk_hours_per_day: float = 3.5
    minutes_per_1000_residents: float = 60.0
    minutes_per_household: float = 0.0
    base_minutes_per_visit: float = 10.0
    minutes_per_sqrt_km2: float = 5.0
    minutes_per_km_spread: float = 3.0
    group_clients_per_manager: float = 50.0
    vip_per_manager: float = 400.0
    phone_customers_per_manager: float = 5000.0
    catalogue: SegmentCatalogue = field(default_factory=SegmentCatalogue)

    @property
    def phone_minutes_per_contact(self) -> float:
        """Minutes of effective talk per phone contact (3.5 h * 60 / 85 = 2.47 by default)."""
        return self.effective_talk_hours_per_day * 60.0 / self.effective_contacts_per_day

    @property
    def capacity_h(self) -> float:
        """Customer-work hours per manager per month (160 h * 0.8 = 128 h by default)."""
        return self.hours_per_month * self.utilisation

    def standard(self, segment: str) -> VisitStandard:
        for s in self.standards:
            if s.segment == segment:
                return s
        raise KeyError(segment)

    def minutes_per_call(self, s: VisitStandard) -> float:
        return self.phone_minutes_per_contact if s.minutes_per_call is None else s.minutes_per_call


#: The workload column of grids (hours/month): the balance and the plan read it.
HOURS = "hours_total"
#: A manager's customer-work hours per month by default (160 h x 0.8 = 128 h).
DEFAULT_CAPACITY_H = WorkloadConfig.hours_per_month * WorkloadConfig.utilisation


# ---------------------------------------------------------------------------------------
# YAML loading with line numbers


@dataclass(frozen=True)
class _Number:
    """A numeric setting of the YAML file.

    ``field``: the :class:`WorkloadConfig` field (or visit-standard field) it sets;
    ``positive``: must be > 0 (else >= 0); ``within``: ``(low, high)`` for a value that
    must lie in ``(low, high]``, with ``within_fix`` as the fix; ``words``: scalar words
    accepted in place of a number, with the value they stand for.
    """

    field: str
    positive: bool = False
    within: tuple[float, float] | None = None
    within_fix: str = ""
    words: Mapping[str, float | None] = field(default_factory=dict)


#: marks the ``segments`` mapping in :data:`_SCHEMA` (checked against the catalogue)
_SEGMENTS = "segments"

#: the file's schema: top-level key -> a number, a section of numbers, the segments,
#: or ``None`` for a key that is accepted and ignored
_SCHEMA: dict[str, _Number | dict[str, _Number] | str | None] = {
    "version": None,
    "hours_per_month": _Number("hours_per_month", positive=True),
    "utilisation": _Number(
        "utilisation",
        within=(0.0, 1.0),
        within_fix="give the share of the month spent on customers, e.g. 0.8",
    ),
    "phone": {
        "effective_contacts_per_day": _Number("effective_contacts_per_day", positive=True),
        "effective_talk_hours_per_day": _Number("effective_talk_hours_per_day", positive=True),
    },
    "segments": _SEGMENTS,
    "maintenance": {
        "minutes_per_1000_residents": _Number("minutes_per_1000_residents"),
        "minutes_per_household": _Number("minutes_per_household"),
    },
    "travel": {
        "base_minutes_per_visit": _Number("base_minutes_per_visit"),
        "minutes_per_sqrt_km2": _Number("minutes_per_sqrt_km2"),
        "minutes_per_km_spread": _Number("minutes_per_km_spread"),
    },
    "staffing": {
        "group_clients_per_manager": _Number("group_clients_per_manager", positive=True),
        "vip_per_manager": _Number("vip_per_manager", positive=True),
        "phone_customers_per_manager": _Number("phone_customers_per_manager", positive=True),
    },
}

#: the fields of one segment's standard, in the order of :class:`VisitStandard`
_SEGMENT_SCHEMA: dict[str, _Number] = {
    "visits_per_month": _Number("visits_per_month"),
    "minutes_per_visit": _Number("minutes_per_visit"),
    "calls_per_month": _Number("calls_per_month"),
    "minutes_per_call": _Number("minutes_per_call", words={"phone": None}),
}
_SEGMENT_FIELDS = tuple(_SEGMENT_SCHEMA)

_FRACTION = re.compile(r"^\s*\d+(\.\d+)?\s*/\s*\d+(\.\d+)?\s*$")

#: a value that was given but is not usable (its problem is already recorded)
_INVALID = object()


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


@dataclass
class _Checker:
    """Walks the YAML nodes against the schema, collecting every problem (key and line)."""

    where: str
    problems: list[Problem] = field(default_factory=list)

    def at(self, node: yaml.Node | None) -> str:
        """``"<file>, line <n>"`` of a node (the file alone without one)."""
        return self.where if node is None else f"{self.where}, line {_line(node)}"

    def add(self, what: str, node: yaml.Node | None, fix: str) -> None:
        self.problems.append(Problem(what, self.at(node), fix))

    def mapping(self, node: yaml.Node, key: str, fix: str, at: yaml.Node | None = None) -> bool:
        """Whether ``node`` is a mapping; records ``'<key>' must be a mapping`` if not."""
        if isinstance(node, yaml.MappingNode):
            return True
        self.add(f"'{key}' must be a mapping", node if at is None else at, fix)
        return False

    def known(self, knode: yaml.Node, key: str, allowed: Mapping[str, object], fix: str) -> bool:
        """Whether ``knode`` names an allowed key; records ``unknown key '<key>'`` if not."""
        if str(knode.value) in allowed:
            return True
        self.add(f"unknown key '{key}'", knode, fix)
        return False

    def number(self, node: yaml.Node, key: str, spec: _Number) -> object:
        """The value of a scalar node under ``spec``, or :data:`_INVALID` (problem recorded)."""
        if isinstance(node, yaml.ScalarNode) and node.value in spec.words:
            return spec.words[node.value]
        value = _number(node, key, self.where, self.problems, positive=spec.positive)
        if value is None:
            return _INVALID
        if spec.within is not None:
            low, high = spec.within
            if not low < value <= high:
                self.add(
                    f"'{key}' must be in ({low:g}, {high:g}], got {value:g}", node, spec.within_fix
                )
                return _INVALID
        return value


def _number(
    node: yaml.Node, key: str, where: str, problems: list[Problem], *, positive: bool = False
) -> float | None:
    """A non-negative (or positive) number from a scalar node, else a Problem."""
    loc = f"{where}, line {_line(node)}"
    if isinstance(node, yaml.ScalarNode) and _FRACTION.match(str(node.value)):
        num, den = (float(p) for p in str(node.value).split("/"))
        if den == 0:
            problems.append(Problem(f"'{key}' divides by zero", loc, "write e.g. 1/3"))
            return None
        return num / den
    if not isinstance(node, yaml.ScalarNode) or node.tag not in (
        "tag:yaml.org,2002:int",
        "tag:yaml.org,2002:float",
    ):
        shown = node.value if isinstance(node, yaml.ScalarNode) else type(node).__name__
        problems.append(
            Problem(f"'{key}' must be a number, got {shown!r}", loc, f"write a number for '{key}'")
        )
        return None
    value = float(yaml.safe_load(node.value))
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        problems.append(
            Problem(
                f"'{key}' must be {'positive' if positive else 'zero or more'}, got {value:g}",
                loc,
                f"use a {'positive' if positive else 'non-negative'} value for '{key}'",
            )
        )
        return None
    return value


def _compose(path: Path) -> yaml.MappingNode:
    """The YAML node tree of the file (a mapping), else an :class:`InputError`."""
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(Problem(f"cannot read the file ({exc})", where, "check the path")) from exc
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        loc = f"{where}, line {mark.line + 1}" if mark is not None else where
        raise InputError(Problem(f"not valid YAML ({exc})", loc, "fix the YAML syntax")) from exc
    if not isinstance(root, yaml.MappingNode):
        raise InputError(
            Problem(
                "the file must be a mapping of settings", where, "see data/visit_standards.yaml"
            )
        )
    return root


def _settings(root: yaml.MappingNode, check: _Checker) -> tuple[dict[str, float], yaml.Node | None]:
    """The numeric settings by :class:`WorkloadConfig` field, and the (last) segments node."""
    values: dict[str, float] = {}
    segments_node = None
    top_fix = f"use one of {', '.join(sorted(_SCHEMA))}"
    for knode, vnode in root.value:
        key = str(knode.value)
        if not check.known(knode, key, _SCHEMA, top_fix):
            continue
        spec = _SCHEMA[key]
        if spec == _SEGMENTS:
            segments_node = vnode
        elif isinstance(spec, _Number):
            value = check.number(vnode, key, spec)
            if value is not _INVALID:
                values[spec.field] = value  # type: ignore[assignment]
        elif isinstance(spec, dict) and check.mapping(vnode, key, "see the default file"):
            fix = f"use one of {', '.join(sorted(spec))}"
            for sk, sv in vnode.value:
                name = str(sk.value)
                if check.known(sk, f"{key}.{name}", spec, fix):
                    value = check.number(sv, f"{key}.{name}", spec[name])
                    if value is not _INVALID:
                        values[spec[name].field] = value  # type: ignore[assignment]
    return values, segments_node


def _segment(
    code: str, knode: yaml.Node, vnode: yaml.Node, check: _Checker
) -> VisitStandard | None:
    """One segment's standard, or None when a field is missing or unusable."""
    key = f"segments.{code}"
    if not check.mapping(vnode, key, f"give {', '.join(_SEGMENT_FIELDS)}", at=knode):
        return None
    got: dict[str, object] = {}
    fix = f"use {', '.join(_SEGMENT_FIELDS)}"
    for fk, fv in vnode.value:
        name = str(fk.value)
        if check.known(fk, f"{key}.{name}", _SEGMENT_SCHEMA, fix):
            got[name] = check.number(fv, f"{key}.{name}", _SEGMENT_SCHEMA[name])
    missing = [f for f in _SEGMENT_FIELDS if f not in got]
    for f in missing:
        check.add(f"missing field '{key}.{f}'", knode, f"add '{f}' to segment '{code}'")
    if missing or any(v is _INVALID for v in got.values()):
        return None
    return VisitStandard(
        code,
        float(got["visits_per_month"]),  # type: ignore[arg-type]
        float(got["minutes_per_visit"]),  # type: ignore[arg-type]
        float(got["calls_per_month"]),  # type: ignore[arg-type]
        got["minutes_per_call"],  # type: ignore[arg-type]
    )


def _standards(
    node: yaml.Node | None, catalogue: SegmentCatalogue, check: _Checker
) -> list[VisitStandard]:
    """The visit standard of every catalogue segment, from the ``segments`` mapping."""
    if node is None:
        check.add("missing 'segments'", None, "add a 'segments' mapping")
        return []
    if not check.mapping(node, "segments", "see the default file"):
        return []
    known = set(catalogue.codes)
    seen: set[str] = set()
    standards: list[VisitStandard] = []
    for sk, sv in node.value:
        code = str(sk.value)
        if code not in known:
            fix = f"use one of the segment codes {', '.join(catalogue.codes)}"
            check.add(f"unknown segment 'segments.{code}'", sk, fix)
        elif code in seen:
            check.add(f"segment 'segments.{code}' given twice", sk, "keep one entry")
        else:
            seen.add(code)
            standard = _segment(code, sk, sv, check)
            if standard is not None:
                standards.append(standard)
    for code in catalogue.codes:
        if code not in seen:
            check.add(
                f"missing segment 'segments.{code}'",
                node,
                f"add a standard for '{code}' (zeros if it needs no visits or calls)",
            )
    return standards


def load_visit_standards(
    path: str | Path = DEFAULT_VISIT_STANDARDS, catalogue: SegmentCatalogue | None = None
) -> WorkloadConfig:
    """Read visit standards from YAML; every problem is reported with its key and line.

    The file is checked against one schema (:data:`_SCHEMA`: keys, number types and
    ranges) by one walker that collects every problem, then raises once.
    Raises :class:`~gridplan.errors.InputError` for an unknown segment or key, a missing
    field, a negative or non-numeric value.
    """
    path = Path(path)
    catalogue = catalogue or SegmentCatalogue(DEFAULT_SEGMENTS)
    root = _compose(path)
    check = _Checker(str(path))
    values, segments_node = _settings(root, check)
    standards = _standards(segments_node, catalogue, check)
    if check.problems:
        raise InputError(check.problems)
    return WorkloadConfig(standards=tuple(standards), catalogue=catalogue, **values)


def default_workload_config() -> WorkloadConfig:
    """The bundled default standards (data/visit_standards.yaml)."""
    return load_visit_standards(DEFAULT_VISIT_STANDARDS)


# ---------------------------------------------------------------------------------------
# Workload per grid


def _column(grids: pd.DataFrame, name: str) -> np.ndarray:
    if name in grids.columns:
        return pd.to_numeric(grids[name], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    return np.zeros(len(grids), dtype=float)


def _area_km2(grids: pd.DataFrame) -> np.ndarray:
    if "area_km2" in grids.columns:
        return _column(grids, "area_km2")
    geom = getattr(grids, "geometry", None)
    crs = getattr(grids, "crs", None)
    if geom is not None and crs is not None and getattr(crs, "is_projected", False):
        return np.asarray(grids.geometry.area, dtype=float) / 1e6
    return np.zeros(len(grids), dtype=float)


def grid_workload(grids: pd.DataFrame, config: WorkloadConfig | None = None) -> pd.DataFrame:
    """Hours per month per grid, index-aligned with ``grids``.

    Reads ``cust_<code>`` counts (missing columns count as 0), ``population``,
    ``households``, ``area_km2`` (or the area of a projected geometry, km²) and the
    optional ``customer_spread_km``. Returns columns ``hours_visits``, ``hours_calls``,
    ``hours_maintenance``, ``hours_travel``, ``hours_total`` (hours/month),
    ``visits_per_month``, ``calls_per_month`` and the staffing checks
    ``group_clients``, ``vip_clients``, ``phone_customers``, ``managers_by_hours``,
    ``managers_by_group_ratio``, ``managers_by_vip_ratio``,
    ``managers_by_phone_ratio`` (fractional managers).
    """
    cfg = config or default_workload_config()
    n = len(grids)
    visits = np.zeros(n)
    visit_min = np.zeros(n)
    call_min = np.zeros(n)
    calls = np.zeros(n)
    phone_customers = np.zeros(n)
    for s in cfg.standards:
        cnt = _column(grids, customer_column(s.segment))
        visits += cnt * s.visits_per_month
        visit_min += cnt * s.visits_per_month * s.minutes_per_visit
        calls += cnt * s.calls_per_month
        call_min += cnt * s.calls_per_month * cfg.minutes_per_call(s)
        if s.minutes_per_call is None:
            phone_customers += cnt
    pop = _column(grids, "population")
    hh = _column(grids, "households")
    maint_min = pop / 1000.0 * cfg.minutes_per_1000_residents + hh * cfg.minutes_per_household
    area = np.clip(_area_km2(grids), 0.0, None)
    spread = np.clip(_column(grids, "customer_spread_km"), 0.0, None)
    per_visit = (
        cfg.base_minutes_per_visit
        + cfg.minutes_per_sqrt_km2 * np.sqrt(area)
        + cfg.minutes_per_km_spread * spread
    )
    travel_min = visits * per_visit
    out = pd.DataFrame(index=grids.index)
    out["hours_visits"] = visit_min / 60.0
    out["hours_calls"] = call_min / 60.0
    out["hours_maintenance"] = maint_min / 60.0
    out["hours_travel"] = travel_min / 60.0
    out[HOURS] = (visit_min + call_min + maint_min + travel_min) / 60.0
    out["visits_per_month"] = visits
    out["calls_per_month"] = calls
    cat = cfg.catalogue
    group = sum((_column(grids, customer_column(c)) for c in cat.codes_in("group")), np.zeros(n))
    vip = sum((_column(grids, customer_column(c)) for c in cat.codes_in("vip")), np.zeros(n))
    out["group_clients"] = group
    out["vip_clients"] = vip
    out["phone_customers"] = phone_customers
    out["managers_by_hours"] = out[HOURS] / cfg.capacity_h
    out["managers_by_group_ratio"] = group / cfg.group_clients_per_manager
    out["managers_by_vip_ratio"] = vip / cfg.vip_per_manager
    out["managers_by_phone_ratio"] = phone_customers / cfg.phone_customers_per_manager
    return out


def suggest_headcount(
    hours: pd.Series,
    capacity_h: float = DEFAULT_CAPACITY_H,
    by: pd.Series | None = None,
    *,
    ratios: pd.DataFrame | Mapping[str, pd.Series] | None = None,
) -> pd.DataFrame:
    """How many managers the city (and each district in ``by``) needs.

    ``hours`` is the workload per grid (hours/month), ``capacity_h`` a manager's
    customer-work hours per month (default 160 h * 0.8 utilisation = 128 h). Returns one
    row per district plus a ``city`` row (index ``area``) with ``hours_total``,
    ``capacity_h``, ``managers_exact`` (hours / capacity), ``managers`` (rounded up, at
    least 1 when there is any work) and ``utilisation`` (hours / (managers * capacity)).
    ``ratios`` (e.g. the ``managers_by_*_ratio`` columns of :func:`grid_workload`) are
    summed alongside as staffing checks.
    """
    if capacity_h <= 0:
        raise InputError(
            Problem(
                f"capacity {capacity_h:g} h/month must be positive",
                "suggest_headcount",
                "give the hours a manager can spend on customers per month",
            )
        )
    h = pd.to_numeric(hours, errors="coerce").fillna(0.0)
    if (h < 0).any():
        bad = list(h.index[h < 0][:5])
        raise InputError(
            Problem("negative hours", f"grids {bad}", "workload hours must be zero or more")
        )
    extra = pd.DataFrame(ratios, index=h.index) if ratios is not None else None

    def row(mask: pd.Series | None) -> dict[str, float]:
        hh = h if mask is None else h[mask]
        total = float(hh.sum())
        exact = total / capacity_h
        managers = math.ceil(exact - 1e-9) if total > 0 else 0
        r: dict[str, float] = {
            HOURS: total,
            "capacity_h": float(capacity_h),
            "managers_exact": exact,
            "managers": managers,
            "utilisation": total / (managers * capacity_h) if managers else 0.0,
            "grids": len(hh),
        }
        if extra is not None:
            ee = extra if mask is None else extra[mask]
            for c in ee.columns:
                r[str(c)] = float(ee[c].sum())
        return r

    rows: dict[str, dict[str, float]] = {}
    if by is not None:
        b = pd.Series(by, index=h.index)
        for name in sorted(b.dropna().unique(), key=str):
            rows[str(name)] = row(b == name)
    rows["city"] = row(None)
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "area"
    out["managers"] = out["managers"].astype(int)
    out["grids"] = out["grids"].astype(int)
    return out
