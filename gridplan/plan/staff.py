"""The people of each area's team beside its community managers (issue 16).

An area (区域) is led by one **area manager** (区域经理), who owns its results; optionally
**marketing managers** (一主一辅) each support several of its community managers; the
client managers of group, VIP and phone customers are staffed for it by the ratios of
:mod:`gridplan.workload`. The plan's ``staff`` table holds these people (columns
:data:`~gridplan.plan.organisation.STAFF_COLUMNS`): named people from the team table
(``role`` column) are placed first — an area manager on the area he names, else on an
area of the unit he names, else on the next area without one — and the posts still empty
get generated names (``AM01`` …, ``MM01`` …) so that every area has its leader.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gridplan.plan.model import HOURS, Plan, plan_headcount
from gridplan.plan.organisation import STAFF_COLUMNS, STAFF_ROLES, area_units

__all__ = ["StaffSettings", "area_team", "assign_staff", "staff_areas"]


@dataclass(frozen=True)
class StaffSettings:
    """``marketing_ratio``: community managers each marketing manager supports (``None``
    = no marketing managers); ``marketing_columns``: the grid columns whose sum is the
    marketing workload (group and business potential; missing columns count 0)."""

    marketing_ratio: int | None = None
    marketing_columns: tuple[str, ...] = ("hours_group", "hours_vip")


def staff_areas(plan: Plan) -> list[str]:
    """The plan's areas in team order (areas with at least one community manager)."""
    if "area" not in plan.managers.columns:
        return []
    names = plan.managers["area"].fillna("").astype(str)
    return list(dict.fromkeys(a for a in names if a))


def _empty_staff() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in STAFF_COLUMNS})


def _normalise(people: pd.DataFrame | None) -> pd.DataFrame:
    if people is None or people.empty:
        return _empty_staff()
    out = pd.DataFrame(people).copy()
    if "person" not in out.columns and "manager" in out.columns:
        out = out.rename(columns={"manager": "person"})
    for col in STAFF_COLUMNS:
        out[col] = out[col].fillna("").astype(str) if col in out.columns else ""
    return out[list(STAFF_COLUMNS)].reset_index(drop=True)


def _place_area_managers(plan: Plan, people: pd.DataFrame) -> pd.DataFrame:
    """One area manager per area: named ones where they say, then generated names."""
    areas = staff_areas(plan)
    unit_of = area_units(plan)
    named = people[people["role"] == "area_manager"].copy()
    taken: dict[str, int] = {}
    for i, row in named.iterrows():  # the area a person names
        if row["area"] in areas and row["area"] not in taken:
            taken[row["area"]] = i
    for i, row in named.iterrows():  # the unit a person names
        if i in taken.values() or not row["unit"]:
            continue
        free = [a for a in areas if a not in taken and unit_of.get(a, "") == row["unit"]]
        if free:
            taken[free[0]] = i
    for i in named.index:  # anyone left: the next area without a leader
        if i in taken.values():
            continue
        free = [a for a in areas if a not in taken]
        if not free:
            break
        taken[free[0]] = i
    named["area"] = ""
    for area, i in taken.items():
        named.loc[i, "area"] = area
        named.loc[i, "unit"] = unit_of.get(area, named.loc[i, "unit"])
    vacant = [a for a in areas if a not in taken]
    width = max(2, len(str(len(areas))))
    made = pd.DataFrame(
        {
            "person": [f"AM{k + 1:0{width}d}" for k in range(len(vacant))],
            "role": "area_manager",
            "area": vacant,
            "unit": [unit_of.get(a, "") for a in vacant],
            "supports": "",
        }
    )
    out = pd.concat([named, made], ignore_index=True) if len(made) else named
    order = {a: k for k, a in enumerate(areas)}
    return out.sort_values("area", key=lambda s: s.map(order).fillna(len(order)), kind="stable")


def assign_staff(
    plan: Plan,
    people: pd.DataFrame | None = None,
    settings: StaffSettings | None = None,
    *,
    seed: int = 0,
) -> Plan:
    """The plan with its ``staff``: an area manager for every area and, with
    ``settings.marketing_ratio``, marketing managers each supporting that many community
    managers (± 1) of one area, their groups contiguous and balanced on the marketing
    workload (hours/month of ``settings.marketing_columns``); the other named people of
    ``people`` kept with their role. ``seed``: the pairing's seed."""
    settings = settings or StaffSettings()
    given = _normalise(people if people is not None else plan.staff)
    given = given[given["role"].isin(STAFF_ROLES)]
    am = _place_area_managers(plan, given)
    rest = given[~given["role"].isin(("area_manager", "marketing_manager"))]
    parts = [am, rest]
    if settings.marketing_ratio:
        named = given[given["role"] == "marketing_manager"]
        from gridplan.plan.pairing import marketing_staff  # only when asked: its solver

        parts.append(
            marketing_staff(
                plan, named, settings.marketing_ratio, settings.marketing_columns, seed=seed
            )
        )
    else:
        parts.append(given[given["role"] == "marketing_manager"])
    staff = (
        pd.concat([p for p in parts if len(p)], ignore_index=True)
        if any(len(p) for p in parts)
        else _empty_staff()
    )
    return plan.with_(staff=staff.reset_index(drop=True)[list(STAFF_COLUMNS)])


def area_team(plan: Plan) -> pd.DataFrame:
    """One row per area: ``area``, ``unit``, ``area_manager``, ``community_managers``
    (names, comma-separated), ``n_community_managers``, ``marketing_managers``,
    ``hours`` (community managers' hours/month) and the client managers staffed for it
    (``group_client_managers``, ``vip_client_managers``, ``phone_client_managers``:
    recommended headcount on the area's own figures) with the named ones
    (``named_client_managers``)."""
    areas = staff_areas(plan)
    team = plan.managers
    staff = _normalise(plan.staff)
    unit_of = area_units(plan)
    hc = plan_headcount(plan)
    hc = hc[hc["level"] == "area"]
    rec = {
        (str(u), str(r)): v
        for u, r, v in zip(hc["unit"], hc["role"], hc["recommended"], strict=True)
    }
    hours_of = plan.grids.groupby(
        plan.grids["manager"].astype(str).map(team.set_index("manager")["area"])
    )[HOURS].sum()
    rows = []
    for area in areas:
        cms = team.loc[team["area"].astype(str) == area, "manager"].astype(str).tolist()
        mine = staff[staff["area"] == area]
        rows.append(
            {
                "area": area,
                "unit": unit_of.get(area, ""),
                "area_manager": ", ".join(mine.loc[mine["role"] == "area_manager", "person"]),
                "community_managers": ", ".join(cms),
                "n_community_managers": len(cms),
                "marketing_managers": ", ".join(
                    mine.loc[mine["role"] == "marketing_manager", "person"]
                ),
                "hours": float(hours_of.get(area, 0.0)),
                "group_client_managers": int(_num(rec.get((area, "group")))),
                "vip_client_managers": int(_num(rec.get((area, "vip")))),
                "phone_client_managers": int(_num(rec.get((area, "phone")))),
                "named_client_managers": ", ".join(
                    mine.loc[mine["role"].str.endswith("client_manager"), "person"]
                ),
            }
        )
    return pd.DataFrame(rows)


def _num(x: object) -> float:
    try:
        v = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0
    return 0.0 if np.isnan(v) else v
