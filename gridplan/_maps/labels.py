"""Labels of columns and words shown on maps and in the map book, in English or Chinese."""

from __future__ import annotations

from typing import Literal

from gridplan.workload import HOURS

Language = Literal["en", "zh"]
LANGUAGES: tuple[str, ...] = ("en", "zh")

_LABELS: dict[str, tuple[str, str]] = {
    # columns (unit in brackets)
    "grid_id": ("Grid", "网格"),
    "cell_id": ("Cell", "单元"),
    "district": ("District", "行政区"),
    "grid_type": ("Type", "类型"),
    "manager": ("Manager", "社区经理"),
    "area": ("Area", "区域"),
    "population": ("Population", "人口"),
    "customers": ("Customers", "客户数"),
    "spend": ("Spend (CNY/month)", "消费 (元/月)"),
    "coverage": ("Coverage (0-1)", "覆盖 (0-1)"),
    "area_km2": ("Area (km²)", "面积 (km²)"),
    HOURS: ("Community manager workload (h/month)", "社区经理工作量 (小时/月)"),
    "hours": ("Workload (h/month)", "工作量 (小时/月)"),
    "target_h": ("Target (h/month)", "目标 (小时/月)"),
    "deviation": ("Deviation from target", "偏离目标"),
    "n_grids": ("Grids", "网格数"),
    "n_managers": ("Managers", "经理数"),
    "capacity_h": ("Capacity (h/month)", "能力 (小时/月)"),
    "site_id": ("Site", "基站"),
    "technology": ("Technology", "制式"),
    "segment": ("Segment", "客户类别"),
    "customer_id": ("Customer", "客户"),
    "count": ("Customers", "客户数"),
    "area_manager": ("Area manager", "区域经理"),
    "code": ("Code", "代码"),
    # words
    "cells": ("Cells", "单元"),
    "grids": ("Grids", "网格"),
    "territories": ("Territories", "责任区"),
    "areas": ("Areas", "区域"),
    "sites": ("Cell sites", "基站"),
    "customers_layer": ("Customers", "客户"),
    "districts": ("District boundaries", "行政区界"),
    "overview": ("Overview", "全市总览"),
    "plan": ("Plan", "方案"),
    "date": ("Date", "日期"),
    "handover": ("Hand-over", "交接清单"),
    "moves_in": ("In", "移入"),
    "moves_out": ("Out", "移出"),
    "from": ("From", "原经理"),
    "to": ("To", "新经理"),
    "suppressed": ("suppressed", "已隐藏"),
    "more_rows": ("more grids not listed", "个网格未列出"),
    "unassigned": ("unassigned", "未分配"),
    "no_area": ("no area", "无区域"),
    "outlines": ("Outlines", "边界"),
    "no_unit": ("no unit", "无单位"),
}


def label(key: str, language: str = "en") -> str:
    """The label of a column or word in ``language`` ("en" or "zh"); the key itself if unknown."""
    pair = _LABELS.get(key)
    if pair is None:
        if key.startswith("cust_"):
            return _segment_label(key[5:], language)
        return key
    return pair[1] if language == "zh" else pair[0]


def _segment_label(code: str, language: str) -> str:
    from gridplan.layers.segments import DEFAULT_SEGMENTS

    for s in DEFAULT_SEGMENTS:
        if s.code == code:
            return s.label_zh if language == "zh" else s.label_en
    return code


def check_language(language: str) -> str:
    """``language`` when supported, else ValueError naming the choices."""
    if language not in LANGUAGES:
        raise ValueError(f"language {language!r} is not one of {', '.join(LANGUAGES)}")
    return language
