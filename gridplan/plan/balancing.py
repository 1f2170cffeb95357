"""Balancing a plan among its team, inside the organisation's units when it has them.

Without an organisation the whole city is one problem. With one (see
:mod:`gridplan.plan.organisation`), every unit of the area level is a problem of its
own: its community managers (``managers['unit']``, shared among the units by hours when
the planner has not said) balance its grids, and its areas group its territories — so
no territory and no area ever spans two units, and each manager's target is his share
of his unit's hours. Workload is in hours/month; coordinates in the work CRS (metres).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

import geopandas as gpd
import numpy as np
import pandas as pd

from gridplan.balance import (
    BalanceConfig,
    BalanceReport,
    _link_islands,
    balance_grids,
    group_into_areas,
)
from gridplan.errors import InfeasibleError
from gridplan.plan.model import Plan
from gridplan.plan.organisation import area_level, team_units, unit_names
from gridplan.plan.rules import grid_edge_pairs
from gridplan.progress import ProgressCallback, no_progress, scaled

__all__ = ["balance_plan", "merge_reports"]

#: the area grouping's share of :func:`balance_plan`'s time (seconds, at most a tenth)
_AREA_SECONDS = 1.0
#: with a work budget, the areas' wall-clock safety net in multiples of their work
_AREA_SAFETY = 4.0
#: kept for the work after the search (report, territories, areas) in seconds
_FINISH_SECONDS = 0.3
#: the least time a unit's balance gets (seconds)
_MIN_PART_SECONDS = 0.3


def _elapsed(t0: float) -> float:
    return time.monotonic() - t0


def _team_for_balance(team: pd.DataFrame) -> pd.DataFrame:
    t = team.rename(columns={"manager": "name"})
    cols = ["name", "capacity_h"]
    if {"home_x", "home_y"} <= set(t.columns) and t[["home_x", "home_y"]].notna().any().all():
        cols += ["home_x", "home_y"]  # managers without a home: NaN
    return t[[c for c in cols if c in t.columns]].reset_index(drop=True)


def _island_links(
    grids: gpd.GeoDataFrame, pairs: np.ndarray, k: int, config: BalanceConfig
) -> tuple[np.ndarray, list[str]]:
    """The links across water the balance needs: each group of grids with no neighbour
    (an island) joined to its nearest grid, unless it holds a whole number of
    territories (see :func:`gridplan.balance._link_islands`); ``(m, 2)`` grid row pairs
    and the notes (distances in metres)."""
    n = len(grids)
    if not config.link_islands or n < 2:
        return np.zeros((0, 2), dtype=np.int64), []
    w = pd.to_numeric(grids[config.weight_column], errors="coerce").fillna(0.0).to_numpy(float)
    pts = grids.geometry.representative_point()
    out, notes = _link_islands(
        n, pairs, pts.x.to_numpy(float), pts.y.to_numpy(float), crs=grids.crs, weights=w,
        target=float(w.sum()) / max(k, 1), tolerance=config.tolerance,
        ids=grids["grid_id"].astype(str).to_numpy(),
    )  # fmt: skip
    return np.asarray(out[len(pairs) :], dtype=np.int64).reshape(-1, 2), notes


@dataclass(frozen=True)
class _Part:
    """One independent balance problem: a unit's grid rows and team rows."""

    unit: str
    rows: np.ndarray  # grid rows (positions in plan.grids)
    team: np.ndarray  # team rows (positions in plan.managers)


@dataclass(frozen=True)
class _Solved:
    unit: str
    rows: np.ndarray
    labels: np.ndarray  # territory index per grid of the part
    weights: np.ndarray  # workload per territory
    pairs: np.ndarray  # grid pairs of the part (part positions)
    report: BalanceReport
    links: np.ndarray  # island links (plan grid rows)
    notes: tuple[str, ...]


def _parts(plan: Plan, team: pd.DataFrame) -> list[_Part]:
    level = area_level(plan)
    n = len(plan.grids)
    if level is None or "unit" not in team.columns:
        return [_Part("", np.arange(n), np.arange(len(team)))]
    gunit = plan.grids[f"unit_{level}"].fillna("").astype(str).to_numpy()
    tunit = team["unit"].fillna("").astype(str).to_numpy()
    out = []
    for unit in sorted(set(gunit) | set(tunit)):
        rows, members = np.flatnonzero(gunit == unit), np.flatnonzero(tunit == unit)
        if len(rows) and len(members):
            out.append(_Part(unit, rows, members))
    return out


