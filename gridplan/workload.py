"""Workload of a grid in hours per month per role, from visit standards; headcount per role.

Roles (:data:`ROLES`, the source material's organisation, see DESIGN.md §1):

- ``cm`` community manager (社区经理): public customers and street shops (business
  customers) of the grid, line maintenance, simple repairs, installation and fault
  dispatch, dispatched marketing. Staffed by hours; territories balance these hours.
- ``group`` client manager for group clients (集团客户经理): 1 per 50 group clients.
- ``vip`` client manager for VIP individuals and large customers: 1 per 400 VIP individuals.
- ``phone`` phone client manager: about 5,000 customers each, by phone.
- ``area`` area manager (区域经理): one per area; own hours per area and per grid.

For each grid (a row with per-segment customer counts in ``cust_<code>`` columns), with
the role of a segment's family (group -> ``group``, vip and large -> ``vip``, else ``cm``):

- visits (hours/month) = count * visits_per_month * minutes_per_visit / 60, to the role;
- calls (hours/month)  = count * calls_per_month * minutes_per_call / 60, to the role,
  except ``minutes_per_call: phone``: those contacts go to the phone client manager at
  ``phone_minutes_per_contact`` = a working day / effective contacts per day, a working
  day being the phone client manager's capacity / working days per month
  (128 h / 20 / 85 = 4.52 minutes: 85 contacts fill the whole working day, dialling and
  wrap-up included, so a phone client manager makes 85 x 20 = 1,700 contacts a month);
- travel (hours/month) = visits * (a + b * sqrt(area_km2) + c * spread_km) / 60, to the
  visiting role, with ``a`` = base minutes per visit (10), ``b`` = minutes per sqrt(km²)
  (5) and ``c`` = minutes per km of customer spread (3); ``spread_km`` is the RMS distance
  of the grid's customers from their centre when the grid carries it
  (``customer_spread_km``), else 0;
- maintenance (hours/month) = (population / 1000 * minutes_per_1000_residents
  + households * minutes_per_household) / 60, to the community manager;
- the area manager's hours per grid (``area_hours_per_grid``); the hours per area
  (``area_hours_per_area``) are added per area in :func:`role_headcount`.

:data:`HOURS` (``hours_total``) is the **community manager's** hours — the column the
balance and the plan read — and ``hours_visits``, ``hours_calls``, ``hours_maintenance``,
``hours_travel`` are its parts; ``hours_group``, ``hours_vip``, ``hours_phone``,
``hours_area`` are the other roles' and :data:`HOURS_ALL_ROLES` their sum with it.

Headcount per role (:func:`role_headcount`, for the city, each district, each area):
by hours = hours / the role's capacity; by ratio = units / units per manager (group
clients, VIP individuals, phone customers, areas); recommended = the larger, rounded
up; ``binds`` names the larger rule.
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
    "DEFAULT_CAPACITY_H",
    "DEFAULT_VISIT_STANDARDS",
    "HEADCOUNT_COLUMNS",
    "HOURS",
    "HOURS_ALL_ROLES",
    "HOURS_AREA",
    "HOURS_CM",
    "HOURS_GROUP",
    "HOURS_PHONE",
    "HOURS_VIP",
    "ROLES",
    "ROLE_CODES",
    "Role",
    "VisitStandard",
    "WorkloadConfig",
    "default_workload_config",
    "grid_workload",
    "headcount_by_unit",
    "load_visit_standards",
    "role_headcount",
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
class Role:
    """One role of the organisation.

    ``code``: short name (``cm``, ``group``, ``vip``, ``phone``, ``area``);
    ``hours_column``: its hours per grid (hours/month) in :func:`grid_workload`'s output;
    ``unit``: what its ratio rule counts (``""`` = staffed by hours only).
    """

    code: str
    label_en: str
    label_zh: str
    hours_column: str
    unit: str


#: The workload column of grids (hours/month): the community manager's hours, which the
#: balance and the plan read (territories balance them).
HOURS = "hours_total"
#: The community manager's hours per grid: the same column as :data:`HOURS`.
HOURS_CM = HOURS
#: Hours per grid per month of the client manager for group clients.
HOURS_GROUP = "hours_group"
#: Hours per grid per month of the client manager for VIP individuals and large customers.
HOURS_VIP = "hours_vip"
#: Hours per grid per month of the phone client manager (phone contacts).
HOURS_PHONE = "hours_phone"
#: Hours per grid per month of the area manager (the per-grid part; the per-area hours
#: are added by :func:`role_headcount`).
HOURS_AREA = "hours_area"
#: Hours per grid per month of every role together.
HOURS_ALL_ROLES = "hours_all_roles"

#: The roles, in the order tables show them.
ROLES: tuple[Role, ...] = (
    Role("cm", "Community manager", "社区经理", HOURS_CM, ""),
    Role("group", "Client manager, group clients", "集团客户经理", HOURS_GROUP, "group clients"),
    Role("vip", "Client manager, VIP / large", "VIP/大客户经理", HOURS_VIP, "VIP individuals"),
    Role("phone", "Phone client manager", "电话客户经理", HOURS_PHONE, "phone customers"),
    Role("area", "Area manager", "区域经理", HOURS_AREA, "areas"),
)
ROLE_CODES: tuple[str, ...] = tuple(r.code for r in ROLES)


@dataclass(frozen=True)
class WorkloadConfig:
    """All knobs of the workload model (see the module docstring for the formulas).

    Capacities are hours/month of customer work; ``<role>_capacity_h`` = ``None`` uses
    ``hours_per_month * utilisation`` (128 h). Ratios are units per manager:
    ``group_clients_per_manager`` (source 50), ``vip_per_manager`` (source 400 VIP
    individuals), ``phone_customers_per_manager`` (source 5,000),
    ``areas_per_area_manager`` (source: one per area). ``family_roles`` maps a segment
    family to the role that visits and calls it (others: the community manager).
    """

    standards: tuple[VisitStandard, ...]
    hours_per_month: float = 160.0
    utilisation: float = 0.8
    effective_contacts_per_day: float = 85.0
    working_days_per_month: float = 20.0
    minutes_per_1000_residents: float = 60.0
    minutes_per_household: float = 0.0
    base_minutes_per_visit: float = 10.0
    minutes_per_sqrt_km2: float = 5.0
    minutes_per_km_spread: float = 3.0
    group_clients_per_manager: float = 50.0
    vip_per_manager: float = 400.0
    phone_customers_per_manager: float = 5000.0
    areas_per_area_manager: float = 1.0
    area_hours_per_area: float = 40.0
    area_hours_per_grid: float = 1.0
    cm_capacity_h: float | None = None
    group_capacity_h: float | None = None
    vip_capacity_h: float | None = None
    phone_capacity_h: float | None = None
    area_capacity_h: float | None = None
    family_roles: tuple[tuple[str, str], ...] = (
        ("group", "group"),
        ("vip", "vip"),
        ("large", "vip"),
    )
    catalogue: SegmentCatalogue = field(default_factory=SegmentCatalogue)

    @property
    def month_capacity_h(self) -> float:
        """Customer-work hours of a person's month (160 h * 0.8 = 128 h by default)."""
        return self.hours_per_month * self.utilisation

    @property
    def capacity_h(self) -> float:
        """A community manager's customer-work hours per month (128 h by default)."""
        return self.role_capacity_h("cm")

    def role_capacity_h(self, role: str) -> float:
        """Customer-work hours per month of one person in ``role`` (a code of :data:`ROLES`)."""
        if role not in ROLE_CODES:
            raise KeyError(role)
        own = getattr(self, f"{role}_capacity_h")
        return self.month_capacity_h if own is None else float(own)

    def per_manager(self, role: str) -> float | None:
        """Units per manager of a role's ratio rule (``None``: staffed by hours only)."""
        return {
            "cm": None,
            "group": self.group_clients_per_manager,
            "vip": self.vip_per_manager,
            "phone": self.phone_customers_per_manager,
            "area": self.areas_per_area_manager,
        }[role]

    @property
    def phone_working_day_h(self) -> float:
        """The phone client manager's working day (hours): capacity / working days
        (128 h / 20 = 6.4 h by default)."""
        return self.role_capacity_h("phone") / self.working_days_per_month

    @property
    def phone_minutes_per_contact(self) -> float:
        """Minutes charged per phone contact: a whole working day / effective contacts per
        day (6.4 h * 60 / 85 = 4.52 min by default; dialling and wrap-up included)."""
        return self.phone_working_day_h * 60.0 / self.effective_contacts_per_day

    def role_of_family(self, family: str) -> str:
        """The role that visits and calls customers of a segment family."""
        return dict(self.family_roles).get(family, "cm")

    def standard(self, segment: str) -> VisitStandard:
        for s in self.standards:
            if s.segment == segment:
                return s
        raise KeyError(segment)

    def minutes_per_call(self, s: VisitStandard) -> float:
        return self.phone_minutes_per_contact if s.minutes_per_call is None else s.minutes_per_call


