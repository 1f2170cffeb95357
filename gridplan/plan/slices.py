"""Slices of a plan: the part an area team or one manager receives."""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Literal

from gridplan.plan.model import Plan

By = Literal["area", "manager"]

_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')


def safe_filename(text: str, fallback: str = "unnamed") -> str:
    """``text`` as a file name on every OS: path separators, reserved and control
    characters become ``_``; Chinese and other letters are kept; at most 80 characters."""
    name = _UNSAFE.sub("_", str(text)).strip(" ._")
    return name[:80] or fallback


def area_of_manager(plan: Plan) -> dict[str, str]:
    """Manager name → area name (``""`` when the team has no areas)."""
    if "area" not in plan.managers.columns:
        return {str(m): "" for m in plan.managers["manager"]}
    return dict(
        zip(
            plan.managers["manager"].astype(str),
            plan.managers["area"].fillna("").astype(str),
            strict=True,
        )
    )


def plan_slice(plan: Plan, managers: Collection[str], name: str) -> Plan:
    """The plan restricted to the grids of ``managers``: their grids, the cells of those
    grids, the customers in those cells, the sites and districts touching them."""
    keep = set(map(str, managers))
    grids = plan.grids[plan.grids["manager"].astype(str).isin(keep)].copy()
    ids = set(grids["grid_id"])
    cells = plan.cells[plan.cells["grid_id"].isin(ids)].copy()
    team = plan.managers[plan.managers["manager"].astype(str).isin(keep)].copy()
    customers = None
    if plan.customers is not None:
        customers = plan.customers[plan.customers["cell_id"].isin(set(cells["cell_id"]))].copy()
    sites = districts = None
    hull = grids.geometry.union_all() if len(grids) else None
    if plan.sites is not None and hull is not None:
        sites = plan.sites[plan.sites.intersects(hull)].copy()
    if plan.districts is not None and hull is not None:
        districts = plan.districts[plan.districts.intersects(hull)].copy()
    units = plan.units
    if units is not None and hull is not None:
        units = units[units.intersects(hull)].copy()
    staff = plan.staff
    if staff is not None and "area" in staff.columns:
        areas_kept = set(team["area"].astype(str)) if "area" in team.columns else set()
        staff = staff[staff["area"].astype(str).isin(areas_kept)].copy()
    return plan.with_(
        units=units,
        staff=staff,
        name=name,
        cells=cells,
        grids=grids,
        managers=team,
        customers=customers,
        sites=sites,
        districts=districts,
    )


def groups(plan: Plan, by: By) -> list[tuple[str, list[str]]]:
    """``(key, managers)`` per area or per manager, in the team's order; only groups
    with at least one grid. Managers without an area form the group ``""``."""
    with_grids = set(plan.grids["manager"].astype(str)) - {""}
    area_of = area_of_manager(plan)
    team = [m for m in map(str, plan.managers["manager"]) if m in with_grids]
    if by == "manager":
        return [(m, [m]) for m in team]
    if by == "area":
        out: dict[str, list[str]] = {}
        for m in team:
            out.setdefault(area_of.get(m, ""), []).append(m)
        return list(out.items())
    raise ValueError(f"by must be 'area' or 'manager', not {by!r}")


def unique_names(keys: list[str], fallback: str) -> list[str]:
    """Safe, distinct file stems for ``keys`` (a number is appended on a clash)."""
    seen: dict[str, int] = {}
    out = []
    for k in keys:
        stem = safe_filename(k, fallback)
        n = seen.get(stem.lower(), 0)
        seen[stem.lower()] = n + 1
        out.append(stem if n == 0 else f"{stem}-{n + 1}")
    return out
