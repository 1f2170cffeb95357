"""KPI targets pushed down the organisation, actuals and attainment (issue 16).

A planner enters targets for any measure — revenue (CNY/month), new broadband lines,
retention rate, archive rate of group clients … — for the whole city and/or for units
of any level; gridplan shares them out top-down to every unit and person and, with
actuals, shows actual against target and the attainment at every level.

**Levels.** ``city`` → ``district`` → any ``unit_*`` columns of the grids (in column
order, optional organisation levels) → ``area`` (the grid's manager's area) →
``manager`` (the community manager owning the grid: a person's target is the sum of
his grids') → ``grid``. Grids are the atoms: every level's unit is a set of grids, and
the allocation runs down the tree of *paths* (a district's part of an area …), so
levels need not nest (an area may span two districts: its figures are the sum of its
parts). Units without a value (grids of no manager, managers of no area) are
:data:`NONE_UNIT`.

**Measure kinds** (the ``kind`` column; default ``sum``):

- ``sum`` — an additive amount (CNY/month …). Each parent's target is shared among its
  children in proportion to the key; rounded to ``TargetsConfig.decimals`` decimals
  (default 2: cents) with the largest-remainder rule, so at every level the children's
  targets add up *exactly* to the parent's in those decimals (the float sum can differ
  from the printed total by float noise, < 1e-6 of a cent).
- ``count`` (also ``int``, ``integer``) — a whole number (new lines …): the same, with
  0 decimals: every unit's target is an integer and children sum to the parent.
- ``rate`` — a rate or percentage (retention %, archive rate): never summed. A unit's
  target is copied down to every grid under it; the deepest unit given wins (a target
  for an area overrides the city's for its grids). On roll-up a unit shows the
  key-weighted mean of its grids' targets (equal weights when the key is all zero).

**The key** of a measure (``key`` column, e.g. ``spend=0.5;customers=0.5``; default
:attr:`TargetsConfig.default_key`) weighs grid figures: each column is taken as the
grid's share of the city total, and the shares are mixed with the key's weights (so
units and scales of the columns do not matter). Columns the grids lack are skipped.

**Locks.** A target given for a unit below the city is kept (locked): its parent's
target minus the locked children's is shared among the other children (and, further
down, a locked unit's own target is shared among its children the same way). Without
a city target the city's is the sum of the targets given below it (units outside
every given unit then get 0). A unit that spans several parents (an area over two
districts) has its locked target split among its parts by the key.

**Largest remainder.** Shares are floored to the rounding step and the steps left over
go to the largest fractional parts; ties go to the unit whose name sorts first.
Every allocation is deterministic.

**Actuals** (:func:`read_actuals`): ``measure,level,unit,actual`` (any level),
``measure,grid_id,actual`` or ``measure,customer_id,actual`` (customers go to their
grid). They roll up to every level above the level given (``sum``/``count``: summed;
``rate``: key-weighted mean) where that level's units contain whole units of the
given level. Attainment = actual / target (NaN when the target is 0 or missing).

The targets and actuals travel with the plan (:func:`with_targets`, in the plan's meta
as JSON under :data:`TARGETS_KEY` and :data:`ACTUALS_KEY`), so the workspace saves them
in every version and its change list names every target changed
(:func:`targets_changes`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from gridplan.errors import InputError, Problem
from gridplan.plan.model import Plan, customer_attribution

__all__ = [
    "ACTUALS_KEY",
    "KINDS",
    "NONE_UNIT",
    "TARGETS_KEY",
    "TargetsConfig",
    "allocate_grid_targets",
    "allocate_rate",
    "allocate_sum",
    "level_tables",
    "plan_levels",
    "plan_targets",
    "read_actuals",
    "read_targets",
    "targets_changes",
    "with_targets",
]

#: Plan meta keys holding the targets and actuals (JSON lists of rows).
TARGETS_KEY = "targets"
ACTUALS_KEY = "targets_actuals"
#: The unit of grids without a district/area/manager.
NONE_UNIT = "(none)"
#: Measure kinds and the aliases read from ``targets.csv``.
KINDS: Mapping[str, str] = {
    "sum": "sum",
    "count": "count",
    "int": "count",
    "integer": "count",
    "rate": "rate",
}
TARGET_COLUMNS = ("measure", "level", "unit", "target", "kind", "key")
ACTUAL_COLUMNS = ("measure", "level", "unit", "actual")


@dataclass(frozen=True)
class TargetsConfig:
    """Defaults of the allocation.

    ``default_key``: (grid column, weight) pairs used when a measure gives no ``key``
    (columns the grids lack are skipped). ``decimals``: rounding of ``sum`` measures
    (2: cents of CNY). ``unit_prefix``: grid columns read as extra organisation levels
    (between district and area). ``city_unit``: the unit name of the city level."""

    default_key: tuple[tuple[str, float], ...] = (
        ("spend", 0.4),
        ("customers", 0.3),
        ("potential", 0.2),
        ("population", 0.1),
    )
    decimals: int = 2
    unit_prefix: str = "unit_"
    city_unit: str = "city"
    examples: int = 5  # known units named in an error's fix


# ------------------------------------------------------------------ array core


def _node_ids(paths: np.ndarray) -> list[np.ndarray]:
    """Per level, the node id of each grid: the rank of its path prefix (sorted)."""
    ranks = np.column_stack(
        [
            np.unique(paths[:, j].astype(str), return_inverse=True)[1].ravel()
            for j in range(paths.shape[1])
        ]
    ).astype(np.int64)
    out = []
    for level in range(paths.shape[1]):
        _, inv = np.unique(ranks[:, : level + 1], axis=0, return_inverse=True)
        out.append(inv.ravel().astype(np.int64))
    return out


def _largest_remainder(
    amount: np.ndarray, group: np.ndarray, weight: np.ndarray, count: np.ndarray
) -> np.ndarray:
    """Share the integer ``amount[g]`` of each group among its members (``group``: the
    member's group) in proportion to ``weight`` (``count`` where a group's weights are
    all 0); integers that add up exactly to each amount; ties to the lower member."""
    n_groups = len(amount)
    w = np.asarray(weight, float)
    wsum = np.bincount(group, w, minlength=n_groups)
    use_count = wsum[group] <= 0
    w = np.where(use_count, np.asarray(count, float), w)
    wsum = np.bincount(group, w, minlength=n_groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        exact = np.where(wsum[group] > 0, amount[group] * w / wsum[group], 0.0)
    base = np.floor(exact + 1e-9).astype(np.int64)
    frac = np.round(exact - base, 9)
    left = amount - np.bincount(group, base, minlength=n_groups).astype(np.int64)
    idx = np.arange(len(group))
    eligible = w > 0
    # rank within the group: the largest fractions first, then the lower index
    order = np.lexsort((idx, -frac, ~eligible, group))
    first = np.searchsorted(group[order], np.arange(n_groups))
    rank = np.empty(len(group), np.int64)
    rank[order] = np.arange(len(group)) - first[group[order]]
    base += (eligible & (rank < np.maximum(left, 0)[group])).astype(np.int64)
    # float noise could overshoot by a step: take it back from the smallest fractions
    over = np.maximum(-left, 0)
    if over.any():
        order = np.lexsort((-idx, frac, base <= 0, group))
        rank[order] = np.arange(len(group)) - first[group[order]]
        base -= ((base > 0) & (rank < over[group])).astype(np.int64)
    return base


@dataclass(frozen=True)
class _Tree:
    nodes: list[np.ndarray]  # per level: node of each grid
    parent: list[np.ndarray]  # per level: parent node (level - 1) of each node
    size: list[int]


def _tree(paths: np.ndarray) -> _Tree:
    nodes = _node_ids(paths)
    parent = [np.zeros(1, np.int64)]
    for level in range(1, len(nodes)):
        par = np.zeros(int(nodes[level].max()) + 1 if len(nodes[level]) else 0, np.int64)
        par[nodes[level]] = nodes[level - 1]
        parent.append(par)
    size = [int(n.max()) + 1 if len(n) else 0 for n in nodes]
    return _Tree(nodes, parent, size)


def allocate_sum(
    paths: np.ndarray,
    weights: np.ndarray,
    locks: Mapping[tuple[int, Any], int],
) -> tuple[np.ndarray, list[tuple[int, Any, str, int]]]:
    """Share integer targets down a tree of levels (the array core of ``sum``/``count``).

    ``paths``: (n_grids, n_levels) unit codes, level 0 the city (one code), the last
    level one code per grid. ``weights``: the key per grid (≥ 0). ``locks``:
    ``(level, unit code) → target`` in integer steps (e.g. cents); a lock on level 0
    is the city target. Returns the grid targets (int64, summing exactly to every
    unit's target at every level) and the problems found as ``(level, code, reason,
    kept)``: ``reason`` ``"exceeded"`` (the targets locked inside the unit add up to
    ``kept`` > its target) or ``"unshared"`` (every grid inside is locked and they add
    up to ``kept`` < its target); the targets are then not to be used."""
    n, n_levels = paths.shape
    tree = _tree(paths)
    problems: list[tuple[int, Any, str, int]] = []
    w = np.clip(np.nan_to_num(np.asarray(weights, float)), 0, None)
    lock_val = [np.full(s, -1, np.int64) for s in tree.size]
    reserved = [np.zeros(s, np.int64) for s in tree.size]
    free_w = [np.zeros(s) for s in tree.size]
    free_n = [np.zeros(s) for s in tree.size]
    by_level: dict[int, list[tuple[Any, int]]] = {}
    for (level, code), value in locks.items():
        by_level.setdefault(int(level), []).append((code, int(value)))
    for level in range(n_levels - 1, -1, -1):  # bottom-up: what is kept inside each node
        nodes = tree.nodes[level]
        if level == n_levels - 1:
            inner = np.zeros(tree.size[level], np.int64)
            fw = np.bincount(nodes, w, minlength=tree.size[level])
            fn = np.bincount(nodes, minlength=tree.size[level]).astype(float)
        else:
            par = tree.parent[level + 1]
            inner = np.bincount(par, reserved[level + 1], minlength=tree.size[level])
            inner = inner.astype(np.int64)
            fw = np.bincount(par, free_w[level + 1], minlength=tree.size[level])
            fn = np.bincount(par, free_n[level + 1], minlength=tree.size[level])
        for code, value in sorted(by_level.get(level, []), key=lambda cv: str(cv[0])):
            mine = np.unique(nodes[paths[:, level] == code])
            kept = int(inner[mine].sum())
            rest = value - kept
            if rest < 0:
                problems.append((level, code, "exceeded", kept))
                continue
            if rest > 0 and fn[mine].sum() == 0:
                problems.append((level, code, "unshared", kept))
                continue
            share = _largest_remainder(
                np.array([rest]), np.zeros(len(mine), np.int64), fw[mine], fn[mine]
            )
            lock_val[level][mine] = inner[mine] + share
        locked = lock_val[level] >= 0
        reserved[level] = np.where(locked, lock_val[level], inner)
        free_w[level] = np.where(locked, 0.0, fw)
        free_n[level] = np.where(locked, 0.0, fn)
    value = np.where(lock_val[0] >= 0, lock_val[0], reserved[0])
    for level in range(1, n_levels):  # top-down: each parent's free part to its children
        par = tree.parent[level]
        kept = np.bincount(par, reserved[level], minlength=tree.size[level - 1])
        free = (value - kept).astype(np.int64)
        share = _largest_remainder(free, par, free_w[level], free_n[level])
        value = np.where(lock_val[level] >= 0, lock_val[level], reserved[level] + share)
    out = np.zeros(n, np.int64)
    out[:] = value[tree.nodes[-1]]
    return out, problems


def allocate_rate(paths: np.ndarray, locks: Mapping[tuple[int, Any], float]) -> np.ndarray:
    """Copy rate targets down: each grid gets the target of the deepest level given for
    a unit containing it (NaN where none is). ``paths`` and ``locks`` as in
    :func:`allocate_sum` (values are rates, not summed)."""
    n, n_levels = paths.shape
    out = np.full(n, np.nan)
    for level in range(n_levels):
        for (lv, code), value in locks.items():
            if int(lv) == level:
                out[paths[:, level] == code] = float(value)
    return out


# ------------------------------------------------------------------ levels of a plan


def level_names(plan: Plan, config: TargetsConfig = TargetsConfig()) -> list[str]:
    """The plan's levels, top-down: city, district, the organisation's ``unit_<level>``
    columns (the plan's ``org_levels`` in order; else every ``unit_*`` column that is not
    a ``_name`` column), area, manager, grid."""
    cols = [str(c) for c in plan.grids.columns]
    levels = [x.strip() for x in str(plan.meta.get("org_levels", "")).split(",") if x.strip()]
    units = [f"{config.unit_prefix}{lv}" for lv in levels if f"{config.unit_prefix}{lv}" in cols]
    if not units:
        units = [c for c in cols if c.startswith(config.unit_prefix) and not c.endswith("_name")]
    return ["city", "district", *units, "area", "manager", "grid"]


def plan_levels(plan: Plan, config: TargetsConfig = TargetsConfig()) -> pd.DataFrame:
    """One row per grid (plan order), one text column per level (:func:`level_names`):
    the unit of the grid at that level (:data:`NONE_UNIT` where it has none)."""
    g = plan.grids
    area_of = (
        plan.managers.set_index(plan.managers["manager"].astype(str))["area"]
        if "area" in plan.managers.columns
        else pd.Series(dtype=object)
    )
    manager = g["manager"].fillna("").astype(str)
    out = pd.DataFrame(index=range(len(g)))
    for level in level_names(plan, config):
        if level == "city":
            col = pd.Series(config.city_unit, index=out.index)
        elif level == "area":
            col = manager.map(area_of)
        elif level == "manager":
            col = manager
        elif level == "grid":
            col = g["grid_id"]
        else:
            col = g[level] if level in g.columns else pd.Series("", index=g.index)
        text = pd.Series(np.asarray(col, dtype=object), index=out.index).fillna("").astype(str)
        out[level] = text.str.strip().replace("", NONE_UNIT)
    return out


def _key_weights(plan: Plan, key: Sequence[tuple[str, float]]) -> np.ndarray:
    """Per grid, the key: each column as the grid's share of the city, mixed by weight."""
    g = plan.grids
    total = np.zeros(len(g))
    used = 0.0
    for col, weight in key:
        if col not in g.columns or weight <= 0:
            continue
        x = np.clip(pd.to_numeric(g[col], errors="coerce").fillna(0).to_numpy(float), 0, None)
        if x.sum() <= 0:
            continue
        total += weight * x / x.sum()
        used += weight
    return total / used if used > 0 else total


