"""The city's layers: read any format, validate (every problem at once), uploads and zip
guards, the layer model, customer segments and CRS helpers.

Modules: ``read`` (files → layers; :func:`read_table`, the one CSV/XLSX table reader;
:func:`read_polygon_cells`), ``validate`` (rules per layer kind), ``uploads`` (size,
traversal and bomb checks), ``model`` (:class:`Layers`), ``segments``, ``crs``,
``customers`` (CRM exports: en/zh headers, tiers derived; :func:`read_customers`),
``tiers`` (data/customer_tiers.yaml; :func:`load_tiers`) and ``organisation`` (the
operator's own units, three input forms; :func:`read_organisation`).
"""

from gridplan.layers.customers import CustomerLayer
from gridplan.layers.model import (
    LAYER_KINDS,
    Layers,
    Organisation,
)
from gridplan.layers.organisation import assign_units, read_organisation, units_layer
from gridplan.layers.read import (
    FORMATS,
    LAT_NAMES,
    LON_NAMES,
    LayerSource,
    Source,
    list_layers,
    load_layers,
    read_customers,
    read_layer,
    read_polygon_cells,
    read_table,
    to_wgs84,
)
from gridplan.layers.tiers import CustomerTiers, default_tiers, load_tiers

__all__ = [
    "FORMATS",
    "LAT_NAMES",
    "LAYER_KINDS",
    "LON_NAMES",
    "CustomerLayer",
    "CustomerTiers",
    "LayerSource",
    "Layers",
    "Organisation",
    "Source",
    "assign_units",
    "default_tiers",
    "list_layers",
    "load_layers",
    "load_tiers",
    "read_customers",
    "read_layer",
    "read_organisation",
    "read_polygon_cells",
    "read_table",
    "to_wgs84",
    "units_layer",
]
