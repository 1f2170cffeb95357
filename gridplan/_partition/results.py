"""Result types of the array partition (:func:`gridplan._partition.core.partition_arrays`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


class FrozenMap(dict):
    """A read-only dict that pickles (for process pools and Dask) and hashes."""

    def _read_only(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("this mapping is read-only")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _read_only
    __ior__ = _read_only

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(sorted(self.items(), key=repr)))

    def __reduce__(self) -> tuple:
        return (FrozenMap, (dict(self),))

    def __repr__(self) -> str:
        return f"FrozenMap({dict.__repr__(self)})"


@dataclass(frozen=True)
class IslandJoin:
    """A free component too small for any floor, joined to an existing region.

    ``cells`` are input cell indices, ``region`` the output label it joined,
    ``distance_m`` metres to that region (between the nearest cell centroids for an
    island, the polygon gap for a sliver; ``None`` when it joined an adjacent locked
    region or no coordinates were given), ``reason`` a sentence, ``kind`` the rule of
    :mod:`gridplan.cells.detached` it falls under: ``island`` (no land neighbour in
    its district), ``sliver`` (empty, near the grid) — both accepted exceptions to
    contiguity — or ``adjacent`` (it shares a boundary with the region: contiguous);
    ``population`` the persons in it (``None`` when not given).
    """

    cells: tuple[int, ...]
    region: int
    distance_m: float | None
    reason: str
    kind: str = "island"
    population: float | None = None

    @property
    def accepted_exception(self) -> bool:
        """The join leaves its region in pieces, as the shared rule allows."""
        return self.kind in ("island", "sliver")


@dataclass(frozen=True)
class ArrayPartition:
    """Result of :func:`partition_arrays`.

    - ``labels``: region of every cell, ``0..p-1`` (int64), numbered by each
      region's smallest cell index;
    - ``p``: number of regions;
    - ``objective``: ``heterogeneity + compactness_weight × compactness``;
    - ``heterogeneity``: weighted within-region sum of squared deviations of the
      homogeneity attributes from their region mean (0 without attributes);
    - ``compactness``: ``Σ_r n_r × kappa_r`` with ``kappa_r`` the region's
      normalised moment of inertia (1.0 for a disc; 0 without coordinates);
    - ``region_heterogeneity``, ``region_compactness`` (``kappa``),
      ``region_floor_sums`` ``(p, f)``, ``region_ceil_sums`` ``(p, c)``,
      ``meets_floors``, ``meets_ceilings``, ``contiguous``: per region;
    - ``island_joins``: the components joined under the island rule (with their
      kind; :attr:`exceptions` are those that leave a region in pieces);
    - ``locked_labels``: input locked label → output label;
    - ``notes``: sentences for the planner (island joins, regions that miss a
      floor or a ceiling and why, time limit reached …);
    - ``timing``: seconds per phase; ``hit_time_limit``: the time limit cut the
      search short (the result is valid but may differ between runs).
    """

    labels: np.ndarray
    p: int
    objective: float
    heterogeneity: float
    compactness: float
    region_heterogeneity: np.ndarray
    region_compactness: np.ndarray
    region_floor_sums: np.ndarray
    region_ceil_sums: np.ndarray
    meets_floors: np.ndarray
    meets_ceilings: np.ndarray
    contiguous: np.ndarray
    island_joins: tuple[IslandJoin, ...]
    locked_labels: FrozenMap
    notes: tuple[str, ...]
    timing: FrozenMap
    hit_time_limit: bool
    seed: int = 0
    construction_p: tuple[tuple[int, ...], ...] = field(default=())

    @property
    def exceptions(self) -> tuple[IslandJoin, ...]:
        """The accepted exceptions to contiguity: islands and empty slivers joined."""
        return tuple(j for j in self.island_joins if j.accepted_exception)


def empty_result(f: int, c: int, seed: int) -> ArrayPartition:
    """The result for zero cells (``f`` floors, ``c`` ceilings)."""
    return ArrayPartition(
        labels=np.zeros(0, dtype=np.int64),
        p=0,
        objective=0.0,
        heterogeneity=0.0,
        compactness=0.0,
        region_heterogeneity=np.zeros(0),
        region_compactness=np.zeros(0),
        region_floor_sums=np.zeros((0, f)),
        region_ceil_sums=np.zeros((0, c)),
        meets_floors=np.zeros(0, dtype=bool),
        meets_ceilings=np.zeros(0, dtype=bool),
        contiguous=np.zeros(0, dtype=bool),
        island_joins=(),
        locked_labels=FrozenMap({}),
        notes=(),
        timing=FrozenMap({"total_s": 0.0}),
        hit_time_limit=False,
        seed=int(seed),
    )