def parse_key(text: str) -> list[tuple[str, float]]:
    """``"spend=0.5;customers=0.5"`` (or ``,`` between pairs; a bare column = weight 1)."""
    pairs = []
    for item in str(text).replace(",", ";").split(";"):
        name, sep, value = item.partition("=")
        if name.strip():
            pairs.append((name.strip(), float(value) if sep else 1.0))
    return pairs


# ------------------------------------------------------------------ reading tables


def _rows_text(rows: Sequence[Any]) -> str:
    shown = ", ".join(str(r) for r in rows[:8])
    more = f" … ({len(rows)} rows)" if len(rows) > 8 else ""
    return ("row " if len(rows) == 1 else "rows ") + shown + more


def _frame(source: Any, columns: Sequence[str], where: str) -> pd.DataFrame:
    """A table from a path, upload bytes or a DataFrame, column names folded to lower."""
    if isinstance(source, pd.DataFrame):
        df = source.copy()
        if df.index.name != "row":
            df.index = pd.RangeIndex(2, len(df) + 2, name="row")
    else:
        from gridplan.layers.read import read_table

        df = read_table(source, text=True, name=where)
    df.columns = [str(c).strip().lower() for c in df.columns]
    for col in columns:
        if col not in df.columns:
            df[col] = None
    return df