def _locks_and_previous(
    plan: Plan,
    locks: Mapping[str, str] | None,
    previous: Mapping[str, str] | None,
    grid_ids: Iterable[str] | None,
) -> tuple[dict[str, str], dict[str, str] | None]:
    lk = {str(k): str(v) for k, v in dict(locks or {}).items() if str(v)}
    if grid_ids is not None:
        free = {str(g) for g in grid_ids}
        ids = plan.grids["grid_id"].astype(str).to_numpy()
        cur = plan.grids["manager"].fillna("").astype(str)
        for gid, man in zip(ids, cur, strict=True):
            if gid not in free and man:
                lk.setdefault(gid, man)
    prev = {str(k): str(v) for k, v in dict(previous or {}).items() if str(v)} or None
    return lk, prev


def _solve_part(
    plan: Plan,
    part: _Part,
    team: pd.DataFrame,
    pairs: np.ndarray,
    config: BalanceConfig,
    lk: dict[str, str],
    prev: dict[str, str] | None,
    progress: ProgressCallback,
) -> tuple[_Solved, np.ndarray]:
    """Balance one part's grids among its managers (``config.time_limit`` seconds); the
    solved part and the manager name of each of its grids."""
    grids = plan.grids.iloc[part.rows]
    members = team.iloc[part.team]
    pos = np.full(len(plan.grids), -1, dtype=np.int64)
    pos[part.rows] = np.arange(len(part.rows))
    inside = (pos[pairs[:, 0]] >= 0) & (pos[pairs[:, 1]] >= 0)
    sub = pos[pairs[inside]].reshape(-1, 2)
    links, notes = _island_links(grids, sub, len(members), config)
    both = np.vstack([sub, links])
    ids = grids["grid_id"].astype(str).to_numpy()
    adj = pd.DataFrame({"a": ids[both[:, 0]], "b": ids[both[:, 1]]})
    names = set(members["manager"].astype(str))
    try:
        res = balance_grids(
            grids,
            adjacency=adj,
            config=replace(config, link_islands=False),
            managers=_team_for_balance(members),
            locks={g: m for g, m in lk.items() if g in set(ids) and m in names} or None,
            previous={g: m for g, m in prev.items() if g in set(ids)} if prev else None,
            progress=progress,
        )
    except InfeasibleError as err:
        if not part.unit:
            raise
        level = area_level(plan)
        name = unit_names(plan, level).get(part.unit, part.unit) if level else part.unit
        text = str(err).split("\nChoices:")[0]
        raise InfeasibleError(
            f"{level} {part.unit} ({name}), {len(part.rows)} grids for {len(members)} "
            f"managers: {text}",
            suggestions=[
                *err.suggestions,
                "form territories at a higher level of the organisation (--area-level, or "
                "'Territories and areas inside each' in the app)",
            ],
        ) from None
    assignment = res.assignment.reindex(ids).astype(str).to_numpy()
    weights = np.array([t.weight for t in res.report.territories], dtype=float)
    return _Solved(
        part.unit,
        part.rows,
        np.asarray(res.labels),
        weights,
        sub,
        replace(res.report, notes=res.report.notes),
        part.rows[links] if len(links) else np.zeros((0, 2), dtype=np.int64),
        tuple(notes),
    ), assignment


def _check_locks(plan: Plan, team: pd.DataFrame, lk: Mapping[str, str]) -> None:
    """A lock that gives a grid to a manager of another unit cannot hold."""
    from gridplan.errors import InputError, Problem

    level = area_level(plan)
    if level is None or not lk:
        return
    gunit = dict(zip(plan.grids["grid_id"].astype(str), plan.grids[f"unit_{level}"], strict=True))
    munit = dict(zip(team["manager"].astype(str), team["unit"].astype(str), strict=True))
    bad = [(g, m) for g, m in lk.items() if m in munit and str(gunit.get(g, "")) != munit[m]]
    if bad:
        shown = ", ".join(f"{g} → {m}" for g, m in bad[:5])
        raise InputError(
            Problem(
                f"{len(bad)} locked grids belong to a manager of another {level}: {shown}",
                "locks",
                f"unlock them, or move the manager to the grids' {level} in the team table",
            )
        )


