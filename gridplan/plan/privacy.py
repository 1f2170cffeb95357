"""Privacy switch for exports going to teams that must not receive personal data.

``PrivacySettings(aggregates_only=True)`` drops every customer-level row (the
customers layer and the attribution table); ``min_count=N`` blanks every count of
customers below ``N`` (but above 0) in the per-cell/grid/territory figures, and
the spend (CNY/month) of such rows, so that no single customer can be singled out.
Blanked values become missing (null in GIS files, empty in CSV/XLSX) and the row's
``suppressed`` column is true.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Columns whose values reveal the customers of a row when the count is small.
SPEND_COLUMNS: tuple[str, ...] = ("spend", "spend_cny")


@dataclass(frozen=True)
class PrivacySettings:
    """``aggregates_only``: no customer rows at all; ``min_count``: customer counts
    1..min_count-1 (and the matching spend) are blanked (0 = nothing blanked)."""

    aggregates_only: bool = False
    min_count: int = 0

    def __post_init__(self) -> None:
        if int(self.min_count) < 0:
            raise ValueError(f"min_count must be 0 or more, not {self.min_count}")

    @property
    def customer_rows(self) -> bool:
        """True when customer-level rows may be exported."""
        return not self.aggregates_only


NO_PRIVACY = PrivacySettings()


def count_columns(frame: pd.DataFrame) -> list[str]:
    """The customer-count columns of a figure table (``customers``, ``cust_<segment>``)."""
    return [c for c in frame.columns if c == "customers" or str(c).startswith("cust_")]


def suppress_small_counts(frame: pd.DataFrame, min_count: int) -> pd.DataFrame:
    """A copy with customer counts in ``1..min_count-1`` blanked (NaN), the spend of
    rows whose ``customers`` is blanked blanked too, and a ``suppressed`` column."""
    out = frame.copy()
    cols = count_columns(out)
    if min_count <= 1 or not cols:
        return out
    hit = np.zeros(len(out), dtype=bool)
    for col in cols:
        values = pd.to_numeric(out[col], errors="coerce")
        small = ((values > 0) & (values < min_count)).to_numpy()
        if small.any():
            out[col] = values.astype(float).mask(small)
            hit |= small
    if "customers" in out.columns:
        total = pd.to_numeric(frame["customers"], errors="coerce")
        few = ((total > 0) & (total < min_count)).to_numpy()
        for col in SPEND_COLUMNS:
            if col in out.columns:
                out[col] = pd.to_numeric(out[col], errors="coerce").astype(float).mask(few)
    out["suppressed"] = hit
    return out