def _number(value: Any) -> float | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip().replace(",", "").replace("_", "")
    pct = text.endswith("%")
    try:
        x = float(text.rstrip("%"))
    except ValueError:
        return None
    return x / 100.0 if pct else x


def read_targets(source: Any, where: str = "targets.csv") -> pd.DataFrame:
    """The targets table (``measure,level,unit,target[,kind][,key]``) from a CSV/XLSX
    path, upload bytes or a DataFrame: one row per given target, the index the file's
    row numbers; ``kind`` normalised (see :data:`KINDS`, default ``sum``), ``target`` a
    float (``95%`` reads 0.95). Bad rows are kept as they are and reported by
    :func:`allocate_grid_targets`; a table without ``measure`` or ``target`` raises."""
    df = _frame(source, TARGET_COLUMNS, where)
    if df["measure"].isna().all() or df["target"].isna().all():
        raise InputError(
            Problem(
                "no measure or target column",
                where,
                "give the columns measure,level,unit,target[,kind][,key]",
            )
        )
    out = pd.DataFrame(index=df.index)
    out["measure"] = df["measure"].fillna("").astype(str).str.strip()
    out["level"] = df["level"].fillna("city").astype(str).str.strip().str.lower()
    out.loc[out["level"] == "", "level"] = "city"
    out["unit"] = df["unit"].fillna("").astype(str).str.strip()
    out["target_text"] = df["target"].fillna("").astype(str).str.strip()
    out["target"] = [_number(v) for v in df["target"]]
    kind = df["kind"].fillna("").astype(str).str.strip().str.lower()
    out["kind"] = kind.replace("", "sum")
    out["key"] = df["key"].fillna("").astype(str).str.strip()
    return out


