"""Private internals of :mod:`gridplan.maps`; import the façade instead."""