#: A community manager's customer-work hours per month by default (160 h x 0.8 = 128 h).
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


def _capacity(role: str) -> _Number:
    """The optional ``capacity_h`` (hours/month) of a role."""
    return _Number(f"{role}_capacity_h", positive=True)


#: a section of the schema: key -> a number, a nested section, or ``None`` for a key that
#: is accepted and ignored
_Section = dict[str, "_Number | _Section | None"]

#: the file's schema: top-level key -> a number, a section, the segments, or ``None``
_SCHEMA: dict[str, _Number | _Section | str | None] = {
    "version": None,
    "hours_per_month": _Number("hours_per_month", positive=True),
    "utilisation": _Number(
        "utilisation",
        within=(0.0, 1.0),
        within_fix="give the share of the month spent on customers, e.g. 0.8",
    ),
    "phone": {
        "effective_contacts_per_day": _Number("effective_contacts_per_day", positive=True),
        "working_days_per_month": _Number("working_days_per_month", positive=True),
        # the source's talk time (3-4 h a day) is part of the working day: not charged
        "effective_talk_hours_per_day": None,
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
    "roles": {
        "community_manager": {"capacity_h": _capacity("cm")},
        "group_client_manager": {
            "capacity_h": _capacity("group"),
            "clients_per_manager": _Number("group_clients_per_manager", positive=True),
        },
        "vip_client_manager": {
            "capacity_h": _capacity("vip"),
            "clients_per_manager": _Number("vip_per_manager", positive=True),
        },
        "phone_client_manager": {
            "capacity_h": _capacity("phone"),
            "customers_per_manager": _Number("phone_customers_per_manager", positive=True),
        },
        "area_manager": {
            "capacity_h": _capacity("area"),
            "areas_per_manager": _Number("areas_per_area_manager", positive=True),
            "hours_per_area": _Number("area_hours_per_area"),
            "hours_per_grid": _Number("area_hours_per_grid"),
        },
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


def _section(
    node: yaml.Node, key: str, spec: _Section, check: _Checker, values: dict[str, float]
) -> None:
    """The numbers of a (nested) section of the schema into ``values`` by field."""
    if not check.mapping(node, key, "see the default file"):
        return
    fix = f"use one of {', '.join(sorted(spec))}"
    for sk, sv in node.value:
        name = f"{key}.{sk.value}"
        if not check.known(sk, name, spec, fix):
            continue
        sub = spec[str(sk.value)]
        if isinstance(sub, _Number):
            value = check.number(sv, name, sub)
            if value is not _INVALID:
                values[sub.field] = value  # type: ignore[assignment]
        elif isinstance(sub, dict):
            _section(sv, name, sub, check, values)


def _settings(root: yaml.MappingNode, check: _Checker) -> tuple[dict[str, float], yaml.Node | None]:
    """The numeric settings by :class:`WorkloadConfig` field, and the (last) segments node."""
    values: dict[str, float] = {}
    segments_node = None
    top_fix = f"use one of {', '.join(sorted(_SCHEMA))}"
    for knode, vnode in root.value:
        key = str(knode.value)
        if key == "staffing":
            check.add(
                "'staffing' is now part of 'roles'",
                knode,
                "move the ratios to roles.<role>.clients_per_manager / customers_per_manager"
                " (see data/visit_standards.yaml)",
            )
            continue
        if not check.known(knode, key, _SCHEMA, top_fix):
            continue
        spec = _SCHEMA[key]
        if spec == _SEGMENTS:
            segments_node = vnode
        elif isinstance(spec, _Number):
            value = check.number(vnode, key, spec)
            if value is not _INVALID:
                values[spec.field] = value  # type: ignore[assignment]
        elif isinstance(spec, dict):
            _section(vnode, key, spec, check, values)
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


def _travel_minutes_per_visit(grids: pd.DataFrame, cfg: WorkloadConfig) -> np.ndarray:
    """Minutes of travel per visit in each grid: a + b * sqrt(area_km2) + c * spread_km."""
    area = np.clip(_area_km2(grids), 0.0, None)
    spread = np.clip(_column(grids, "customer_spread_km"), 0.0, None)
    return (
        cfg.base_minutes_per_visit
        + cfg.minutes_per_sqrt_km2 * np.sqrt(area)
        + cfg.minutes_per_km_spread * spread
    )


@dataclass
class _RoleMinutes:
    """Minutes per month per grid of one visiting role (cm, group or vip)."""

    visits: np.ndarray
    visit_min: np.ndarray
    call_min: np.ndarray


def _role_minutes(
    grids: pd.DataFrame, cfg: WorkloadConfig
) -> tuple[dict[str, _RoleMinutes], np.ndarray, np.ndarray, np.ndarray]:
    """Visits and minutes by visiting role, phone contacts, all calls and the phone
    customers (count of customers of segments called by phone), per grid."""
    n = len(grids)
    roles = {r: _RoleMinutes(np.zeros(n), np.zeros(n), np.zeros(n)) for r in ("cm", "group", "vip")}
    contacts = np.zeros(n)
    calls = np.zeros(n)
    phone_customers = np.zeros(n)
    for s in cfg.standards:
        cnt = _column(grids, customer_column(s.segment))
        try:
            family = cfg.catalogue.get(s.segment).family
        except KeyError:
            family = ""
        r = roles[cfg.role_of_family(family)]
        r.visits += cnt * s.visits_per_month
        r.visit_min += cnt * s.visits_per_month * s.minutes_per_visit
        calls += cnt * s.calls_per_month
        if s.minutes_per_call is None:
            contacts += cnt * s.calls_per_month
            phone_customers += cnt
        else:
            r.call_min += cnt * s.calls_per_month * s.minutes_per_call
    return roles, contacts, calls, phone_customers


def grid_workload(grids: pd.DataFrame, config: WorkloadConfig | None = None) -> pd.DataFrame:
    """Hours per month per grid and role, index-aligned with ``grids``.

    Reads ``cust_<code>`` counts (missing columns count as 0), ``population``,
    ``households``, ``area_km2`` (or the area of a projected geometry, km²) and the
    optional ``customer_spread_km``. Returns (hours/month):

    - the community manager's ``hours_visits``, ``hours_calls``, ``hours_maintenance``,
      ``hours_travel`` and their sum :data:`HOURS` (``hours_total``, what territories
      balance);
    - :data:`HOURS_GROUP`, :data:`HOURS_VIP` (visits, calls and travel of those
      customers), :data:`HOURS_PHONE` (phone contacts), :data:`HOURS_AREA` (the area
      manager's hours per grid) and :data:`HOURS_ALL_ROLES`;
    - ``visits_per_month``, ``calls_per_month`` (every role), ``phone_contacts_per_month``;
    - the ratio units ``group_clients``, ``vip_clients``, ``phone_customers`` and the
      fractional managers ``managers_by_hours`` (community managers),
      ``managers_by_group_ratio``, ``managers_by_vip_ratio``, ``managers_by_phone_ratio``.
    """
    cfg = config or default_workload_config()
    n = len(grids)
    roles, contacts, calls, phone_customers = _role_minutes(grids, cfg)
    per_visit = _travel_minutes_per_visit(grids, cfg)
    pop = _column(grids, "population")
    hh = _column(grids, "households")
    maint_min = pop / 1000.0 * cfg.minutes_per_1000_residents + hh * cfg.minutes_per_household
    cm = roles["cm"]
    out = pd.DataFrame(index=grids.index)
    out["hours_visits"] = cm.visit_min / 60.0
    out["hours_calls"] = cm.call_min / 60.0
    out["hours_maintenance"] = maint_min / 60.0
    out["hours_travel"] = cm.visits * per_visit / 60.0
    out[HOURS] = (cm.visit_min + cm.call_min + maint_min + cm.visits * per_visit) / 60.0
    for code, column in (("group", HOURS_GROUP), ("vip", HOURS_VIP)):
        r = roles[code]
        out[column] = (r.visit_min + r.call_min + r.visits * per_visit) / 60.0
    out[HOURS_PHONE] = contacts * cfg.phone_minutes_per_contact / 60.0
    out[HOURS_AREA] = np.full(n, float(cfg.area_hours_per_grid))
    out[HOURS_ALL_ROLES] = out[[r.hours_column for r in ROLES]].sum(axis=1)
    out["visits_per_month"] = sum((r.visits for r in roles.values()), np.zeros(n))
    out["calls_per_month"] = calls
    out["phone_contacts_per_month"] = contacts
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


#: the columns of :func:`role_headcount`, in order
HEADCOUNT_COLUMNS: tuple[str, ...] = (
    "level", "unit", "role", "role_label", "hours", "capacity_h", "by_hours", "units",
    "ratio_of", "per_manager", "by_ratio", "managers_by_hours", "managers_by_ratio", "recommended",
    "binds",
)  # fmt: skip


def _ceil(x: float) -> int:
    """Managers for a fractional need: rounded up (an exact multiple is not rounded up)."""
    return max(0, math.ceil(x - 1e-9)) if x > 0 else 0


def _binds(by_hours: float, by_ratio: float) -> str:
    """Which rule binds: ``hours``, ``ratio``, ``both`` (equal) or ``""`` (no work)."""
    if math.isnan(by_ratio):
        return "hours" if by_hours > 0 else ""
    if by_hours <= 0 and by_ratio <= 0:
        return ""
    if abs(by_hours - by_ratio) <= 1e-9:
        return "both"
    return "hours" if by_hours > by_ratio else "ratio"


def _role_hours(grids: pd.DataFrame, cfg: WorkloadConfig) -> pd.DataFrame:
    """The grids' hours per role and ratio units: the grids' own columns when they carry
    every one (what the plan balanced), else computed with :func:`grid_workload`."""
    need = [*(r.hours_column for r in ROLES), "group_clients", "vip_clients", "phone_customers"]
    if all(c in grids.columns for c in need):
        return pd.DataFrame({c: _column(grids, c) for c in need}, index=grids.index)
    computed = grid_workload(grids, cfg)
    if HOURS in grids.columns:  # the balanced community-manager hours stay as they are
        computed[HOURS] = _column(grids, HOURS)
    return computed[need]


def _headcount_rows(
    level: str, unit: str, hours: pd.DataFrame, n_areas: int, cfg: WorkloadConfig
) -> list[dict[str, object]]:
    """The rows of one city / district / area (``hours``: its grids' role hours)."""
    units = {
        "cm": math.nan,
        "group": float(hours["group_clients"].sum()),
        "vip": float(hours["vip_clients"].sum()),
        "phone": float(hours["phone_customers"].sum()),
        "area": float(n_areas),
    }
    rows: list[dict[str, object]] = []
    for role in ROLES:
        h = float(hours[role.hours_column].sum())
        if role.code == "area":
            h += cfg.area_hours_per_area * n_areas
        cap = cfg.role_capacity_h(role.code)
        per = cfg.per_manager(role.code)
        by_hours = h / cap
        by_ratio = math.nan if per is None else units[role.code] / per
        m_hours = _ceil(by_hours)
        m_ratio = None if per is None else _ceil(by_ratio)
        rows.append(
            {
                "level": level,
                "unit": unit,
                "role": role.code,
                "role_label": role.label_en,
                "hours": h,
                "capacity_h": cap,
                "by_hours": by_hours,
                "units": units[role.code],
                "ratio_of": role.unit,
                "per_manager": math.nan if per is None else float(per),
                "by_ratio": by_ratio,
                "managers_by_hours": m_hours,
                "managers_by_ratio": m_ratio,
                "recommended": max(m_hours, m_ratio or 0),
                "binds": _binds(by_hours, by_ratio),
            }
        )
    return rows


def role_headcount(
    grids: pd.DataFrame,
    config: WorkloadConfig | None = None,
    *,
    district: pd.Series | None = None,
    area: pd.Series | None = None,
    units: Mapping[str, pd.Series] | None = None,
) -> pd.DataFrame:
    """Headcount per role for the city, each district, each unit of the organisation
    levels in ``units`` (level name → the unit of every grid, e.g. ``unit_branch``; the
    rows' ``level`` is that name) and each area.

    ``grids``: the grids with their role hours (:func:`grid_workload`'s columns; computed
    from ``cust_<code>`` counts when missing); ``district`` / ``area``: the district and
    the area (区域) of each grid, index-aligned (``""``/missing = none; area managers are
    counted only for grids in an area, so an unbalanced plan has none).

    One row per level (``city``, ``district``, ``area``), unit and role (:data:`ROLES`),
    columns :data:`HEADCOUNT_COLUMNS`: ``hours`` (hours/month; for the area manager the
    grids' hours plus ``area_hours_per_area`` per area), ``capacity_h`` (hours/month per
    person), ``by_hours`` = hours / capacity (fractional managers), ``units`` (group
    clients, VIP individuals, phone customers, areas; NaN for the community manager),
    ``ratio_of`` (what ``units`` counts), ``per_manager`` (the ratio), ``by_ratio`` =
    units / per_manager, ``managers_by_hours`` and ``managers_by_ratio`` (rounded up),
    ``recommended`` (the larger) and ``binds`` (``hours``, ``ratio``, ``both`` or ``""``
    when there is no work). Every row is
    staffed on its own figures, so districts may add up to more than the city.
    """
    cfg = config or default_workload_config()
    hours = _role_hours(grids, cfg)
    idx = grids.index

    def labels(s: pd.Series | None) -> pd.Series:
        if s is None:
            return pd.Series("", index=idx, dtype=object)
        v = pd.Series(s, index=idx).astype(object)
        return v.where(v.notna(), "").astype(str)

    dist, ar = labels(district), labels(area)
    in_area = ar != ""
    rows: list[dict[str, object]] = []

    def add(level: str, unit: str, mask: pd.Series) -> None:
        sub = hours[mask].copy()
        sub[HOURS_AREA] = sub[HOURS_AREA].where(in_area[mask], 0.0)
        n_areas = int(ar[mask & in_area].nunique())
        rows.extend(_headcount_rows(level, unit, sub, n_areas, cfg))

    add("city", "city", pd.Series(True, index=idx))
    for name in sorted(set(dist) - {""}):
        add("district", name, dist == name)
    for level, series in dict(units or {}).items():
        lab = labels(series)
        for name in sorted(set(lab) - {""}):
            add(level, name, lab == name)
    for name in sorted(set(ar) - {""}):
        add("area", name, ar == name)
    out = pd.DataFrame(rows, columns=list(HEADCOUNT_COLUMNS))
    out["managers_by_ratio"] = out["managers_by_ratio"].astype("Int64")
    return out


def headcount_by_unit(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`role_headcount` as one row per level and unit: ``level``, ``unit`` and, per
    role code, the recommended headcount (``<code>``) and the rule that binds
    (``<code>_binds``), roles in the order of :data:`ROLES`."""
    keys = ["level", "unit"]
    base = table[keys].drop_duplicates().reset_index(drop=True)
    for role in ROLES:
        part = table[table["role"] == role.code].set_index(keys)
        pos = pd.MultiIndex.from_frame(base[keys])
        base[role.code] = part["recommended"].reindex(pos).fillna(0).astype(int).to_numpy()
        base[f"{role.code}_binds"] = part["binds"].reindex(pos).fillna("").to_numpy()
    return base
