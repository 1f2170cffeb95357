"""Private internals of :mod:`gridplan.balance`: the engine and its models. Import the
façade instead."""