# ------------------------------------------------------------------ allocation


def _check_rows(
    targets: pd.DataFrame, levels: pd.DataFrame, where: str, config: TargetsConfig
) -> tuple[list[Problem], pd.DataFrame]:
    """The problems of single rows (and of a measure's rows together); the good rows."""
    problems: list[Problem] = []
    good = []
    names = list(levels.columns)
    for row, r in targets.iterrows():
        at = f"{where} row {row}"
        bad = False
        if not r["measure"]:
            problems.append(Problem("no measure", at, "name the measure, e.g. revenue"))
            bad = True
        if r["level"] not in names:
            problems.append(
                Problem(f"unknown level {r['level']!r}", at, f"use one of {', '.join(names)}")
            )
            bad = True
        elif r["level"] != "city" and r["unit"] not in set(levels[r["level"]]):
            known = sorted(set(levels[r["level"]]))[: config.examples]
            problems.append(
                Problem(
                    f"no {r['level']} {r['unit']!r} in the plan",
                    at,
                    f"use a {r['level']} of the plan, e.g. {', '.join(known)}",
                )
            )
            bad = True
        if r["target"] is None or not np.isfinite(r["target"]):
            problems.append(
                Problem(f"target {r['target_text']!r} is not a number", at, "give a number")
            )
            bad = True
        elif r["target"] < 0:
            problems.append(Problem(f"negative target {r['target']:g}", at, "give 0 or more"))
            bad = True
        if r["kind"] not in KINDS:
            problems.append(
                Problem(f"unknown measure kind {r['kind']!r}", at, "use sum, count or rate")
            )
            bad = True
        if not bad:
            good.append(row)
    ok = targets.loc[good].copy()
    ok["kind"] = ok["kind"].map(KINDS)
    ok.loc[ok["level"] == "city", "unit"] = config.city_unit
    for measure, rows in ok.groupby("measure", sort=True):
        kinds = sorted(set(rows["kind"]))
        if len(kinds) > 1:
            problems.append(
                Problem(
                    f"measure {measure!r} is given as {' and '.join(kinds)}",
                    f"{where} {_rows_text(list(rows.index))}",
                    "give one kind per measure",
                )
            )
        twice = rows[rows.duplicated(["level", "unit"], keep=False)]
        if len(twice):
            problems.append(
                Problem(
                    f"measure {measure!r} has two targets for one unit",
                    f"{where} {_rows_text(list(twice.index))}",
                    "keep one row per measure, level and unit",
                )
            )
        keys = sorted({k for k in rows["key"] if k})
        for text in keys:
            try:
                pairs = parse_key(text)
            except ValueError:
                pairs = None
            if pairs is None or not pairs:
                problems.append(
                    Problem(
                        f"cannot read the key {text!r}",
                        f"{where} {_rows_text(list(rows.index[rows['key'] == text]))}",
                        "write column=weight pairs, e.g. spend=0.5;customers=0.5",
                    )
                )
        if len(keys) > 1:
            problems.append(
                Problem(
                    f"measure {measure!r} has two keys ({' / '.join(keys)})",
                    f"{where} {_rows_text(list(rows.index))}",
                    "give the key once (or the same on every row)",
                )
            )
    return problems, ok