def merge_reports(reports: list[BalanceReport], prefixes: list[str]) -> BalanceReport:
    """One report of independent balances (one per unit): sums, maxima and all notes."""
    if len(reports) == 1:
        return reports[0]
    first = reports[0]
    notes: list[str] = []
    for r, p in zip(reports, prefixes, strict=True):
        notes.extend(f"{p}: {n}" if p else n for n in r.notes)
    return replace(
        first,
        n_units=sum(r.n_units for r in reports),
        n_managers=sum(r.n_managers for r in reports),
        total_weight=sum(r.total_weight for r in reports),
        max_deviation=max(r.max_deviation for r in reports),
        within_tolerance=all(r.within_tolerance for r in reports),
        contiguous=all(r.contiguous for r in reports),
        cut_edges=sum(r.cut_edges for r in reports),
        total_edges=sum(r.total_edges for r in reports),
        compactness=sum(r.compactness for r in reports),
        moved_units=sum(r.moved_units for r in reports),
        moved_weight=sum(r.moved_weight for r in reports),
        seconds=sum(r.seconds for r in reports),
        stopped_by=", ".join(dict.fromkeys(r.stopped_by for r in reports)),
        territories=tuple(t for r in reports for t in r.territories),
        notes=tuple(notes),
        stats={p or "city": dict(r.stats) for r, p in zip(reports, prefixes, strict=True)},
        reachable_tolerance=max(r.reachable_tolerance for r in reports),
    )


def _area_names(plan: Plan, unit: str, n: int) -> list[str]:
    level = area_level(plan)
    stem = f"{unit_names(plan, level).get(unit, unit)} " if (unit and level) else ""
    return [f"{stem}A{i + 1}" for i in range(n)]


def _group_areas(
    plan: Plan,
    solved: list[_Solved],
    team: pd.DataFrame,
    parts: list[_Part],
    managers_per_area: int,
    config: BalanceConfig,
    t_areas: float,
    w_areas: float | None,
    progress: ProgressCallback,
) -> pd.Series:
    """The area name of every manager: each part's territories grouped into contiguous
    areas of about ``managers_per_area`` managers (a part's time ``t_areas`` seconds and
    work ``w_areas`` are shared in proportion to its managers)."""
    area = pd.Series("", index=team.index, dtype=object)
    k = len(team)
    for i, (s, part) in enumerate(zip(solved, parts, strict=True)):
        kt = len(part.team)
        n_areas = max(1, math.ceil(kt / managers_per_area))
        names = _area_names(plan, s.unit, n_areas)
        if n_areas == 1:
            labels = np.zeros(kt, dtype=np.int64)
        else:
            share = kt / max(k, 1)
            ar = group_into_areas(
                s.labels, s.pairs, s.weights, n_areas=n_areas, tolerance=0.25,
                seed=config.seed, time_limit=max(0.2, t_areas * share),
                progress=scaled(progress, i / len(parts), (i + 1) / len(parts)),
                workers=config.workers,
                work_limit=None if w_areas is None else max(0.05, w_areas * share),
            )  # fmt: skip
            labels = np.asarray(ar.labels)
        area.iloc[part.team] = [names[int(a)] for a in labels]
    return area


