"""Inputs, budget and result of the per-component solver (see :mod:`gridplan._partition.solver`)."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

import numpy as np

#: Tolerance of every floor / ceiling comparison (values are fractions of the limit).
EPS = 1e-9
TWO_PI = 2.0 * math.pi


@dataclass(frozen=True)
class SolverParams:
    """Work budget of one component (counts, not seconds, so results are reproducible)."""

    constructions: int = 8
    keep_best: int = 1  # constructions carried into the region-count search
    lns_passes: int = 4
    lns_tries: int = 4  # randomised rebuilds of one union
    lns_max_regions: int = 9  # largest union of regions rebuilt at once
    lns_max_cells: int = 200  # and no more cells than this (rebuild cost grows fast)
    frontier_sample: int = 16  # frontier cells scored per growth step, at most
    # spare value (fraction of the floors) needed to try a union: on the demo cities
    # (H3 res 9) 1 in 600 rebuilds with 5-7.5 % succeeded, 1 in 90 with 10 %, 1 in 25 with 20 %
    lns_min_slack: float = 0.1
    lns_attempts: int = 1  # unions rebuilt per region and pass, at most
    ls_passes: int = 12  # first-improvement passes of the local search
    tabu_moves_per_cell: float = 0.5  # tabu-phase length, moves per cell
    tabu_max_moves: int = 20_000  # and at most this many
    tabu_sample: int = 8  # boundary cells sampled per tabu move
    second_round: bool = True  # region-count search again after the local search
    recombine_sweeps: int = 8  # merge-and-split sweeps over adjacent region pairs
    recombine_max_cells: int = 400  # larger pairs are left to the cell moves
    recombine_noise: float = 0.5  # randomness of the spanning trees


@dataclass
class ComponentTask:
    """One component's arrays in local indices (picklable; see the module docstring)."""

    index: int
    indptr: np.ndarray
    indices: np.ndarray
    floors: np.ndarray  # (m, f)
    ceilings: np.ndarray | None  # (m, c)
    homog: np.ndarray | None  # (m, h)
    x: np.ndarray | None
    y: np.ndarray | None
    area: np.ndarray
    max_diameter: float | None
    compactness_weight: float
    seed: int
    deadline: float  # time.monotonic() value
    params: SolverParams = field(default_factory=SolverParams)
    # may be split into parallel searches (a large share of the run; see core)
    portfolio: bool = True


@dataclass
class ComponentResult:
    """Labels ``0..p-1`` in local indices plus what happened."""

    index: int
    labels: np.ndarray
    p: int
    objective: float
    hit_deadline: bool
    timing: dict[str, float]
    construction_p: list[int]


@dataclass(frozen=True)
class _Grow:
    """Randomised knobs of one construction."""

    tau: float  # accepted overshoot when completing a region (fraction of the floor)
    jitter: float  # randomness of the seed order (in units of free neighbours)
    noise: float  # randomness of the growth choice
    dist_w: float  # weight of the distance to the region's centroid
    gain_w: float  # preference for cells that cover much of the remaining need
    homog_w: float  # weight of attribute similarity


def _grow_profiles(rng: random.Random, k: int) -> _Grow:
    if k == 0:
        return _Grow(tau=0.25, jitter=0.3, noise=0.2, dist_w=0.5, gain_w=0.3, homog_w=0.3)
    return _Grow(
        tau=rng.choice((0.05, 0.1, 0.2, 0.3, 0.5, 0.8)),
        jitter=rng.uniform(0.0, 1.5),
        noise=rng.uniform(0.0, 0.8),
        dist_w=rng.uniform(0.0, 1.0),
        gain_w=rng.uniform(-0.5, 1.0),
        homog_w=rng.uniform(0.0, 0.6),
    )
