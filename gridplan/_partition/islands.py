"""The island rule of :func:`gridplan._partition.core.partition_arrays`: free
components whose totals stay below a floor join an adjacent locked region, else the
nearest region of their group (district), else the run fails with the reason."""

from __future__ import annotations

import numpy as np
import scipy.sparse

from gridplan._partition.checks import Inputs, _few, _fmt
from gridplan._partition.results import IslandJoin
from gridplan.errors import InfeasibleError

#: Island joins described one by one in the notes; the rest are summed up in one note.
MAX_ISLAND_NOTES = 8

#: One join before renumbering: (cells, region, centroid distance in metres or None, reason).
Join = tuple[np.ndarray, int, float | None, str]


def join_small_components(
    inp: Inputs,
    adj: scipy.sparse.csr_array,
    labels: np.ndarray,
    n_regions: int,
    locked_regions: set[int],
    small_comps: list[np.ndarray],
    area: np.ndarray,
) -> list[Join]:
    """Give every cell of ``small_comps`` a region (``labels`` updated in place).

    ``labels``: region of every solved or locked cell (-1 elsewhere), ``n_regions``
    regions; ``locked_regions``: the region ids of locked labels; ``area``: the
    normalised cell areas (centroid weights). Raises :class:`InfeasibleError`
    naming every component that can join nothing.
    """
    if not small_comps:
        return []
    gcodes = None
    if inp.group is not None:
        _, gcodes = np.unique(inp.group.astype(str), return_inverse=True)
    cent = _region_centroids(inp, labels, n_regions, area)
    region_group = np.full(n_regions, -1, dtype=np.int64)
    if gcodes is not None and n_regions > 0:
        idx = np.flatnonzero(labels >= 0)
        region_group[labels[idx]] = gcodes[idx]
    joins: list[Join] = []
    infeasible: list[str] = []
    for cells in small_comps:
        where, what = _describe(inp, cells)
        # 1) adjacent locked region
        nbr_lab = labels[adj[cells].indices]
        cand = nbr_lab[np.isin(nbr_lab, list(locked_regions))] if locked_regions else []
        if len(cand):
            vals, cnts = np.unique(cand, return_counts=True)
            r = int(vals[np.argmax(cnts)])
            labels[cells] = r
            joins.append(
                (cells, r, None, f"part of {where}: {what}; joined the adjacent locked grid")
            )
            continue
        # 2) nearest region of the group
        if inp.join_islands and n_regions > 0:
            if gcodes is not None:
                ok = np.flatnonzero(region_group == np.bincount(gcodes[cells]).argmax())
            else:
                ok = np.arange(n_regions)
            if len(ok):
                r, dist = _nearest(inp, cells, ok, cent, area)
                labels[cells] = r
                reason = (
                    f"island of {where}: {what}; joined the nearest grid"
                    + (f" ({dist:,.0f} m between centroids)" if dist is not None else "")
                    + " — that grid is not contiguous"
                )
                joins.append((cells, r, dist, reason))
                continue
        infeasible.append(f"{where}: {what}")
    if infeasible:
        _raise_infeasible(infeasible, inp.group is not None)
    return joins


def _region_centroids(
    inp: Inputs, labels: np.ndarray, n_regions: int, area: np.ndarray
) -> np.ndarray | None:
    """Area-weighted centroid ``(n_regions, 2)`` of every region (metres), or None
    without coordinates or regions."""
    xs, ys = inp.x, inp.y
    if xs is None or ys is None or n_regions == 0:
        return None
    region_cells = labels >= 0
    lab_r = labels[region_cells]
    w = area[region_cells]
    wsum = np.bincount(lab_r, w, minlength=n_regions)
    wsum = np.where(wsum > 0, wsum, 1.0)
    return np.column_stack(
        [
            np.bincount(lab_r, w * xs[region_cells], minlength=n_regions) / wsum,
            np.bincount(lab_r, w * ys[region_cells], minlength=n_regions) / wsum,
        ]
    )


def _describe(inp: Inputs, cells: np.ndarray) -> tuple[str, str]:
    """``(where, what)`` of a component below a floor: its cells and district, and
    every active floor its total misses."""
    fv, fmin = inp.floor_values, inp.floor_min
    active = np.flatnonzero(fmin > 0)
    tot = fv[cells].sum(axis=0)
    short = [
        (inp.floor_names[j], float(tot[j]), float(fmin[j]))
        for j in active
        if tot[j] < fmin[j] - 1e-9 * max(1.0, fmin[j])
    ]
    gname = None
    if inp.group is not None:
        vals, cnts = np.unique(inp.group[cells].astype(str), return_counts=True)
        gname = str(vals[np.argmax(cnts)])
    what = ", ".join(f"{nm} total {_fmt(t)} is below the floor {_fmt(m)}" for nm, t, m in short)
    where = f"{len(cells)} cell{'s' if len(cells) != 1 else ''} (cells {_few(cells)})" + (
        f" in district {gname}" if gname is not None else ""
    )
    return where, what


def _nearest(
    inp: Inputs, cells: np.ndarray, ok: np.ndarray, cent: np.ndarray | None, area: np.ndarray
) -> tuple[int, float | None]:
    """The region of ``ok`` whose centroid is nearest to the component's (area
    weighted) and the distance in metres; the first of ``ok`` without coordinates."""
    if cent is None:
        return int(ok[0]), None
    xs, ys = inp.x, inp.y
    assert xs is not None and ys is not None
    w = area[cells]
    ws = w.sum() if w.sum() > 0 else 1.0
    px = float((w * xs[cells]).sum() / ws)
    py = float((w * ys[cells]).sum() / ws)
    d = np.hypot(cent[ok, 0] - px, cent[ok, 1] - py)
    return int(ok[np.argmin(d)]), float(d.min())


def _raise_infeasible(infeasible: list[str], has_groups: bool) -> None:
    """Fail with every component that no grid can take, and the choices."""
    fixes = ["lower the floor"]
    if has_groups:
        fixes.append("allow crossing districts (respect_districts=False)")
    fixes.append("merge components (join the pieces or connect them across the barrier)")
    head = (
        "no grid can reach the floors in "
        + ("this part" if len(infeasible) == 1 else f"{len(infeasible)} parts")
        + " of the city"
    )
    raise InfeasibleError(head + ":\n  " + "\n  ".join(infeasible), suggestions=fixes)


def island_notes(island_joins: tuple[IslandJoin, ...]) -> list[str]:
    """Notes on the joins: the first :data:`MAX_ISLAND_NOTES` one by one, the rest summed."""
    notes = [f"grid {j.region}: {j.reason}" for j in island_joins[:MAX_ISLAND_NOTES]]
    if len(island_joins) > MAX_ISLAND_NOTES:
        rest = island_joins[MAX_ISLAND_NOTES:]
        n_cells = sum(len(j.cells) for j in rest)
        notes.append(
            f"{len(rest)} more pieces ({n_cells:,} cells) too small for the floors joined "
            "their nearest grid (each listed in the partition report under island joins)"
        )
    return notes
