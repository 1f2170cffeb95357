"""The CSR adjacency: construction, symmetry, helpers and restrictions."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse
from hypothesis import given, settings
from hypothesis import strategies as st

from gridplan.graph import Adjacency


def path(n: int) -> Adjacency:
    return Adjacency.from_edges(n, np.column_stack([np.arange(n - 1), np.arange(1, n)]))


def test_from_edges_builds_symmetric_sorted_csr():
    adj = Adjacency.from_edges(4, [(2, 0), (0, 1), (1, 2), (2, 3)])
    assert adj.n == 4
    assert adj.n_edges == 4
    assert adj.neighbours(0).tolist() == [1, 2]
    assert adj.neighbours(2).tolist() == [0, 1, 3]
    assert adj.degree().tolist() == [2, 2, 3, 1]
    assert adj.edges().tolist() == [[0, 1], [0, 2], [1, 2], [2, 3]]
    assert adj.is_symmetric()
    dense = adj.to_scipy().toarray()
    assert (dense == dense.T).all()
    assert np.trace(dense) == 0


def test_duplicates_merge_and_flags_or():
    adj = Adjacency.from_edges(
        3, [(0, 1), (1, 0), (1, 2)], crosses_district=[True, False, False], cut_by_barrier=[0, 1, 0]
    )
    assert adj.n_edges == 2
    crosses, cut = adj.edge_flags()
    assert crosses.tolist() == [True, False]
    assert cut.tolist() == [True, False]
    assert adj.is_symmetric()


def test_self_loops_and_bad_indices_are_refused():
    with pytest.raises(ValueError, match="self loop"):
        Adjacency.from_edges(3, [(1, 1)])
    with pytest.raises(ValueError, match=r"0\.\.2"):
        Adjacency.from_edges(3, [(0, 3)])


def test_arrays_are_read_only():
    adj = path(3)
    with pytest.raises(ValueError):
        adj.indices[0] = 2


def test_components_and_empty():
    adj = Adjacency.from_edges(5, [(0, 1), (3, 4)])
    labels = adj.components()
    assert labels[0] == labels[1] and labels[3] == labels[4]
    assert len(set(labels.tolist())) == 3
    assert adj.n_components() == 3
    empty = Adjacency.empty(3)
    assert empty.n_edges == 0 and empty.n_components() == 3
    assert empty.edges().shape == (0, 2)


def test_restricted_keeps_symmetry_even_for_a_one_sided_mask():
    adj = path(4)  # 0-1-2-3
    mask = np.ones(len(adj.indices), dtype=bool)
    # drop only the entry 1 -> 2 (not 2 -> 1): the whole edge must go
    rows = adj.rows()
    mask[(rows == 1) & (adj.indices == 2)] = False
    sub = adj.restricted(mask)
    assert sub.is_symmetric()
    assert sub.edges().tolist() == [[0, 1], [2, 3]]
    assert sub.n_components() == 2


def test_without_district_crossings_and_barriers():
    adj = Adjacency.from_edges(
        4,
        [(0, 1), (1, 2), (2, 3)],
        crosses_district=[False, True, False],
        cut_by_barrier=[False, False, True],
    )
    assert adj.without_district_crossings().edges().tolist() == [[0, 1], [2, 3]]
    assert adj.without_barriers().edges().tolist() == [[0, 1], [1, 2]]
    both = adj.without_district_crossings().without_barriers()
    assert both.edges().tolist() == [[0, 1]]
    assert both.n == 4


def test_subgraph_renumbers():
    adj = path(5)
    sub, original = adj.subgraph(np.array([4, 2, 3]))
    assert original.tolist() == [2, 3, 4]
    assert sub.edges().tolist() == [[0, 1], [1, 2]]


def test_mirror_points_to_the_reverse_entry():
    adj = Adjacency.from_edges(5, [(0, 4), (1, 4), (2, 3), (0, 2)])
    mir = adj.mirror()
    rows = adj.rows()
    assert (adj.indices[mir] == rows).all()
    assert (rows[mir] == adj.indices).all()


@settings(max_examples=60, deadline=None)
@given(
    st.integers(2, 30).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.lists(
                st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(
                    lambda e: e[0] != e[1]
                ),
                max_size=80,
            ),
        )
    )
)
def test_from_edges_property(data):
    n, edges = data
    adj = Adjacency.from_edges(n, np.array(edges, dtype=np.int64).reshape(-1, 2))
    expected = sorted({(min(a, b), max(a, b)) for a, b in edges})
    assert [tuple(e) for e in adj.edges().tolist()] == expected
    assert adj.is_symmetric()
    m = adj.to_scipy()
    assert isinstance(m, scipy.sparse.csr_array)
    assert (m != m.T).nnz == 0
    assert m.diagonal().sum() == 0
    assert adj.degree().sum() == 2 * len(expected)
    # components agree with scipy on the same graph
    ref = scipy.sparse.csgraph.connected_components(m, directed=False)[0]
    assert adj.n_components() == ref


# ---------------------------------------------------------------- array kernel


def test_kernel_csr_round_trip_and_components():
    from gridplan import graph

    # two triangles joined by nothing, plus a duplicate edge and a self loop
    edges = np.array([[0, 1], [1, 2], [2, 0], [1, 0], [3, 4], [4, 5], [5, 3], [2, 2]])
    ip, ix = graph.csr_from_edges(6, edges)
    assert ip.tolist() == [0, 2, 4, 6, 8, 10, 12]
    assert graph.edge_array(ip, ix).tolist() == [[0, 1], [0, 2], [1, 2], [3, 4], [3, 5], [4, 5]]
    assert graph.csr_rows(ip).tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert graph.components(ip, ix).tolist() == [0, 0, 0, 1, 1, 1]
    mask = np.array([True, False, True, True, True, True])
    assert graph.components(ip, ix, mask).tolist() == [0, -1, 0, 1, 1, 1]
    assert graph.is_connected_subset(ip, ix, np.array([0, 1, 2]))
    assert not graph.is_connected_subset(ip, ix, np.array([0, 3]))
    assert not graph.is_connected_subset(ip, ix, np.array([], dtype=np.int64))
    # check_csr cleans a one-sided CSR into a symmetric one
    cip, cix = graph.check_csr(3, np.array([0, 1, 2, 2]), np.array([1, 2]))
    assert graph.edge_array(cip, cix).tolist() == [[0, 1], [1, 2]]
    with pytest.raises(ValueError):
        graph.check_csr(3, np.array([0, 1]), np.array([1]))
    with pytest.raises(ValueError):
        graph.csr_from_edges(2, np.array([[0, 2]]))


def test_kernel_agrees_with_adjacency_and_is_reexported_by_balance():
    from gridplan import graph
    from gridplan._balance import graph as balance_graph

    edges = np.array([[0, 1], [1, 2], [3, 4]])
    adj = Adjacency.from_edges(5, edges)
    ip, ix = graph.csr_from_edges(5, edges)
    assert np.array_equal(adj.indptr, ip) and np.array_equal(adj.indices, ix)
    assert np.array_equal(adj.edges(), graph.edge_array(ip, ix))
    assert np.array_equal(adj.components(), graph.components(ip, ix))
    for name in ("check_csr", "components", "csr_from_edges", "edge_array", "is_connected_subset"):
        assert getattr(balance_graph, name) is getattr(graph, name)
