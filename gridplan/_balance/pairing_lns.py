"""Large-neighbourhood polish of a pairing on a part too big for the exact model: a
few adjacent groups (by group adjacency, the worst-balanced first) are regrouped
exactly with the set-partitioning model of :mod:`gridplan._balance.pairing_columns`,
deviations measured against the whole part's mean; a regrouping is kept when the
part's score (max deviation, then sum of squares) improves. Stops when a whole round
finds nothing, at the deterministic budget (CP-SAT deterministic seconds) or at the
wall-clock ``deadline`` (a safety net). Deterministic for a seed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from gridplan._balance.pairing_columns import solve_columns
from gridplan._balance.pairing_search import better, canonical, score

__all__ = ["LnsStats", "polish"]


@dataclass
class LnsStats:
    """Neighbourhoods solved, regroupings kept, work (CP-SAT deterministic seconds plus
    the charge per neighbourhood), clock stop."""

    solved: int = 0
    kept: int = 0
    dtime: float = 0.0
    timed_out: bool = False
    too_big: bool = False  # the last neighbourhood had too many connected groups


def _group_graph(nbrs: list[list[int]], lab: np.ndarray, G: int) -> list[set[int]]:
    out: list[set[int]] = [set() for _ in range(G)]
    for u, nb in enumerate(nbrs):
        for v in nb:
            if lab[v] != lab[u]:
                out[lab[u]].add(int(lab[v]))
    return out


def _neighbourhood(seed: int, gg: list[set[int]], dev: np.ndarray, k: int) -> list[int]:
    """``seed`` and up to ``k - 1`` groups around it (breadth first, worst first)."""
    picked = [seed]
    frontier = [seed]
    while frontier and len(picked) < k:
        ring = sorted(
            {h for g in frontier for h in gg[g]} - set(picked), key=lambda h: (-dev[h], h)
        )
        ring = ring[: k - len(picked)]
        picked.extend(ring)
        frontier = ring
    return sorted(picked)


def polish(
    nbrs: list[list[int]], w: np.ndarray, wi: np.ndarray, lab: np.ndarray, lo: int, hi: int,
    *, seed: int, dtime: float, deadline: float, groups: int = 6, call_dtime: float = 0.5,
    hood_cost: float = 0.05, workers: int = 1, max_columns: int = 50_000,
) -> tuple[np.ndarray, LnsStats]:  # fmt: skip
    """Improve ``lab`` (a valid contiguous grouping of the part, (n,)) by exact
    regroupings of ``groups`` adjacent groups at a time; ``w`` the weights, ``wi`` their
    whole-number version for CP-SAT; ``dtime`` the work in reference seconds: CP-SAT
    deterministic seconds plus ``hood_cost`` per neighbourhood (listing its groups and
    building its model), ``call_dtime`` at most per neighbourhood."""
    lab = canonical(np.asarray(lab, dtype=np.int64))
    G = int(lab.max()) + 1
    W, Wi = float(w.sum()), int(wi.sum())
    st = LnsStats()
    done: set[tuple] = set()  # neighbourhoods already optimal as they stand
    rng = np.random.default_rng(seed)
    improved = True
    while improved and st.dtime < dtime:
        improved = False
        wt = np.bincount(lab, weights=w, minlength=G)
        dev = np.abs(wt - W / G)
        order = sorted(range(G), key=lambda g: (-dev[g], g))
        for g0 in order:
            if st.dtime >= dtime or time.monotonic() > deadline:
                st.timed_out = time.monotonic() > deadline
                return lab, st
            gg = _group_graph(nbrs, lab, G)
            hood = _neighbourhood(g0, gg, dev, groups)
            nodes = np.flatnonzero(np.isin(lab, hood))
            key = tuple(tuple(np.flatnonzero(lab == g).tolist()) for g in hood)
            if len(hood) < 2 or key in done:
                continue
            sub_seed = seed + int(rng.integers(1 << 30))
            left = min(call_dtime, dtime - st.dtime)
            new = _solve_hood(nbrs, wi, lab, nodes, hood, G, Wi, lo, hi, sub_seed, left,
                              deadline, workers, max_columns, hood_cost, st)  # fmt: skip
            if st.too_big:
                st.too_big = False
                groups -= 1
                if groups < 2:
                    return lab, st
                continue
            if new is None:
                done.add(key)
                continue
            cand = lab.copy()
            cand[nodes] = np.asarray(hood)[new]
            if better(_score(cand, w, G, lo, hi), _score(lab, w, G, lo, hi)):
                lab = canonical(cand)
                st.kept += 1
                improved = True
                wt = np.bincount(lab, weights=w, minlength=G)
                dev = np.abs(wt - W / G)
            else:
                done.add(key)
    return lab, st


def _score(lab, w, G, lo, hi):
    return score(np.bincount(lab, minlength=G), np.bincount(lab, weights=w, minlength=G), lo, hi,
                 float(w.sum()))  # fmt: skip


def _solve_hood(nbrs, wi, lab, nodes, hood, G, Wi, lo, hi, seed, dtime, deadline, workers,
                max_columns, hood_cost, st: LnsStats) -> np.ndarray | None:  # fmt: skip
    """Local group index (0..len(hood)-1) per node of the neighbourhood, or ``None``."""
    local = {int(u): k for k, u in enumerate(nodes)}
    sub = [[local[v] for v in nbrs[u] if v in local] for u in nodes.tolist()]
    outside = np.setdiff1d(np.arange(G), hood)
    wg = np.bincount(lab, weights=wi, minlength=G)
    other = int(np.abs(G * wg[outside] - Wi).max()) if outside.size else 0
    hint = canonical(np.searchsorted(np.asarray(hood), lab[nodes]))
    res = solve_columns(
        sub, wi[nodes], len(hood), lo, hi, hint=hint, seed=seed,
        time_limit=max(0.05, deadline - time.monotonic()), dtime=max(0.001, dtime),
        workers=workers, max_columns=max_columns, scale=G, total=Wi, other=other,
    )  # fmt: skip
    if res is None:  # too many connected groups to list: smaller neighbourhoods
        st.dtime += hood_cost
        st.too_big = True
        return None
    st.solved += 1
    st.dtime += res.dtime + hood_cost
    st.timed_out = st.timed_out or res.clock_stopped
    return res.labels  # local groups 0..len(hood)-1 (any order: relabelled after)