def _measure_key(
    plan: Plan, rows: pd.DataFrame, where: str, config: TargetsConfig
) -> tuple[list[tuple[str, float]], list[Problem]]:
    text = next((k for k in rows["key"] if k), "")
    if not text:
        return list(config.default_key), []
    try:
        pairs = parse_key(text)
    except ValueError:
        return list(config.default_key), []  # reported by _check_rows
    missing = [c for c, _ in pairs if c not in plan.grids.columns]
    problems = []
    if missing:
        usable = [c for c in ("spend", "customers", "population") if c in plan.grids.columns]
        problems.append(
            Problem(
                f"the key names grid columns the plan lacks: {', '.join(missing)}",
                f"{where} {_rows_text(list(rows.index))}",
                f"use grid columns, e.g. {', '.join(usable)}",
            )
        )
    return pairs, problems


def _sum_measure(
    measure: str,
    kind: str,
    rows: pd.DataFrame,
    codes: np.ndarray,
    names: list[str],
    weights: np.ndarray,
    where: str,
    config: TargetsConfig,
) -> tuple[np.ndarray, list[Problem]]:
    """The grid targets of one ``sum``/``count`` measure and the problems of its rows."""
    problems = []
    step = 10.0 ** (0 if kind == "count" else config.decimals)
    locks = {(names.index(r["level"]), r["unit"]): float(r["target"]) for _, r in rows.iterrows()}

    def rows_of(level: int, unit: Any, inside: bool = False) -> str:
        """The rows of the unit's target (and, ``inside``, of the targets within it)."""
        hit = list(rows.index[(rows["level"] == names[level]) & (rows["unit"] == unit)])
        if inside:
            mine = codes[:, level] == unit
            for row, r in rows.iterrows():
                deeper = names.index(r["level"]) > level
                if deeper and not (codes[:, names.index(r["level"])] == r["unit"])[~mine].any():
                    hit.append(row)
        return f"{where} {_rows_text(sorted(hit))}"

    def unit_name(level: int, unit: Any) -> str:
        return "the city" if level == 0 else f"{names[level]} {unit}"

    if kind == "count":
        for (level, unit), v in locks.items():
            if v != round(v):
                problems.append(
                    Problem(
                        f"{measure!r} counts whole units but the target is {v:g}",
                        rows_of(level, unit),
                        "give a whole number, or kind sum",
                    )
                )
    got, bad = allocate_sum(codes, weights, {k: round(v * step) for k, v in locks.items()})
    for level, unit, reason, kept in bad:
        target = locks[(level, unit)]
        inside = kept / step
        if reason == "exceeded":
            what = (
                f"the {measure} target {target:,g} of {unit_name(level, unit)} is less than "
                f"the {inside:,g} given for units inside it"
            )
            fix = (
                f"raise it to at least {inside:,g}, or lower the targets given below it "
                "(the other rows named)"
            )
        else:
            what = (
                f"the {measure} target {target:,g} of {unit_name(level, unit)} is not the sum "
                f"{inside:,g} of the targets given for all the units inside it"
            )
            fix = f"make it {inside:,g}, or drop the target of one unit inside it"
        problems.append(Problem(what, rows_of(level, unit, inside=True), fix))
    return got / step, problems


