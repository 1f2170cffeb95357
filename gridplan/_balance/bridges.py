"""Start plans across a bridge: a part of the graph held by one edge (an island linked
to its nearest unit) whose weight is not a whole number of targets.

Exactly one territory can cross such an edge, and it must hold the island's remainder
(its weight minus the whole territories it holds). Region growing on the whole graph
does not know that and splits the island into whole territories that are all too light
(e.g. 5.76 targets into 6); repairing that later means moving most of a target across
the one edge. :func:`bridge_start` builds each side on its own with the crossing
territory's share fixed, so the start plan is already balanced across the bridge.
"""

from __future__ import annotations

import numpy as np

from gridplan._balance.search import spectral_construct

__all__ = ["bridge_start", "heavy_bridge"]


def _bridges_with_sides(adj: list[list[int]], w: list[int]) -> list[tuple[int, int, int, int]]:
    """Bridges ``(parent, child, weight, size)`` of a DFS tree of a connected graph, with
    the weight and node count of the child's side (iterative Tarjan)."""
    n = len(adj)
    if n == 0:
        return []
    disc = [-1] * n
    low = [0] * n
    sub_w = list(w)
    sub_n = [1] * n
    parent = [-1] * n
    out: list[tuple[int, int, int, int]] = []
    t = 0
    disc[0] = low[0] = t
    stack = [(0, 0)]
    while stack:
        u, k = stack[-1]
        if k < len(adj[u]):
            stack[-1] = (u, k + 1)
            v = adj[u][k]
            if disc[v] < 0:
                t += 1
                disc[v] = low[v] = t
                parent[v] = u
                stack.append((v, 0))
            elif v != parent[u]:
                low[u] = min(low[u], disc[v])
        else:
            stack.pop()
            p = parent[u]
            if p >= 0:
                low[p] = min(low[p], low[u])
                sub_w[p] += sub_w[u]
                sub_n[p] += sub_n[u]
                if low[u] > disc[p]:
                    out.append((p, u, sub_w[u], sub_n[u]))
    return out


def heavy_bridge(
    adj: list[list[int]], w: list[int], lo: list[int], hi: list[int]
) -> tuple[int, int, list[int]] | None:
    """The bridge ``(island end, mainland end, island nodes)`` whose smaller side is the
    heaviest among those that hold no whole number of territories within the bands and
    weigh at least half a target; ``None`` when there is none."""
    k = len(lo)
    total = sum(w)
    if k < 2 or total <= 0:
        return None
    lo_m, hi_m = sum(lo) / k, sum(hi) / k
    tbar = total / k
    best = None
    for p, c, wc, _nc in _bridges_with_sides(adj, w):
        small = min(wc, total - wc)
        if small < 0.5 * tbar:
            continue
        m = max(1, round(small / tbar))
        if m * lo_m <= small <= m * hi_m:
            continue  # the side can hold whole territories: no crossing needed
        if best is None or small > best[0]:
            best = (small, p, c, wc <= total - wc)
    if best is None:
        return None
    _small, p, c, child_small = best
    # the child's side: everything reachable from c without the edge (p, c)
    seen = {c}
    todo = [c]
    while todo:
        u = todo.pop()
        for v in adj[u]:
            if v not in seen and not (u == c and v == p):
                seen.add(v)
                todo.append(v)
    side = sorted(seen)
    if child_small:
        return c, p, side
    rest = sorted(set(range(len(adj))) - seen)
    return p, c, rest


def _sub_adj(adj: list[list[int]], nodes: list[int]) -> tuple[list[list[int]], dict[int, int]]:
    pos = {u: i for i, u in enumerate(nodes)}
    return [[pos[v] for v in adj[u] if v in pos] for u in nodes], pos


def _ball(
    adj: list[list[int]], w: list[int], start: int, goal: int, allowed: set[int]
) -> list[int]:
    """The breadth-first prefix from ``start`` (within ``allowed``) whose weight is
    closest to ``goal``: connected, round, around the bridge end."""
    order = [start]
    seen = {start}
    q = 0
    while q < len(order):
        u = order[q]
        q += 1
        for v in adj[u]:
            if v in allowed and v not in seen:
                seen.add(v)
                order.append(v)
    acc, best, cut = 0, None, 1
    for i, u in enumerate(order):
        acc += w[u]
        gap = abs(acc - goal)
        if best is None or gap < best:
            best, cut = gap, i + 1
        if acc > goal:
            break
    return order[:cut]


def _spectral_rest(
    adj: list[list[int]], w: list[int], nodes: list[int], ds: list[int], target: list[int],
    lab: list[int], rng: np.random.Generator, jitter: float,
) -> None:  # fmt: skip
    """Territories ``ds`` over ``nodes`` by recursive spectral bisection."""
    if not nodes or not ds:
        return
    sub, _pos = _sub_adj(adj, nodes)
    got = spectral_construct(sub, [w[u] for u in nodes], [target[d] for d in ds], rng,
                             jitter=jitter)  # fmt: skip
    for i, u in enumerate(nodes):
        lab[u] = ds[got[i]]


def bridge_start(
    adj: list[list[int]],
    w: list[int],
    target: list[int],
    bridge: tuple[int, int, list[int]],
    rng: np.random.Generator,
    *,
    jitter: float = 0.0,
) -> list[int]:
    """Labels built side by side across ``bridge`` (see the module docstring): the
    crossing territory is grown around both ends of the bridge (the island's remainder
    on the island side, the rest of its target on the mainland side), then each side's
    other nodes are cut into whole territories by spectral bisection."""
    n, k = len(adj), len(target)
    a_end, b_end, island = bridge
    in_a = set(island)
    mainland = [u for u in range(n) if u not in in_a]
    wa = sum(w[u] for u in island)
    # whole territories on the island (in order), then the crossing one
    acc, m = 0, 0
    while m < k - 1 and acc + target[m] <= wa:
        acc += target[m]
        m += 1
    share = wa - acc  # the crossing territory m's share of the island
    lab = [m] * n
    ball_a = set(_ball(adj, w, a_end, share, in_a))
    in_b = set(mainland)
    ball_b = set(_ball(adj, w, b_end, target[m] - share, in_b))
    rest_a = [u for u in island if u not in ball_a]
    rest_b = [u for u in mainland if u not in ball_b]
    _spectral_rest(adj, w, rest_a, list(range(m)), target, lab, rng, jitter)
    _spectral_rest(adj, w, rest_b, list(range(m + 1, k)), target, lab, rng, jitter)
    return lab
