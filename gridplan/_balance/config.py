"""The knobs of :func:`gridplan.balance.balance_grids` and the objective names."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from gridplan.workload import DEFAULT_CAPACITY_H, HOURS

__all__ = ["BalanceConfig", "Objective"]

Objective = Literal["cut_edges", "compactness", "both"]


@dataclass(frozen=True)
class BalanceConfig:
    """Knobs of :func:`balance_grids` (all optional).

    ``weight_column``: grid column with the workload (hours/month);
    ``n_managers``: used when no managers table is given (default: the headcount the
    workload needs at ``capacity_h`` hours/month per manager);
    ``move_penalty``: cut-edge units per grid that changes manager (``None`` =
    disruption first); ``time_limit`` in seconds; ``workers`` parallel searches
    (default 2); ``adjacency``: "rook" (shared boundary length > 0) or "queen"
    (any touch) when it is built from the geometry; ``link_islands``: join a grid
    group that touches no other (an island) to its nearest grid so territories can
    stay whole; ``home_weight``: under ``cut_edges``, cut edges per grid per grid
    spacing (the median distance between adjacent grid centres, metres) that a grid
    lies from its manager's home base: a second term that places every territory
    around its home and breaks ties, small so cut edges stay the first goal (a grid
    20 spacings nearer home is worth one cut edge at the default 0.05); 0 ignores
    homes; managers without a home are unaffected. ``compactness``/``both`` use the
    home as the territory's centre instead. ``work_limit``: the deterministic work
    budget in reference seconds (annealing steps, CP-SAT deterministic seconds); when it
    is given every phase follows the work done and ``time_limit`` is only the wall-clock
    safety net, so a seed gives the same plan with any ``workers`` unless that net stops
    the run (``report.stopped_by == "time"``); ``None``: the budget is ``time_limit``
    and the clock also shapes the phases (an answer within ``time_limit``, the app).
    """

    tolerance: float = 0.03
    objective: Objective = "cut_edges"
    weight_column: str = HOURS
    n_managers: int | None = None
    capacity_h: float = DEFAULT_CAPACITY_H
    move_penalty: float | None = None
    max_moved: int | None = None
    max_moved_weight: float | None = None
    seed: int = 0
    time_limit: float = 60.0
    workers: int | None = None
    adjacency: Literal["rook", "queen"] = "rook"
    link_islands: bool = True
    work_limit: float | None = None  # deterministic work budget (default time_limit)
    home_weight: float = 0.05