def allocate_grid_targets(
    plan: Plan,
    targets: pd.DataFrame,
    config: TargetsConfig = TargetsConfig(),
    where: str = "targets.csv",
) -> pd.DataFrame:
    """Every measure's target per grid: columns ``measure``, ``kind``, ``grid_id``,
    ``target`` (``count``: integer values; ``sum``: rounded to ``config.decimals``;
    ``rate``: copied down, NaN where no unit above the grid has one) and ``weight``
    (the key). ``targets``: :func:`read_targets`. Raises one :class:`InputError`
    listing every problem (row and fix) of the whole table."""
    levels = plan_levels(plan, config)
    names = list(levels.columns)
    problems, ok = _check_rows(targets, levels, where, config)
    codes = np.column_stack([levels[c].to_numpy(object) for c in names])
    frames = []
    for measure, rows in ok.groupby("measure", sort=True):
        kind = str(rows["kind"].iloc[0])
        key, key_problems = _measure_key(plan, rows, where, config)
        problems += key_problems
        weights = _key_weights(plan, key)
        if kind == "rate":
            locks = {
                (names.index(r["level"]), r["unit"]): float(r["target"]) for _, r in rows.iterrows()
            }
            values = allocate_rate(codes, locks)
        else:
            values, more = _sum_measure(
                str(measure), kind, rows, codes, names, weights, where, config
            )
            problems += more
        frames.append(
            pd.DataFrame(
                {
                    "measure": measure,
                    "kind": kind,
                    "grid_id": levels["grid"].to_numpy(),
                    "target": values,
                    "weight": weights,
                }
            )
        )
    if problems:
        raise InputError(problems)
    if not frames:
        return pd.DataFrame(columns=["measure", "kind", "grid_id", "target", "weight"])
    return pd.concat(frames, ignore_index=True)


# ------------------------------------------------------------------ actuals


def _actual_rows(
    df: pd.DataFrame, plan: Plan, levels: pd.DataFrame, where: str
) -> tuple[pd.DataFrame, list[Problem]]:
    """(measure, level, unit, actual, row) rows of an actuals table, and its problems."""
    problems: list[Problem] = []
    df = df.assign(actual_num=[_number(v) for v in df["actual"]])
    df["measure"] = df["measure"].fillna("").astype(str).str.strip()
    by_customer = "customer_id" in df.columns and df["customer_id"].notna().any()
    by_grid = "grid_id" in df.columns and df["grid_id"].notna().any()
    if by_customer:
        attr = customer_attribution(plan).set_index(
            customer_attribution(plan)["customer_id"].astype(str)
        )
        cid = df["customer_id"].fillna("").astype(str).str.strip()
        df["level"], df["unit"] = "grid", cid.map(attr["grid_id"]).fillna("")
        unknown = list(df.index[~cid.isin(attr.index)])
        if unknown:
            problems.append(
                Problem(
                    "customers not in the plan",
                    f"{where} {_rows_text(unknown)}",
                    "give customer ids of the plan's customer layer",
                )
            )
    elif by_grid:
        df["level"], df["unit"] = "grid", df["grid_id"].fillna("").astype(str).str.strip()
    else:
        df["level"] = df["level"].fillna("").astype(str).str.strip().str.lower()
        df["unit"] = df["unit"].fillna("").astype(str).str.strip()
        df.loc[df["level"].isin(["", "city"]), ["level", "unit"]] = ["city", "city"]
    for row, r in df.iterrows():
        at = f"{where} row {row}"
        if not r["measure"]:
            problems.append(Problem("no measure", at, "name the measure of the target"))
        if r["actual_num"] is None or not np.isfinite(r["actual_num"]):
            problems.append(Problem(f"actual {r['actual']!r} is not a number", at, "give a number"))
        if r["level"] not in levels.columns:
            problems.append(
                Problem(
                    f"unknown level {r['level']!r}",
                    at,
                    f"use one of {', '.join(levels.columns)}, or columns grid_id / customer_id",
                )
            )
        elif not by_customer and r["unit"] not in set(levels[r["level"]]):
            problems.append(
                Problem(f"no {r['level']} {r['unit']!r} in the plan", at, "use a unit of the plan")
            )
    return df, problems


def read_actuals(
    source: Any,
    plan: Plan,
    kinds: Mapping[str, str],
    where: str = "actuals.csv",
    config: TargetsConfig = TargetsConfig(),
) -> pd.DataFrame:
    """The actuals (``measure,level,unit,actual``, ``measure,grid_id,actual`` or
    ``measure,customer_id,actual``) as ``measure, level, unit, actual`` rows, one per
    measure and unit (customers summed per grid; ``rate`` measures: their mean).
    ``kinds``: measure → kind of the targets (a measure without a target is a
    problem). Raises one :class:`InputError` listing every problem."""
    df = _frame(source, ("measure", "actual", "level", "unit"), where)
    levels = plan_levels(plan, config)
    rows, problems = _actual_rows(df, plan, levels, where)
    for measure, part in rows.groupby("measure", sort=True):
        if measure and measure not in kinds:
            problems.append(
                Problem(
                    f"no target for measure {measure!r}",
                    f"{where} {_rows_text(list(part.index))}",
                    f"give a target for it, or use one of {', '.join(sorted(kinds))}",
                )
            )
        given = sorted(set(part["level"]))
        if len(given) > 1:
            problems.append(
                Problem(
                    f"actuals of {measure!r} are given at levels {', '.join(given)}",
                    f"{where} {_rows_text(list(part.index))}",
                    "give each measure's actuals at one level",
                )
            )
    if problems:
        raise InputError(problems)
    rows["actual"] = rows["actual_num"].astype(float)
    out = []
    for (measure, level, unit), part in rows.groupby(["measure", "level", "unit"], sort=True):
        how = part["actual"].mean() if kinds.get(measure) == "rate" else part["actual"].sum()
        out.append((measure, level, unit, float(how)))
    return pd.DataFrame(out, columns=list(ACTUAL_COLUMNS))


