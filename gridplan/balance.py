"""Assign grids (units) to community managers: balanced, contiguous, compact territories.

Three entry points share one engine (:mod:`gridplan._balance.engine`):

- :func:`balance_arrays` — the array core: unit weights (hours/month or any workload)
  and a CSR adjacency; returns labels and a :class:`BalanceReport`;
- :func:`balance_grids` — GeoDataFrame wrapper: builds the adjacency from the
  geometry when none is given, takes managers (names, capacities, home bases), locks
  and a previous plan keyed by grid id, and dissolves the territories;
- :func:`balance_units_table` — generic units in a table (the ``gridplan balance`` CLI).

:func:`group_into_areas` reuses the engine on the territory graph to group territories
into areas (区域), optionally inside organisation units (``within``);
:func:`pair_marketing` groups territories into contiguous groups of ``ratio ± 1``, one
marketing manager each (一主一辅), balanced on the marketing workload (exact CP-SAT for
small units, a contiguity-keeping local search otherwise); :func:`territory_adjacency`
builds the territory graph from the unit adjacency.

Model. Each manager ``k`` gets a target ``t_k = share_k * W`` (equal shares, or shares
of the capacities) and a band ``[t_k (1 - tol), t_k (1 + tol)]``; territories are
connected in the unit adjacency; locks fix units. Objectives: ``cut_edges`` (number of
adjacent unit pairs split between managers, the districting benchmark objective),
``compactness`` (workload-weighted squared distance to the territory's centre, or to
the manager's home base when given) or ``both`` (the two, each normalised by its value
in the start plan). With a ``previous`` plan, every unit that changes manager costs
``move_penalty`` (in cut-edge units); the default ``None`` makes disruption
lexicographically first, so a previous plan that already meets the bands and is
contiguous comes back unchanged. ``max_moved`` / ``max_moved_weight`` cap the change.

Managers without home bases or capacities are interchangeable: the engine's labels are
arbitrary for them and the exact model breaks the symmetry (orbitope ordering).

Engine (see :mod:`gridplan._balance.engine`): spectral / region-growing starts, exact
CP-SAT for small instances, simulated annealing on boundary flips and two-step chains
with a balance penalty, pair/chain repair moves for tight bands, and a CP-SAT
large-neighbourhood polish (2-3 adjacent territories, exact contiguity on their union).
``workers`` (default 2) independent searches run in forked processes with different
seeds and the best plan is kept (CP-SAT runs single-threaded inside each, or with
``interleave_search`` when the engine runs in this process with several workers).

Determinism: seeded everywhere; work is budgeted in annealing steps and CP-SAT
deterministic seconds (``work_limit``, default ``time_limit``), so the same inputs
and seed give the same plan unless the wall-clock limit stops the run first
(``report.stopped_by == "time"``).
"""

from __future__ import annotations

from gridplan._balance.adjacency import _link_islands as _link_islands
from gridplan._balance.adjacency import geometry_adjacency
from gridplan._balance.areas import group_into_areas
from gridplan._balance.arrays import balance_arrays
from gridplan._balance.config import BalanceConfig, Objective
from gridplan._balance.costs import _kmeans_labels as _kmeans_labels
from gridplan._balance.feasibility import ReachBound, reach_note, reach_round, reachable_bound
from gridplan._balance.graph import delaunay_edges
from gridplan._balance.grids import balance_grids
from gridplan._balance.pairing import PairingConfig, PairingResult, group_count, pair_marketing
from gridplan._balance.parts import territory_adjacency
from gridplan._balance.report import make_report
from gridplan._balance.results import BalanceReport, BalanceResult, TerritoryReport
from gridplan._balance.units import balance_units_table

# ``_link_islands`` (the CLI) and ``_kmeans_labels`` (the benchmarks) are re-exported too.
__all__ = [
    "BalanceConfig",
    "BalanceReport",
    "BalanceResult",
    "Objective",
    "PairingConfig",
    "PairingResult",
    "ReachBound",
    "TerritoryReport",
    "balance_arrays",
    "balance_grids",
    "balance_units_table",
    "delaunay_edges",
    "geometry_adjacency",
    "group_count",
    "group_into_areas",
    "make_report",
    "pair_marketing",
    "reach_note",
    "reach_round",
    "reachable_bound",
    "territory_adjacency",
]
