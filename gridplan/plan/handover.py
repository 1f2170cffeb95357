"""Hand-over lists after a re-balance: per manager, what moves in and out.

Grids are matched by ``grid_id`` (a grid that did not exist before comes "from"
nobody, one that is gone goes "to" nobody); customers by ``customer_id`` through
their attribution (customer → cell → grid → manager), so the customer lists are
right even when the grids were redrawn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gridplan.errors import InputError, Problem
from gridplan.plan.model import HOURS, Plan, customer_attribution
from gridplan.plan.privacy import PrivacySettings, suppress_small_counts

#: Figures of a moving grid carried into the hand-over list.
GRID_FIGURES: tuple[str, ...] = ("population", "customers", "spend", HOURS)

GRID_COLUMNS = [
    "manager", "direction", "grid_id", "from_manager", "to_manager", "district", *GRID_FIGURES,
]  # fmt: skip
CUSTOMER_COLUMNS = [
    "manager", "direction", "customer_id", "segment", "spend", "grid_id",
    "from_manager", "to_manager",
]  # fmt: skip


@dataclass(frozen=True, eq=False)
class HandOver:
    """What changes hands between two plans.

    ``grids``: one row per manager and moving grid, ``direction`` "in" or "out",
    ``from_manager``/``to_manager`` (``""`` = nobody), the grid's figures (population,
    customers, spend CNY/month, ``hours_total`` hours/month, from the new plan when the
    grid still exists). ``customers``: the same per moving customer (``spend`` CNY/month,
    ``grid_id`` in the new plan)."""

    grids: pd.DataFrame
    customers: pd.DataFrame
    customers_withheld: bool = False  # customer rows left out for privacy

    @property
    def summary(self) -> pd.DataFrame:
        """Per manager: grids and hours (h/month) in and out, customers in and out
        (missing when the customer rows were withheld for privacy)."""
        g = self.grids
        rows = []
        managers = sorted(set(g["manager"]) | set(self.customers["manager"]))
        for m in managers:
            gi = g[(g["manager"] == m) & (g["direction"] == "in")]
            go = g[(g["manager"] == m) & (g["direction"] == "out")]
            c = self.customers[self.customers["manager"] == m]
            rows.append(
                {
                    "manager": m,
                    "grids_in": len(gi),
                    "grids_out": len(go),
                    "hours_in": float(pd.to_numeric(gi[HOURS], errors="coerce").sum()),
                    "hours_out": float(pd.to_numeric(go[HOURS], errors="coerce").sum()),
                    "customers_in": np.nan
                    if self.customers_withheld
                    else int((c["direction"] == "in").sum()),
                    "customers_out": np.nan
                    if self.customers_withheld
                    else int((c["direction"] == "out").sum()),
                }
            )
        return pd.DataFrame(rows, columns=[
            "manager", "grids_in", "grids_out", "hours_in", "hours_out",
            "customers_in", "customers_out",
        ])  # fmt: skip

    def for_managers(self, managers: set[str]) -> HandOver:
        """Only the rows of these managers."""
        return HandOver(
            self.grids[self.grids["manager"].isin(managers)].reset_index(drop=True),
            self.customers[self.customers["manager"].isin(managers)].reset_index(drop=True),
            self.customers_withheld,
        )

    def private(self, privacy: PrivacySettings) -> HandOver:
        """Customer rows dropped when ``aggregates_only``; small counts blanked."""
        grids = suppress_small_counts(self.grids, privacy.min_count)
        if privacy.aggregates_only:
            return HandOver(grids, pd.DataFrame(columns=CUSTOMER_COLUMNS), True)
        return HandOver(grids, self.customers, self.customers_withheld)


def _both_ways(moves: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    out_rows = moves[moves["from_manager"] != ""].assign(
        manager=lambda d: d["from_manager"], direction="out"
    )
    in_rows = moves[moves["to_manager"] != ""].assign(
        manager=lambda d: d["to_manager"], direction="in"
    )
    both = pd.concat([out_rows, in_rows], ignore_index=True)
    if both.empty:
        return pd.DataFrame(columns=columns)
    return both[columns].sort_values(["manager", "direction", columns[2]]).reset_index(drop=True)


def same_city(previous: Plan, plan: Plan) -> Plan:
    """``previous`` in the CRS of ``plan``; refuses plans that do not overlap."""
    if previous.crs is not None and plan.crs is not None and previous.crs != plan.crs:
        previous = previous.with_(
            cells=previous.cells.to_crs(plan.crs),
            grids=previous.grids.to_crs(plan.crs),
            customers=None if previous.customers is None else previous.customers.to_crs(plan.crs),
        )
    a = previous.grids.total_bounds
    b = plan.grids.total_bounds
    overlap_x = min(a[2], b[2]) - max(a[0], b[0])
    overlap_y = min(a[3], b[3]) - max(a[1], b[1])
    if len(previous.grids) and len(plan.grids) and (overlap_x <= 0 or overlap_y <= 0):
        raise InputError(
            Problem(
                f"the previous plan {previous.name!r} and the plan {plan.name!r} do not cover "
                "the same city (their grids do not overlap)",
                "previous",
                "give an earlier version of this plan (the same city)",
            )
        )
    return previous


def handover(previous: Plan, plan: Plan) -> HandOver:
    """The grids and customers that change manager from ``previous`` to ``plan``.

    ``previous`` in another CRS is reprojected to the plan's; a previous plan that does
    not overlap this one (another city) is refused with an :class:`InputError`."""
    previous = same_city(previous, plan)
    before = previous.grids.set_index("grid_id")["manager"].fillna("").astype(str)
    after = plan.grids.set_index("grid_id")["manager"].fillna("").astype(str)
    ids = after.index.union(before.index, sort=False)
    old = before.reindex(ids).fillna("")
    new = after.reindex(ids).fillna("")
    moved = ids[(old != new).to_numpy()]
    figures = pd.concat([plan.grids.set_index("grid_id"), previous.grids.set_index("grid_id")])
    figures = figures[~figures.index.duplicated(keep="first")]
    cols = ["district", *GRID_FIGURES]
    grid_moves = pd.DataFrame(
        {
            "grid_id": moved,
            "from_manager": old[moved].to_numpy(),
            "to_manager": new[moved].to_numpy(),
        }
    )
    for c in cols:
        grid_moves[c] = figures[c].reindex(moved).to_numpy() if c in figures.columns else pd.NA

    a = customer_attribution(previous).set_index("customer_id")
    b = customer_attribution(plan).set_index("customer_id")
    cids = b.index.union(a.index, sort=False)
    m_old = a["manager"].reindex(cids).fillna("").astype(str)
    m_new = b["manager"].reindex(cids).fillna("").astype(str)
    cm = cids[(m_old != m_new).to_numpy()]
    info = pd.concat([b, a])
    info = info[~info.index.duplicated(keep="first")]
    cust_moves = pd.DataFrame(
        {
            "customer_id": cm,
            "segment": info["segment"].reindex(cm).to_numpy(),
            "spend": info["spend"].reindex(cm).to_numpy(),
            "grid_id": b["grid_id"].reindex(cm).fillna("").to_numpy(),
            "from_manager": m_old[cm].to_numpy(),
            "to_manager": m_new[cm].to_numpy(),
        }
    )
    return HandOver(_both_ways(grid_moves, GRID_COLUMNS), _both_ways(cust_moves, CUSTOMER_COLUMNS))