def _nested(levels: pd.DataFrame, upper: str, lower: str) -> bool:
    """True when every unit of ``lower`` lies in one unit of ``upper``."""
    if upper == lower:
        return True
    pairs = levels[[upper, lower]].drop_duplicates()
    return not pairs[lower].duplicated().any()


def _level_actuals(
    actuals: pd.DataFrame,
    levels: pd.DataFrame,
    grid_w: pd.DataFrame,
    level: str,
) -> dict[str, pd.Series]:
    """measure → actual per unit of ``level`` (rolled up from the level given)."""
    names = list(levels.columns)
    out: dict[str, pd.Series] = {}
    for measure, part in actuals.groupby("measure", sort=True):
        given = str(part["level"].iloc[0])
        if names.index(level) > names.index(given) or not _nested(levels, level, given):
            continue
        kind = grid_w.loc[grid_w["measure"] == measure, "kind"]
        kind = str(kind.iloc[0]) if len(kind) else "sum"
        value = part.set_index("unit")["actual"]
        units = pd.Series(levels[level].to_numpy(), index=levels[given].to_numpy())
        units = units[~units.index.duplicated()]
        frame = pd.DataFrame({"actual": value, "up": units.reindex(value.index)})
        if kind == "rate":
            w = grid_w[grid_w["measure"] == measure].set_index("grid_id")["weight"]
            wl = w.reindex(levels["grid"].to_numpy()).fillna(0).to_numpy()
            wu = pd.Series(wl).groupby(levels[given].to_numpy()).sum()
            frame["w"] = wu.reindex(frame.index).fillna(0).to_numpy()
            if frame["w"].sum() <= 0:
                frame["w"] = 1.0
            num = (frame["actual"] * frame["w"]).groupby(frame["up"]).sum()
            den = frame["w"].groupby(frame["up"]).sum()
            out[str(measure)] = (num / den.where(den > 0)).fillna(
                frame.groupby("up")["actual"].mean()
            )
        else:
            out[str(measure)] = frame.groupby("up")["actual"].sum()
    return out


# ------------------------------------------------------------------ tables per level


