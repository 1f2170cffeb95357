"""Interface strings in English and Chinese; the language is chosen in the sidebar
(default from the browser's locale, else ``GRIDPLAN_LANG``, else English)."""

from __future__ import annotations

import os

import streamlit as st

LANGS = {"en": "English", "zh": "中文"}

STRINGS: dict[str, tuple[str, str]] = {
    # pages
    "page.data": ("Data", "数据"),
    "page.grids": ("Grids", "网格"),
    "page.territories": ("Territories", "责任区"),
    "page.compare": ("Compare", "比较"),
    "page.export": ("Export", "导出"),
    "language": ("Language", "语言"),
    # workspace
    "ws.title": ("Workspace", "工作区"),
    "ws.plan_name": ("Plan name", "方案名称"),
    "ws.author": ("Your name", "您的姓名"),
    "ws.comment": ("Why (comment)", "原因（备注）"),
    "ws.save": ("Save version", "保存版本"),
    "ws.saved": (
        "Saved {plan} version {version}: {changes}",
        "已保存 {plan} 第 {version} 版：{changes}",
    ),
    "ws.open_select": ("Saved plans", "已保存的方案"),
    "ws.open": ("Open", "打开"),
    "ws.opened": ("Opened {plan} version {version}", "已打开 {plan} 第 {version} 版"),
    "ws.none": ("No saved plan yet", "尚无已保存的方案"),
    "ws.path": ("Workspace file: {path}", "工作区文件：{path}"),
    "undo": ("Undo", "撤销"),
    "redo": ("Redo", "重做"),
    "no_plan": (
        "No plan yet: run the partition on the Grids page or open a saved plan in the sidebar.",
        "尚无方案：请在“网格”页运行划分，或在侧栏打开已保存的方案。",
    ),
    # data page
    "data.title": ("gridplan · Data", "gridplan · 数据"),
    "data.source": ("Layers", "图层"),
    "data.demo": ("Demo city", "示例城市"),
    "data.upload": ("Upload layers", "上传图层"),
    "data.cells": ("Cells", "单元"),
    "data.population": ("Population", "人口"),
    "data.customers": ("Customers (synthetic)", "客户（合成）"),
    "data.districts": ("Districts", "行政区"),
    "data.validate": ("Load and validate", "加载并校验"),
    "data.report_ok": ("All layers are valid.", "所有图层均有效。"),
    "data.import": ("Import today's plan", "导入现行方案"),
    "data.import_help": (
        "A CSV with columns cell_id,manager or grid_id,manager, or territory polygons "
        "with a manager column: managers start from the current assignment.",
        "CSV 文件（列为 cell_id,manager 或 grid_id,manager）或带 manager 列的责任区多边形："
        "社区经理从现行分配开始。",
    ),
    "data.import_applied": (
        "Today's plan applied: {n} grids have a manager.",
        "已应用现行方案：{n} 个网格已有经理。",
    ),
    "data.import_pending": (
        "Today's plan is kept and applied after the partition.",
        "现行方案已保存，将在划分后应用。",
    ),
    # grids page
    "grids.title": ("gridplan · Grids", "gridplan · 网格"),
    "grids.rules": ("Rules", "规则"),
    "grids.floor_pop": ("Population floor (persons)", "人口下限（人）"),
    "grids.floor_cust": ("Customer floor", "客户数下限"),
    "grids.floor_spend": ("Spend floor (CNY/month)", "消费下限（元/月）"),
    "grids.max_pop": ("Population ceiling (persons, 0 = none)", "人口上限（人，0 = 不限）"),
    "grids.max_area": ("Area ceiling (km², 0 = none)", "面积上限（km²，0 = 不限）"),
    "grids.homog": ("Homogeneity in coverage (weight)", "覆盖均质性（权重）"),
    "grids.districts": ("Grids stay inside districts", "网格不跨行政区"),
    "grids.run": ("Run partition", "运行划分"),
    "grids.count": ("Grids", "网格数"),
    "grids.edit": ("Edit by hand", "手工编辑"),
    "grids.selected": ("Selected grids", "已选网格"),
    "grids.merge": ("Merge", "合并"),
    "grids.split": ("Split", "拆分"),
    "grids.lock": ("Lock", "锁定"),
    "grids.unlock": ("Unlock", "解锁"),
    "grids.rerun": ("Re-run partition on the selection", "对所选网格重新划分"),
    "grids.cells_sel": ("Select cells", "选择单元"),
    "grids.new_grid": ("Make a new grid", "新建网格"),
    "grids.move_into": ("Move into grid", "并入网格"),
    "grids.checks": ("Live checks", "实时检查"),
    "grids.all_ok": ("All rules hold.", "所有规则均满足。"),
    "repair": ("Repair", "修复"),
    "grids.colour": ("Colour by", "着色依据"),
    "grids.hours": ("Hours/month", "工时/月"),
    "grids.locked": ("Locked", "已锁定"),
    "grids.click_help": (
        "Click grids on the map to select them. Drawing a polygon needs the Leaflet.draw "
        "plugin, which is not installed locally (the app loads nothing from the internet): "
        "select cells with a rectangle of coordinates instead.",
        "点击地图上的网格即可选中。绘制多边形需要 Leaflet.draw 插件，本地未安装"
        "（应用不从互联网加载任何内容）：请改用经纬度矩形选择单元。",
    ),
    "grids.draw_help": (
        "Click grids on the map to select them, or draw a polygon or rectangle (tools at the "
        "top left) to select the cells inside it; then make them a grid or move them into a "
        "neighbouring grid.",
        "点击地图上的网格即可选中；或用左上角工具绘制多边形/矩形以选择其中的单元，然后新建网格或并入相邻网格。",
    ),
    "west": ("West", "西"),
    "east": ("East", "东"),
    "south": ("South", "南"),
    "north": ("North", "北"),
    "terr.managers": ("Managers", "经理人数"),
    "terr.max_dev": ("Max deviation", "最大偏差"),
    "terr.within": ("Within tolerance", "容差内"),
    "terr.locked": ("Locked grids", "已锁定网格"),
    "terr.lock_there": ("Lock it there", "锁定在该经理"),
    "terr.lock_grid": ("Lock grid", "锁定网格"),
    "terr.unlock_grid": ("Unlock grid", "解锁网格"),
    "terr.no_manager": (
        "No grid has a manager yet: set the team and press Balance.",
        "尚无网格分配经理：请设置团队并点击“均衡分配”。",
    ),
    # territories
    "terr.title": ("gridplan · Territories", "gridplan · 责任区"),
    "terr.team": ("Team", "团队"),
    "terr.headcount": ("Suggested headcount", "建议人数"),
    "terr.use_headcount": ("Use {n} managers", "使用 {n} 名经理"),
    "terr.tolerance": ("Tolerance (± % of target workload)", "容差（目标工作量的 ± %）"),
    "terr.time": ("Time limit (s)", "时间上限（秒）"),
    "terr.balance": ("Balance", "均衡分配"),
    "terr.rebalance": ("Re-balance with minimum disruption", "最小变动重新均衡"),
    "terr.grid": ("Grid", "网格"),
    "terr.manager": ("Manager", "经理"),
    "terr.reassign": ("Reassign", "重新分配"),
    "terr.involved": ("Workload of the managers involved", "相关经理的工作量"),
    "terr.workload": ("Workload per manager (h/month)", "各经理工作量（小时/月）"),
    "terr.areas": ("Areas", "区域"),
    "terr.home_for": ("Click the map to set the home base of", "点击地图设定驻地："),
    # compare / export
    "cmp.title": ("gridplan · Compare", "gridplan · 比较"),
    "cmp.left": ("Left", "左"),
    "cmp.right": ("Right", "右"),
    "cmp.current": ("current plan (unsaved edits)", "当前方案（未保存的修改）"),
    "cmp.moved": ("Moved grids", "变动的网格"),
    "cmp.audit": ("Audit trail", "审计记录"),
    "exp.title": ("gridplan · Export", "gridplan · 导出"),
    "exp.scope": ("Scope", "范围"),
    "exp.city": ("Whole city", "全市"),
    "exp.previous": ("Hand-over lists against a saved version", "对照已保存版本生成交接清单"),
    "exp.none": ("none", "无"),
    "exp.format": ("Format", "格式"),
    "exp.by": ("One file set per", "按此拆分文件"),
    "exp.whole": ("whole selection", "整个范围"),
    "exp.area": ("area", "区域"),
    "exp.manager": ("manager", "社区经理"),
    "exp.aggregates": ("Aggregates only (no customer rows)", "仅汇总数据（不含客户明细）"),
    "exp.min_count": ("Blank customer counts below", "隐藏低于此数的客户数"),
    "exp.prepare": ("Prepare export", "生成导出文件"),
    "exp.download": ("Download {name}", "下载 {name}"),
    "exp.teams": ("Prepare a zip per area team", "为每个区域团队生成压缩包"),
    "exp.quick": ("Quick tables", "快速表格"),
    "exp.grids_csv": ("Grids (CSV)", "网格（CSV）"),
    "exp.managers_csv": ("Managers (CSV)", "社区经理（CSV）"),
    "exp.customers_csv": ("Customers attributed (CSV)", "客户归属（CSV）"),
    "exp.written": ("{fmt} written", "已写出 {fmt}"),
}


def lang() -> str:
    """The session's language code."""
    code = st.session_state.get("lang")
    if code in LANGS:
        return code
    guess = os.environ.get("GRIDPLAN_LANG", "")
    try:
        locale = getattr(st.context, "locale", None) or ""
    except Exception:  # older Streamlit or no browser context (AppTest)
        locale = ""
    if str(locale).lower().startswith("zh"):
        guess = "zh"
    code = guess if guess in LANGS else "en"
    st.session_state["lang"] = code
    return code


def t(key: str, **kw: object) -> str:
    """The string ``key`` in the session's language, formatted with ``kw``."""
    pair = STRINGS.get(key)
    if pair is None:
        return key
    text = pair[1] if lang() == "zh" else pair[0]
    return text.format(**kw) if kw else text


def language_switch() -> None:
    """The language radio in the sidebar."""
    lang()  # sets the session default before the widget reads it
    st.sidebar.radio(
        "Language / 语言",
        list(LANGS),
        format_func=LANGS.get,
        horizontal=True,
        key="lang",
    )
