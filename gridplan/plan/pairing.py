"""Marketing managers for the community managers of each area (一主一辅, issue 16).

Each marketing manager supports a group of about ``ratio`` community managers (± 1) of
one area: the groups are contiguous over the territories (two territories touch when
their grids do, or when the balance linked them across water) and balanced on the
marketing workload, the hours/month of the group and VIP client work in them
(``StaffSettings.marketing_columns`` of :mod:`gridplan.plan.staff`). The search is
:func:`gridplan.balance.pair_marketing`; here the plan's territories become its arrays
and its groups become people.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import pandas as pd

from gridplan.balance import pair_marketing
from gridplan.plan.model import Plan
from gridplan.plan.organisation import area_units

__all__ = ["marketing_staff", "territory_edges"]

#: seconds and deterministic work of one pairing (areas are small problems)
_PAIR_SECONDS = 2.0
_PAIR_WORK = 0.5


def territory_edges(plan: Plan, managers: list[str]) -> np.ndarray:
    """Pairs ``(a, b)`` of positions in ``managers`` whose territories touch (grids that
    share a boundary, or the plan's island links)."""
    g = plan.grids
    pos = {m: i for i, m in enumerate(managers)}
    owner = g["manager"].fillna("").astype(str).map(pos).fillna(-1).to_numpy(np.int64)
    left, right = g.sindex.query(g.geometry, predicate="intersects")
    pairs = [np.stack([owner[left], owner[right]], axis=1)]
    links = json.loads(str(plan.meta.get("territory_links", "[]")) or "[]")
    if links:
        row = {str(k): i for i, k in enumerate(g["grid_id"].astype(str))}
        ab = np.array([[row[a], row[b]] for a, b in links if a in row and b in row], np.int64)
        if len(ab):
            pairs.append(np.stack([owner[ab[:, 0]], owner[ab[:, 1]]], axis=1))
    e = np.vstack(pairs)
    e = e[(e[:, 0] >= 0) & (e[:, 1] >= 0) & (e[:, 0] != e[:, 1])]
    e = np.sort(e, axis=1)
    return np.unique(e, axis=0) if len(e) else np.zeros((0, 2), dtype=np.int64)


def _weights(plan: Plan, managers: list[str], columns: tuple[str, ...]) -> np.ndarray:
    g = plan.grids
    cols = [c for c in columns if c in g.columns]
    if not cols:
        return np.zeros(len(managers))
    w = g[cols].apply(pd.to_numeric, errors="coerce").fillna(0.0).sum(axis=1)
    per = w.groupby(g["manager"].astype(str)).sum()
    return np.array([float(per.get(m, 0.0)) for m in managers])


def marketing_staff(
    plan: Plan,
    named: pd.DataFrame,
    ratio: int,
    columns: Sequence[str] = ("hours_group", "hours_vip"),
    *,
    seed: int = 0,
) -> pd.DataFrame:
    """The marketing managers of the plan (staff rows: ``person``, ``role``, ``area``,
    ``unit``, ``supports``): groups of ``ratio`` ± 1 community managers by
    :func:`gridplan.balance.pair_marketing` inside each area, balanced on the grids'
    ``columns`` (hours/month); named people (``named``, role marketing_manager) take
    the groups of the area they name first, then the next free groups; the rest get
    MM01, MM02 …"""
    team = plan.managers
    held = set(plan.grids["manager"].astype(str)) - {""}
    rows = team[team["manager"].astype(str).isin(held)]
    managers = rows["manager"].astype(str).tolist()
    if not managers or not ratio:
        return named.iloc[:0]
    area = rows["area"].fillna("").astype(str).to_numpy() if "area" in rows else None
    res = pair_marketing(
        territory_edges(plan, managers),
        _weights(plan, managers, tuple(columns)),
        int(ratio),
        within=area,
        seed=seed,
        time_limit=_PAIR_SECONDS,
        work_limit=_PAIR_WORK,
    )
    labels = np.asarray(res.labels)
    groups = sorted(set(labels.tolist()), key=lambda k: int(np.flatnonzero(labels == k)[0]))
    group_area = {k: (area[labels == k][0] if area is not None else "") for k in groups}
    owner = _name_groups(named, groups, group_area)
    unit_of = area_units(plan)
    out = [
        {
            "person": owner[k],
            "role": "marketing_manager",
            "area": group_area[k],
            "unit": unit_of.get(group_area[k], ""),
            "supports": ",".join(m for m, lab in zip(managers, labels, strict=True) if lab == k),
        }
        for k in groups
    ]
    spare = named[~named["person"].isin(set(owner.values()))].assign(area="", supports="")
    return pd.concat([pd.DataFrame(out), spare], ignore_index=True)


def _name_groups(
    named: pd.DataFrame, groups: list[int], group_area: dict[int, str]
) -> dict[int, str]:
    """Group → person: named people on a group of the area they name, then in order;
    generated names (MM01 …) for the groups left."""
    owner: dict[int, str] = {}
    people = [(str(p), str(a)) for p, a in zip(named["person"], named["area"], strict=True)]
    for person, wanted in people:
        free = [k for k in groups if k not in owner and wanted and group_area[k] == wanted]
        if free:
            owner[free[0]] = person
    placed = set(owner.values())
    for person, _ in people:
        if person in placed:
            continue
        free = [k for k in groups if k not in owner]
        if not free:
            break
        owner[free[0]] = person
        placed.add(person)
    width = max(2, len(str(len(groups))))
    made = (f"MM{i + 1:0{width}d}" for i in range(len(groups)))
    for k in groups:
        if k not in owner:
            owner[k] = next(made)
    return owner