def _roll_targets(grid: pd.DataFrame, units: np.ndarray) -> pd.DataFrame:
    """measure, unit, kind, target, n_grids of one level from the grid targets
    (``sum``/``count``: summed; ``rate``: the key-weighted mean of the grids that have
    one, equal weights where their key is all 0, the value itself where all agree)."""
    g = grid.assign(unit=np.tile(units, len(grid) // max(len(units), 1)))
    has = g["target"].notna()
    g["v"] = g["target"].fillna(0.0)
    g["w"] = np.where(has, g["weight"], 0.0)
    g["wv"] = g["w"] * g["v"]
    g["one"] = has.astype(float)
    by = g.groupby(["measure", "unit"], sort=True)
    out = by.agg(
        kind=("kind", "first"),
        total=("v", "sum"),
        w=("w", "sum"),
        wv=("wv", "sum"),
        n_has=("one", "sum"),
        lo=("target", "min"),
        hi=("target", "max"),
        n_grids=("grid_id", "size"),
    ).reset_index()
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(out["w"] > 0, out["wv"] / out["w"], out["total"] / out["n_has"])
    rate = np.where(out["lo"] == out["hi"], out["lo"], mean)
    rate = np.where(out["n_has"] > 0, rate, np.nan)
    out["target"] = np.where(out["kind"] == "rate", rate, out["total"])
    return out[["measure", "unit", "kind", "target", "n_grids"]]


def level_tables(
    plan: Plan,
    targets: pd.DataFrame | None = None,
    actuals: pd.DataFrame | None = None,
    config: TargetsConfig = TargetsConfig(),
    where: str = "targets.csv",
) -> dict[str, pd.DataFrame]:
    """One table per level (:func:`level_names`, top-down): ``level``, ``unit``,
    ``measure``, ``kind``, ``target`` (rolled up from the grids: summed, or for
    ``rate`` the key-weighted mean), ``given`` (the target entered for the unit, else
    NaN), ``actual``, ``attainment`` (actual / target) and ``n_grids``; sorted by
    measure, then attainment (lowest first; units without one last), then unit.
    ``targets``/``actuals``: :func:`read_targets` / :func:`read_actuals` frames
    (default: the plan's own, :func:`plan_targets`). Raises :class:`InputError`."""
    if targets is None:
        targets, saved = plan_targets(plan)
        actuals = saved if actuals is None else actuals
    if targets is None or not len(targets):
        return {}
    grid = allocate_grid_targets(plan, targets, config, where)
    levels = plan_levels(plan, config)
    ok = targets.copy()
    ok["kind"] = ok["kind"].map(KINDS)
    ok.loc[ok["level"] == "city", "unit"] = config.city_unit
    out = {}
    for level in levels.columns:
        table = _roll_targets(grid, levels[level].to_numpy())
        given = ok[ok["level"] == level].set_index(["measure", "unit"])["target"]
        idx = pd.MultiIndex.from_arrays([table["measure"], table["unit"]])
        table["given"] = given.reindex(idx).to_numpy(float)
        table["actual"] = np.nan
        if actuals is not None and len(actuals):
            for measure, series in _level_actuals(actuals, levels, grid, level).items():
                hit = table["measure"] == measure
                table.loc[hit, "actual"] = table.loc[hit, "unit"].map(series).to_numpy(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            table["attainment"] = np.where(
                table["target"] > 0, table["actual"] / table["target"], np.nan
            )
        table.insert(0, "level", level)
        table = table[
            ["level", "unit", "measure", "kind", "target", "given", "actual", "attainment"]
            + ["n_grids"]
        ]
        table = table.sort_values(
            ["measure", "attainment", "unit"], na_position="last", kind="stable"
        )
        out[level] = table.reset_index(drop=True)
    return out


# ------------------------------------------------------------------ in the plan


def _rows_json(frame: pd.DataFrame, columns: Sequence[str]) -> str:
    rows = [[None if pd.isna(v) else v for v in r] for r in frame[list(columns)].itertuples(False)]
    return json.dumps({"columns": list(columns), "rows": rows}, ensure_ascii=False)


def _json_rows(text: str | None) -> pd.DataFrame | None:
    if not text:
        return None
    data = json.loads(text)
    df = pd.DataFrame(data["rows"], columns=data["columns"])
    df.index = pd.RangeIndex(2, len(df) + 2, name="row")
    return df


def with_targets(
    plan: Plan,
    targets: pd.DataFrame | None,
    actuals: pd.DataFrame | None = None,
    config: TargetsConfig = TargetsConfig(),
) -> Plan:
    """A copy of ``plan`` carrying ``targets`` (and ``actuals``) in its meta, checked
    first (:func:`allocate_grid_targets` raises on any problem); ``None`` removes
    them. Saving the plan (file or workspace) saves them with it."""
    meta = {k: v for k, v in plan.meta.items() if k not in (TARGETS_KEY, ACTUALS_KEY)}
    if targets is not None and len(targets):
        allocate_grid_targets(plan, targets, config)
        t = targets.copy()
        t["target"] = t["target"].astype(float)
        meta[TARGETS_KEY] = _rows_json(t, TARGET_COLUMNS)
        if actuals is not None and len(actuals):
            meta[ACTUALS_KEY] = _rows_json(actuals, ACTUAL_COLUMNS)
    return plan.with_(meta=meta)


def plan_targets(plan: Plan) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """The targets and actuals the plan carries (``None`` when it has none)."""
    targets = _json_rows(plan.meta.get(TARGETS_KEY))
    if targets is not None:
        targets["target_text"] = targets["target"].astype(str)
        for col in ("unit", "key", "kind", "level", "measure"):
            targets[col] = targets[col].fillna("").astype(str)
    return targets, _json_rows(plan.meta.get(ACTUALS_KEY))


def targets_changes(old: Mapping[str, str] | None, new: Mapping[str, str]) -> dict[str, Any]:
    """The targets changed between two plans' meta: ``targets_changed`` (list of
    ``{measure, level, unit, from, to}``, ``None`` where a target was added or removed;
    a changed kind or key counts as a change) and ``actuals_changed`` (bool)."""

    def table(meta: Mapping[str, str] | None) -> dict[tuple[str, str, str], Any]:
        df = _json_rows((meta or {}).get(TARGETS_KEY))
        if df is None:
            return {}
        return {
            (str(r.measure), str(r.level), str(r.unit)): (float(r.target), r.kind, r.key or "")
            for r in df.itertuples()
        }

    a, b = table(old), table(new)
    changed = []
    for k in sorted(set(a) | set(b)):
        if a.get(k) != b.get(k):
            before, after = a.get(k), b.get(k)
            changed.append(
                {
                    "measure": k[0],
                    "level": k[1],
                    "unit": k[2],
                    "from": None if before is None else before[0],
                    "to": None if after is None else after[0],
                }
            )
    acts = (old or {}).get(ACTUALS_KEY, "") != new.get(ACTUALS_KEY, "")
    return {"targets_changed": changed, "actuals_changed": bool(acts)}
