"""The all-borders re-solve (:func:`gridplan._balance.cut.band_polish`) and its use by
the engine when there are too few territories for the pair polish (k = 2, 3)."""

from __future__ import annotations

import itertools
import json
import math
import os
from pathlib import Path

import numpy as np
import pytest

from gridplan._balance.cut import band_polish
from gridplan._balance.engine import EngineInput, optimise
from tests.conftest import lattice_edges, lattice_lists

from .test_balance_cut import cut, enumerate_best, feasible, ladder


def grid(rows: int, cols: int) -> tuple[list[list[int]], np.ndarray]:
    """rows x cols rook lattice, node r * cols + c: adjacency lists and edges."""
    return lattice_lists(rows, cols), lattice_edges(rows, cols)


def test_band_polish_wide_band_reaches_enumerated_optimum():
    adj, edges = ladder(5)
    w = [9, 1, 1, 1, 9, 8, 1, 1, 1, 8]
    k, lo, hi = 2, [19, 19], [21, 21]
    best = enumerate_best(adj, edges, w, k, lo, hi)
    worst = max(
        (
            (cut(edges, lab), lab)
            for rest in itertools.product(range(k), repeat=len(w) - 1)
            if feasible(adj, w, lab := [0, *rest], k, lo, hi)
        ),
        key=lambda t: t[0],
    )
    assert worst[0] > best[0]
    out, st = band_polish(adj, edges, w, lo, hi, worst[1], hops=10, dtime=20.0)
    assert st["improvements"] == 1
    assert feasible(adj, w, out, k, lo, hi)
    assert cut(edges, out) == best[0]


def test_band_polish_at_optimum_is_unchanged_and_proved():
    adj, edges = ladder(4)
    w = [1] * 8
    lo, hi = [4, 4], [4, 4]
    best = enumerate_best(adj, edges, w, 2, lo, hi)
    out, st = band_polish(adj, edges, w, lo, hi, best[1], hops=10, dtime=10.0)
    assert out == best[1]
    assert st["improvements"] == 0
    assert st["status"] in ("INFEASIBLE", "OPTIMAL")


def test_band_polish_moves_only_nodes_near_a_border_and_never_worse():
    rng = np.random.default_rng(3)
    adj, edges = grid(3, 4)
    w = rng.integers(1, 6, 12).tolist()
    k = 3
    total = sum(w)
    lo = [math.ceil(total / k * 0.8)] * k
    hi = [math.floor(total / k * 1.2)] * k
    plans = sorted(
        (cut(edges, lab), lab)
        for rest in itertools.product(range(k), repeat=11)
        if feasible(adj, w, lab := [0, *rest], k, lo, hi)
    )
    start = plans[-1][1]
    border = {i for i in range(12) if any(start[j] != start[i] for j in adj[i])}
    out, st = band_polish(adj, edges, w, lo, hi, start, hops=0, dtime=10.0)
    assert st["hops"] == 0 and st["free"] == len(border)
    assert feasible(adj, w, out, k, lo, hi)
    assert cut(edges, out) <= cut(edges, start)
    assert all(out[i] == start[i] for i in range(12) if i not in border)
    # with every node free it reaches the enumerated optimum
    out2, _ = band_polish(adj, edges, w, lo, hi, start, hops=10, dtime=20.0)
    assert feasible(adj, w, out2, k, lo, hi)
    assert cut(edges, out2) == plans[0][0]


def test_band_polish_keeps_locked_nodes():
    adj, edges = ladder(4)
    w = [1] * 8
    lo, hi = [4, 4], [4, 4]
    start = [0, 0, 1, 1, 1, 1, 0, 0]  # feasible, cut 4
    locked = [False] * 8
    locked[0] = True
    out, _ = band_polish(adj, edges, w, lo, hi, start, locked=locked, hops=10, dtime=10.0)
    assert out[0] == 0 and cut(edges, out) == 2 and feasible(adj, w, out, 2, lo, hi)


@pytest.mark.parametrize("k", [2, 3])
def test_engine_bisects_a_lattice_at_the_known_minimum(k: int):
    # 6 x 12 unit lattice into k equal territories: the minimum cuts are the k - 1
    # straight lines across the short side (6 edges each); too large for the whole
    # CP-SAT model, so the annealing and the border re-solves find it
    adj, edges = grid(6, 12)
    n = len(adj)
    size = n // k
    inp = EngineInput(
        adj=adj, edges=edges, weight=[1] * n, lo=[size] * k, hi=[size] * k,
        target=[size] * k, locked=[-1] * n,
    )  # fmt: skip
    res = optimise(inp, seed=0, time_limit=60.0, work_limit=1.0)
    assert res.violation == 0
    assert feasible(adj, [1] * n, res.labels, k, [size] * k, [size] * k)
    assert cut(edges, res.labels) == 6 * (k - 1)
    again = optimise(inp, seed=0, time_limit=60.0, work_limit=1.0)
    assert again.labels == res.labels  # deterministic under a work budget


def _shared_folder() -> Path:
    """``../shared/districting`` beside the checkout (or beside its worktree folder),
    or ``$GRIDPLAN_DISTRICTING``."""
    root = Path(__file__).resolve().parents[2]
    env = os.environ.get("GRIDPLAN_DISTRICTING")
    cands = [Path(env)] if env else []
    cands += [root.parent / "shared" / "districting", root.parents[1] / "shared" / "districting"]
    return next((c for c in cands if (c / "instances.json").exists()), cands[-1])


SHARED = _shared_folder()


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED / "instances.json").exists(), reason="no shared districting")
def test_shared_tract_instance_is_valid_and_near_the_best_published():
    import pandas as pd

    rec = next(r for r in json.loads((SHARED / "instances.json").read_text())
               if r["name"] == "UT_tract")  # fmt: skip
    units = pd.read_csv(SHARED / "UT_tract" / "units.csv")
    pos = {u: i for i, u in enumerate(units["unit_id"])}
    e = pd.read_csv(SHARED / "UT_tract" / "edges.csv")
    edges = np.array([(pos[a], pos[b]) for a, b in zip(e["a"], e["b"], strict=True)])
    n, k = len(units), int(rec["k"])
    adj: list[list[int]] = [[] for _ in range(n)]
    for a, b in edges.tolist():
        adj[a].append(b)
        adj[b].append(a)
    w = [int(p) for p in units["population"]]
    lo, hi = [int(rec["L"])] * k, [int(rec["U"])] * k
    inp = EngineInput(
        adj=adj, edges=edges, weight=w, lo=lo, hi=hi, target=[sum(w) // k] * k,
        locked=[-1] * n,
    )  # fmt: skip
    res = optimise(inp, seed=0, time_limit=300.0, work_limit=5.0)
    assert res.violation == 0
    assert feasible(adj, w, res.labels, k, lo, hi)
    assert cut(edges, res.labels) <= math.ceil(1.1 * rec["best_cut_edges"])
