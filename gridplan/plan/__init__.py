"""The plan: the model (cells, grids, managers, areas), the steps shared by the app,
the CLI and the batch (``steps``, ``pipeline``), live rules (``rules``), edits with
undo (``edits``), the versioned workspace (``workspace``), hand-over lists
(``handover``), slices per area/manager (``slices``), privacy and tables.
"""

from gridplan.plan.model import (
    HOURS,
    PLAN_LAYERS,
    Plan,
    areas,
    customer_attribution,
    load_plan,
    manager_table,
    manager_targets,
    plan_headcount,
    plan_summary,
    reassign,
    save_plan,
    territories,
)

__all__ = [
    "HOURS",
    "PLAN_LAYERS",
    "Plan",
    "areas",
    "customer_attribution",
    "load_plan",
    "manager_table",
    "manager_targets",
    "plan_headcount",
    "plan_summary",
    "reassign",
    "save_plan",
    "territories",
]
