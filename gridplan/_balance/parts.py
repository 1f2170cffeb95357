"""Shared helpers for problems split into independent parts: units (e.g. branches) and
their connected pieces, whole-number shares (largest remainder), induced subgraphs."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from gridplan._balance.inputs import _problem
from gridplan.graph import check_csr, components, csr_from_edges, edge_array

__all__ = ["Part", "apportion", "as_csr", "induced", "split_parts", "territory_adjacency"]


def as_csr(adjacency: Any, n: int, where: str) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric CSR ``(indptr, indices)`` of ``n`` nodes from ``(indptr, indices)``, an
    object with ``indptr``/``indices`` (an Adjacency) or undirected edges ``(m, 2)``."""
    try:
        if hasattr(adjacency, "indptr"):
            return check_csr(n, np.asarray(adjacency.indptr), np.asarray(adjacency.indices))
        if isinstance(adjacency, tuple) and len(adjacency) == 2:
            return check_csr(n, np.asarray(adjacency[0]), np.asarray(adjacency[1]))
        e = np.asarray(adjacency, dtype=np.int64).reshape(-1, 2)
        return csr_from_edges(n, e)
    except ValueError as exc:
        raise _problem(f"bad adjacency: {exc}", where, "pass (indptr, indices) or edges") from exc


def territory_adjacency(
    territory_labels: np.ndarray, adjacency: Any, n_territories: int
) -> tuple[np.ndarray, np.ndarray]:
    """CSR adjacency of the territories: two territories are neighbours when any of
    their units are (``territory_labels`` (n_units,) territory index per unit)."""
    lab = np.asarray(territory_labels, dtype=np.int64)
    T = int(n_territories)
    if lab.size and (lab.min() < 0 or lab.max() >= T):
        raise _problem("territory labels must be in 0..T-1", "territory_adjacency", "relabel")
    ip, ix = as_csr(adjacency, int(lab.size), "territory_adjacency")
    e = edge_array(ip, ix)
    te = np.stack([lab[e[:, 0]], lab[e[:, 1]]], axis=1) if e.size else np.zeros((0, 2), np.int64)
    return csr_from_edges(T, te[te[:, 0] != te[:, 1]])


def apportion(total: int, shares: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Split ``total`` into whole numbers proportional to ``shares`` (largest remainder),
    each within ``[lo_i, hi_i]`` (``lo`` wins when ``sum(lo) > total``; ``hi`` caps when
    ``sum(hi) < total``). Ties go to the earlier item (deterministic)."""
    s = np.asarray(shares, dtype=float)
    lo = np.asarray(lo, dtype=np.int64)
    hi = np.maximum(np.asarray(hi, dtype=np.int64), lo)
    total = int(min(max(total, int(lo.sum())), int(hi.sum())))
    if s.sum() <= 0:
        s = np.ones_like(s)
    out = lo.copy()
    while int(out.sum()) < total:
        room = out < hi
        quota = (total * s / s.sum()) - out  # what each still lacks of its exact share
        quota[~room] = -math.inf
        out[int(np.argmax(quota))] += 1
    return out


def induced(ip: np.ndarray, ix: np.ndarray, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CSR of the subgraph induced by ``nodes`` (sorted global indices), renumbered
    ``0..len(nodes)-1`` in their order."""
    n = ip.size - 1
    local = np.full(n, -1, dtype=np.int64)
    local[nodes] = np.arange(nodes.size)
    e = edge_array(ip, ix)
    if e.size:
        e = local[e]
        e = e[(e[:, 0] >= 0) & (e[:, 1] >= 0)]
    return csr_from_edges(int(nodes.size), e.reshape(-1, 2))


@dataclass(frozen=True)
class Part:
    """One connected piece of one unit: ``unit`` (its position in ``units``),
    ``nodes`` (sorted global indices), ``piece`` (0.. within the unit)."""

    unit: int
    nodes: np.ndarray
    piece: int


def split_parts(
    ip: np.ndarray, ix: np.ndarray, within: Any, n: int, where: str
) -> tuple[list[Any], list[Part], tuple[np.ndarray, np.ndarray]]:
    """The units (sorted distinct labels of ``within``; one unit when ``None``), the
    connected pieces of each (in unit order then by smallest node) and the adjacency
    without the edges between two units (a piece never spans two units)."""
    if within is None:
        unit_of = np.zeros(n, dtype=np.int64)
        units: list[Any] = [None]
    else:
        wa = np.asarray(within)
        if wa.shape != (n,):
            raise _problem(f"within must have {n} values", where, "pass one unit per territory")
        uniq, unit_of = np.unique(wa, return_inverse=True)
        units = [u.item() if hasattr(u, "item") else u for u in uniq]
        unit_of = unit_of.reshape(-1).astype(np.int64)
    e = edge_array(ip, ix)
    if e.size:
        e = e[unit_of[e[:, 0]] == unit_of[e[:, 1]]]
    sip, six = csr_from_edges(n, e.reshape(-1, 2))
    comp = components(sip, six)
    parts: list[Part] = []
    for u in range(len(units)):
        mine = unit_of == u
        for k, c in enumerate(np.unique(comp[mine])):  # ordered by smallest node
            parts.append(Part(u, np.flatnonzero(comp == c), k))
    return units, parts, (sip, six)
