"""Result types of the balance engine: the per-territory and the whole-plan report."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["BalanceReport", "BalanceResult", "TerritoryReport"]


@dataclass(frozen=True)
class TerritoryReport:
    """One manager's territory: workload (weight units, e.g. hours/month) and checks."""

    manager: Any
    weight: float
    target: float
    lower: float
    upper: float
    deviation: float  # (weight - target) / target
    units: int
    pieces: int  # connected pieces (1 = contiguous)
    contiguous: bool
    compactness: float  # weight-weighted mean squared distance to the centre (m² in a metric CRS)
    locked_units: int
    moved_in: int


@dataclass(frozen=True)
class BalanceReport:
    """Quality report of a plan (``to_dict()`` for JSON)."""

    n_units: int
    n_managers: int
    tolerance: float
    objective: str
    total_weight: float
    max_deviation: float  # max |weight - target| / target over managers
    within_tolerance: bool
    contiguous: bool
    cut_edges: int
    total_edges: int
    compactness: float  # sum of weight * squared distance to territory centre
    moved_units: int
    moved_weight: float
    seconds: float
    stopped_by: str
    territories: tuple[TerritoryReport, ...]
    notes: tuple[str, ...] = ()
    stats: Mapping[str, Any] = field(default_factory=dict)
    # lower bound on the max deviation the units allow (heaviest unit vs the largest
    # target, locked units, parts without neighbours): above ``tolerance`` means the
    # tolerance is out of reach whatever the search does (0 = no bound bites)
    reachable_tolerance: float = 0.0

    @property
    def tolerance_reachable(self) -> bool:
        """Whether the tolerance is within what the units allow (see
        ``reachable_tolerance``; reachable does not mean reached)."""
        return self.reachable_tolerance <= self.tolerance + 1e-12

    @property
    def workloads(self) -> list[float]:
        return [t.weight for t in self.territories]

    @property
    def targets(self) -> list[float]:
        return [t.target for t in self.territories]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["territories"] = [asdict(t) for t in self.territories]
        d["workloads"] = self.workloads
        d["targets"] = self.targets
        d["notes"] = list(self.notes)
        d["stats"] = _jsonable(dict(self.stats))
        return _jsonable(d)


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating):
        return float(x)
    if isinstance(x, np.bool_):
        return bool(x)
    return x


@dataclass
class BalanceResult:
    """``labels`` (n,) manager index per unit, the ``report``; the GeoDataFrame wrapper
    also fills ``assignment`` (grid id -> manager name) and ``territories`` (dissolved)."""

    labels: np.ndarray
    report: BalanceReport
    assignment: pd.Series | None = None
    territories: Any = None  # GeoDataFrame
