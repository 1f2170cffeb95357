"""Private internals of :mod:`gridplan.partition`: the array core (``core``), the solver
(``solver``) and grid types (``grid_types``). Import the façade instead."""
