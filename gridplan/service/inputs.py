"""Reading request bodies: point batches and id lists, checked with the field and index
of the first bad entry (``points[17].lat``), as problems the caller can act on."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from gridplan.service.problems import ApiProblem

__all__ = ["MAX_BATCH", "Points", "check_lonlat", "parse_ids", "parse_points"]

#: Most points (or customer ids) in one request.
MAX_BATCH = 10_000
_POINTS_FIX = 'send a JSON list of points: [{"lon": 126.97, "lat": 37.56, "id": "wo-1"}, …]'
_IDS_FIX = 'send a JSON list of customer ids: ["C0001", "C0002", …]'


@dataclass(frozen=True)
class Points:
    """A checked batch: degrees (EPSG:4326) and the caller's ids (``None`` when none)."""

    lon: np.ndarray
    lat: np.ndarray
    ids: list[Any] | None


def _json(body: bytes, fix: str) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiProblem(
            400, f"the body is not JSON ({exc})", field="body", fix=fix, kind="bad-json"
        ) from None


def _batch(data: Any, key: str, fix: str, max_batch: int) -> list[Any]:
    """The list of a body (a bare list or ``{key: [...]}``), within the batch limit."""
    if isinstance(data, dict) and key in data:
        data = data[key]
    if not isinstance(data, list):
        raise ApiProblem(422, "the body is not a JSON list", field="body", fix=fix)
    if len(data) > max_batch:
        raise ApiProblem(
            413,
            f"{len(data):,} entries in one request; at most {max_batch:,} are answered",
            field="body",
            fix=f"split the batch into requests of {max_batch:,} or fewer",
            kind="batch-too-large",
        )
    if not data:
        raise ApiProblem(422, "the list is empty", field="body", fix=fix)
    return data


def _number(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ApiProblem(
            422,
            f"{field} is {json.dumps(value, ensure_ascii=False)[:40]}, not a number",
            field=field,
            fix="give lon and lat in degrees (EPSG:4326) as JSON numbers",
            kind="bad-coordinate",
        )
    return float(value)


def _point(item: Any, i: int) -> tuple[float, float, Any]:
    if isinstance(item, dict):
        if "lon" not in item or "lat" not in item:
            missing = "lon" if "lon" not in item else "lat"
            raise ApiProblem(
                422,
                f"point {i} has no {missing}",
                field=f"points[{i}].{missing}",
                fix=_POINTS_FIX,
                kind="bad-coordinate",
            )
        lon = _number(item["lon"], f"points[{i}].lon")
        return lon, _number(item["lat"], f"points[{i}].lat"), item.get("id")
    if isinstance(item, list) and len(item) == 2:
        return _number(item[0], f"points[{i}].lon"), _number(item[1], f"points[{i}].lat"), None
    raise ApiProblem(
        422,
        f"point {i} is neither {{lon, lat}} nor [lon, lat]",
        field=f"points[{i}]",
        fix=_POINTS_FIX,
        kind="bad-coordinate",
    )


def check_lonlat(lon: np.ndarray, lat: np.ndarray, prefix: str = "points") -> None:
    """Raise a 422 problem naming the first point (and field) that is NaN/infinite or
    out of range (lon -180..180, lat -90..90)."""
    for name, values, bound in (("lon", lon, 180.0), ("lat", lat, 90.0)):
        bad = ~(np.isfinite(values) & (np.abs(values) <= bound))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            field = f"{prefix}[{i}].{name}" if prefix else name
            v = float(values[i])
            what = "not a finite number" if not math.isfinite(v) else f"{v!r} out of range"
            raise ApiProblem(
                422,
                f"{field} is {what} ({int(bad.sum())} bad {name} value(s) in all)",
                field=field,
                fix=f"give {name} in degrees (EPSG:4326) between {-bound:g} and {bound:g}",
                kind="bad-coordinate",
            )


def _fast_points(items: list[Any]) -> Points | None:
    """The batch when every item is ``{lon, lat[, id]}``, or every item ``[lon, lat]``,
    with numbers (a few comprehensions); ``None`` when the items need the item-by-item
    check (which names the first bad one)."""
    kinds = {type(it) for it in items}
    if kinds == {dict}:
        lon = [it.get("lon") for it in items]
        lat = [it.get("lat") for it in items]
        ids = [it.get("id") for it in items]
    elif kinds == {list} and {len(it) for it in items} == {2}:
        lon = [it[0] for it in items]
        lat = [it[1] for it in items]
        ids = [None]
    else:
        return None
    if not {type(v) for v in lon} | {type(v) for v in lat} <= {float, int}:
        return None
    return Points(
        np.asarray(lon, dtype=float),
        np.asarray(lat, dtype=float),
        ids if any(i is not None for i in ids) else None,
    )


def parse_points(body: bytes, max_batch: int = MAX_BATCH) -> Points:
    """The points of a ``POST /v1/owner`` body, checked."""
    items = _batch(_json(body, _POINTS_FIX), "points", _POINTS_FIX, max_batch)
    points = _fast_points(items)
    if points is None:
        parsed = [_point(item, i) for i, item in enumerate(items)]
        ids = [p[2] for p in parsed]
        points = Points(
            np.fromiter((p[0] for p in parsed), float, len(parsed)),
            np.fromiter((p[1] for p in parsed), float, len(parsed)),
            ids if any(i is not None for i in ids) else None,
        )
    check_lonlat(points.lon, points.lat)
    return points


def parse_ids(body: bytes, max_batch: int = MAX_BATCH) -> list[str]:
    """The customer ids of a ``POST /v1/customers`` body (text or integers)."""
    items = _batch(_json(body, _IDS_FIX), "ids", _IDS_FIX, max_batch)
    out = []
    for i, item in enumerate(items):
        if isinstance(item, bool) or not isinstance(item, str | int):
            raise ApiProblem(
                422, f"ids[{i}] is not a text or integer id", field=f"ids[{i}]", fix=_IDS_FIX
            )
        out.append(str(item))
    return out
