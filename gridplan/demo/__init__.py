"""The bundled demo cities (real population) and the generator of their SYNTHETIC
cell sites and customers.
"""

from gridplan.demo.cities import (
    DATA_ENV,
    DEMO_CITIES,
    DemoCity,
    city_paths,
    data_dir,
    demo_city,
    demo_polygons,
    load_demo,
)

__all__ = [
    "DATA_ENV",
    "DEMO_CITIES",
    "DemoCity",
    "city_paths",
    "data_dir",
    "demo_city",
    "demo_polygons",
    "load_demo",
]
