"""Grid type labels ("dense urban", "commercial", "rural" …) from a grid's figures.

A :class:`GridTypeRules` holds ordered :class:`GridTypeRule` s: the *first* rule of
``rules`` whose condition holds names the type; every rule of ``suffixes`` that
holds appends ``", <name>"`` (e.g. ``"rural, weak coverage"``); ``default`` names
a grid no rule matches.

A condition compares one figure of the grid with a value: ``field op value``.
Figures are the columns of the grids table (``population``, ``customers``,
``spend`` CNY/month, ``coverage`` score 0..1, ``area_km2``, ``sites``,
``cust_<segment>`` …) plus these derived ones:

- ``density``: persons per km² (``population / area_km2``);
- ``customers_per_km2``: customers per km²;
- ``spend_per_customer``: CNY per customer per month (``spend / customers``);
- ``customers_per_1000``: customers per 1,000 persons.

With ``relative=True`` the value is a multiple of the figure's median over all
grids (e.g. ``spend_per_customer >= 1.5 × median`` = "commercial"), so the rule
adapts to the city. A missing figure (no customers, no coverage layer) never
matches. Defaults (:data:`DEFAULT_GRID_TYPES`): density ≥ 15,000 persons/km² →
"dense urban"; spend per customer ≥ 1.5 × the median → "commercial"; density ≥
5,000 → "urban"; ≥ 500 → "suburban"; < 500 → "rural"; suffix "weak coverage" when
the mean coverage score is below 0.5.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gridplan.errors import InputError, Problem

_OPS: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
}

DERIVED_FIGURES: tuple[str, ...] = (
    "density",
    "customers_per_km2",
    "spend_per_customer",
    "customers_per_1000",
)


@dataclass(frozen=True)
class GridTypeRule:
    """``name`` applies when ``field op value`` holds (``value × median`` if ``relative``)."""

    name: str
    field: str
    op: str
    value: float
    relative: bool = False

    def __post_init__(self) -> None:
        if self.op not in _OPS:
            raise InputError(
                Problem(
                    f"unknown comparison {self.op!r} in grid type rule {self.name!r}",
                    "grid type rules",
                    f"use one of {', '.join(_OPS)}",
                )
            )


@dataclass(frozen=True)
class GridTypeRules:
    """Ordered rules (first match wins), suffix rules (all matches) and a default."""

    rules: tuple[GridTypeRule, ...] = (
        GridTypeRule("dense urban", "density", ">=", 15_000.0),
        GridTypeRule("commercial", "spend_per_customer", ">=", 1.5, relative=True),
        GridTypeRule("urban", "density", ">=", 5_000.0),
        GridTypeRule("suburban", "density", ">=", 500.0),
        GridTypeRule("rural", "density", "<", 500.0),
    )
    suffixes: tuple[GridTypeRule, ...] = (GridTypeRule("weak coverage", "coverage", "<", 0.5),)
    default: str = "mixed"


DEFAULT_GRID_TYPES = GridTypeRules()


def grid_figures(grids: pd.DataFrame) -> pd.DataFrame:
    """The grids' columns plus the derived figures (see the module docstring)."""
    out = pd.DataFrame(index=grids.index)
    for col in grids.columns:
        if col != "geometry" and pd.api.types.is_numeric_dtype(grids[col]):
            out[col] = grids[col].astype(float)

    def col(name: str) -> pd.Series:
        return out[name] if name in out else pd.Series(np.nan, index=grids.index)

    area = col("area_km2").where(col("area_km2") > 0)
    pop = col("population")
    cust = col("customers")
    out["density"] = pop / area
    out["customers_per_km2"] = cust / area
    out["spend_per_customer"] = col("spend") / cust.where(cust > 0)
    out["customers_per_1000"] = 1000.0 * cust / pop.where(pop > 0)
    return out


def classify_grids(grids: pd.DataFrame, rules: GridTypeRules = DEFAULT_GRID_TYPES) -> pd.Series:
    """Type label of every grid (a text Series aligned with ``grids``)."""
    figs = grid_figures(grids)
    unknown = sorted(
        {r.field for r in (*rules.rules, *rules.suffixes) if r.field not in figs.columns}
    )
    if unknown:
        raise InputError(
            Problem(
                f"grid type rules use unknown figures: {', '.join(unknown)}",
                "grid type rules",
                "use a column of the grids table or one of " + ", ".join(DERIVED_FIGURES),
            )
        )

    def holds(rule: GridTypeRule) -> np.ndarray:
        v = figs[rule.field].to_numpy(dtype=float)
        thr = rule.value
        if rule.relative:
            med = np.nanmedian(v) if np.any(np.isfinite(v)) else np.nan
            thr = rule.value * med
        with np.errstate(invalid="ignore"):
            return np.isfinite(v) & np.isfinite(thr) & _OPS[rule.op](v, thr)

    labels = np.full(len(grids), rules.default, dtype=object)
    unset = np.ones(len(grids), dtype=bool)
    for rule in rules.rules:
        hit = unset & holds(rule)
        labels[hit] = rule.name
        unset &= ~hit
    for rule in rules.suffixes:
        hit = holds(rule)
        labels[hit] = [f"{s}, {rule.name}" for s in labels[hit]]
    return pd.Series(labels, index=grids.index, name="grid_type", dtype=object)
