"""Private internals of :mod:`gridplan.partition` (import the façade instead).

- ``core``: :func:`~gridplan._partition.core.partition_arrays` and the execution of
  the component jobs (serial, process pool, waves); its phases live in ``checks``
  (input checks → ``Inputs``), ``components`` (free components, normalisation, one
  task each), ``islands`` (components below a floor), ``stats`` (region figures and
  notes) and ``results`` (``ArrayPartition``, ``IslandJoin``, ``FrozenMap``);
- ``solver``: the per-component search (``Solver`` and the job functions); its parts
  are ``task`` (inputs and budget), ``state`` (the arrays and region sums),
  ``construction`` (region growing), ``regions`` (more regions, ceiling repair),
  ``recombination`` (merge and split) and ``local_search`` (cell moves);
- ``grid_types``: grid type labels.
"""