def balance_plan(
    plan: Plan,
    edges: np.ndarray,
    config: BalanceConfig,
    *,
    locks: Mapping[str, str] | None = None,
    previous: Mapping[str, str] | None = None,
    grid_ids: Iterable[str] | None = None,
    managers_per_area: int = 5,
    progress: ProgressCallback = no_progress,
    max_moved: int | None = None,
    max_moved_hours: float | None = None,
) -> tuple[Plan, BalanceReport]:
    """Share the plan's grids among its team (``plan.managers``) within
    ``config.tolerance``; ``edges`` are the cells' adjacency pairs.

    ``locks``: grid id → manager kept; ``previous``: grid id → manager for a
    minimum-disruption re-balance; ``grid_ids``: only these grids may move (every other
    grid is locked to its present manager); ``max_moved`` / ``max_moved_hours``: with
    ``previous``, at most this many grids / hours per month change manager (``None`` or
    0 = no cap, as in the app's number inputs). Areas are regrouped when the whole plan
    is balanced. The plan's tolerance becomes ``config.tolerance``. With an organisation
    every unit of the area level is balanced on its own (module docstring).

    ``config.time_limit`` (seconds) is the whole step's budget: the area grouping takes
    a tenth of it (at most 1 s) and the balance the rest, shared among the units in
    proportion to their grids."""
    t_start = time.monotonic()
    team = plan.managers.copy()
    if team.empty:
        raise ValueError("the team is empty")
    if area_level(plan) is not None:
        team["unit"] = team_units(plan, team, current=plan.grids).to_numpy()
    grids = plan.grids.copy()
    pairs = grid_edge_pairs(plan, edges)
    lk, prev = _locks_and_previous(plan, locks, previous, grid_ids)
    _check_locks(plan, team, lk)
    if prev is not None and (max_moved or max_moved_hours):
        config = replace(
            config,
            max_moved=int(max_moved) if max_moved else config.max_moved,
            max_moved_weight=float(max_moved_hours) if max_moved_hours else config.max_moved_weight,
        )
    k = len(team)
    if k > len(grids):
        raise InfeasibleError(
            f"{k} managers but only {len(grids)} grids: every manager needs at least one grid",
            suggestions=[f"use at most {len(grids)} managers", "cut smaller grids"],
        )
    grouping = grid_ids is None and bool(managers_per_area) and k > managers_per_area
    t_areas = min(_AREA_SECONDS, 0.1 * config.time_limit) if grouping else 0.0
    parts = _parts(plan, team)
    work = plan.with_(managers=team)
    solved: list[_Solved] = []
    manager = grids["manager"].fillna("").astype(str).to_numpy(dtype=object)
    n_all = sum(len(p.rows) for p in parts)
    done = 0
    for part in parts:
        left = config.time_limit - _elapsed(t_start) - t_areas - _FINISH_SECONDS
        rest = sum(len(p.rows) for p in parts[len(solved) :])
        least = _MIN_PART_SECONDS if len(parts) > 1 else 0.5
        t_part = max(least, left * len(part.rows) / max(rest, 1))
        w_part = None
        if config.work_limit is not None:
            w_part = max(0.05, config.work_limit * len(part.rows) / max(n_all, 1))
        lo, hi = 0.9 * done / n_all, 0.9 * (done + len(part.rows)) / n_all
        s, assignment = _solve_part(
            work, part, team, pairs, replace(config, time_limit=t_part, work_limit=w_part),
            lk, prev, scaled(progress, lo, hi),
        )  # fmt: skip
        manager[part.rows] = assignment
        solved.append(s)
        done += len(part.rows)
    grids["manager"] = manager
    if grid_ids is None and managers_per_area and k > 1:
        t_left = max(0.2, min(t_areas, config.time_limit - _elapsed(t_start) - 0.1))
        w_areas = None if config.work_limit is None else min(t_areas, config.work_limit)
        if w_areas is not None:  # a work budget decides; the clock is only a safety net
            t_left = max(t_left, _AREA_SAFETY * w_areas)
        team["area"] = _group_areas(
            work, solved, team, parts, managers_per_area, config, t_left, w_areas,
            scaled(progress, 0.9, 1.0),
        ).to_numpy()  # fmt: skip
    meta = dict(plan.meta)
    meta["tolerance"] = repr(float(config.tolerance))
    links = np.vstack([s.links for s in solved]) if solved else np.zeros((0, 2), np.int64)
    if grid_ids is None:  # a partial re-balance keeps the links of the whole balance
        ids = plan.grids["grid_id"].astype(str).to_numpy()
        meta["territory_links"] = json.dumps([[str(ids[a]), str(ids[b])] for a, b in links])
    progress(1.0, "balanced")
    report = merge_reports([s.report for s in solved], [s.unit for s in solved])
    link_notes = tuple(n for s in solved for n in s.notes)
    if link_notes:
        report = replace(report, notes=link_notes + report.notes)
    return plan.with_(grids=grids, managers=team, meta=meta), report
