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
    "page.targets": ("Targets", "指标"),
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
    "ws.meanwhile": (
        "Saved as version {version}; meanwhile {others} saved version {latest} at {when} "
        "UTC. Compare the two on the Compare page before handing over.",
        "已保存为第 {version} 版；在此期间 {others} 于 {when}（UTC）保存了第 {latest} 版。"
        "移交前请在“比较”页对比这两个版本。",
    ),
    "ws.save_failed": (
        "The plan could not be saved: {reason}. Nothing was lost: the workspace keeps every "
        "version saved before, and your plan stays open here. Free disk space or check that "
        "the workspace folder is writable, then press Save again (or set GRIDPLAN_WORKSPACE "
        "to another file).",
        "方案未能保存：{reason}。没有丢失任何内容：工作区保留之前保存的所有版本，当前方案仍在此打开。"
        "请释放磁盘空间或检查工作区文件夹是否可写，然后再次点击保存（或将 GRIDPLAN_WORKSPACE "
        "设为另一个文件）。",
    ),
    "error.fix": ("Fix", "解决办法"),
    "ws.tidy": ("Name and tidy versions", "命名与整理版本"),
    "ws.tag_version": ("Version to name", "要命名的版本"),
    "ws.tag": ("Name (kept when tidying; empty removes it)", "名称（整理时保留；留空则删除名称）"),
    "ws.tag_save": ("Name this version", "命名此版本"),
    "ws.tagged": (
        "{plan} version {version} is named “{tag}”",
        "{plan} 第 {version} 版已命名为“{tag}”",
    ),
    "ws.keep_last": ("Keep the last N versions", "保留最近 N 个版本"),
    "ws.prune": ("Delete older unnamed versions", "删除更早的未命名版本"),
    "ws.pruned": (
        "Deleted {n} older versions of {plan}; the last {keep} and every named one are kept",
        "已删除 {plan} 的 {n} 个旧版本；保留最近 {keep} 个及所有已命名版本",
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
    # targets page
    "tgt.title": ("gridplan · Targets", "gridplan · 经营指标"),
    "tgt.enter": ("Targets and actuals", "指标与实际完成"),
    "tgt.help": (
        "One row per target: a city target (level city, unit empty) is shared out top-down "
        "to districts, areas, managers and grids by the key (grid figures, e.g. "
        "spend=0.6;customers=0.4); a target for a unit is kept and its parent's rest goes to "
        "its siblings. Kind: sum (2 decimals), count (whole numbers) or rate (copied down, "
        "e.g. 95%). Actuals: a CSV measure,level,unit,actual or measure,grid_id,actual or "
        "measure,customer_id,actual.",
        "每行一个指标：全市指标（层级 city，单位留空）按分配键（网格指标，如 "
        "spend=0.6;customers=0.4）自上而下分解到区县、区域、社区经理和网格；为某单位填写的指标保持不变，"
        "其上级的剩余部分分给同级其他单位。类型：sum（保留两位小数）、count（整数）或 rate（比率，"
        "向下复制，如 95%）。实际完成：CSV，列为 measure,level,unit,actual 或 "
        "measure,grid_id,actual 或 measure,customer_id,actual。",
    ),
    "tgt.table_name": ("the targets table", "指标表"),
    "tgt.actuals": ("Actuals (CSV or XLSX, optional)", "实际完成（CSV 或 XLSX，可选）"),
    "tgt.apply": ("Apply targets", "应用指标"),
    "tgt.applied": (
        "{n} targets applied; save a version (sidebar) to record who changed them and why",
        "已应用 {n} 条指标；请在侧栏保存版本，以记录修改人和原因",
    ),
    "tgt.none": (
        "No targets yet: enter them above and press Apply.",
        "尚无指标：请在上方填写并点击“应用指标”。",
    ),
    "tgt.level": ("Level", "层级"),
    "tgt.measure": ("Measure", "指标项"),
    "tgt.city_target": ("City target", "全市指标"),
    "tgt.city_actual": ("City actual", "全市实际完成"),
    "tgt.attainment": ("Attainment", "完成率"),
    "tgt.map_by": ("Grids coloured by their unit's {what}", "网格按所属单位的{what}着色"),
    "tgt.col.measure": ("Measure", "指标项"),
    "tgt.col.level": ("Level", "层级"),
    "tgt.col.unit": ("Unit", "单位"),
    "tgt.col.target": ("Target", "指标值"),
    "tgt.col.kind": ("Kind", "类型"),
    "tgt.col.key": ("Key", "分配键"),
    "tgt.col.given": ("Given", "填报值"),
    "tgt.col.actual": ("Actual", "实际完成"),
    "tgt.col.attainment": ("Attainment", "完成率"),
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
    "grids.expected": (
        "Expected with these floors: about {grids} grids of {cells} cells, {per} cells per "
        "grid (an estimate: per district, its total ÷ (floor + one mean cell) for every "
        "floor, the smallest; usually within ±10 % of the partition).",
        "按当前下限预计：约 {grids} 个网格（共 {cells} 个单元），每网格约 {per} 个单元"
        "（估算：每个行政区按各下限取 总量 ÷（下限 + 一个平均单元），取最小值；"
        "通常与实际划分相差 ±10 % 以内）。",
    ),
    "grids.suggest_res": (
        "Fewer than {target} cells per grid leaves the partition little to shape: H3 "
        "resolution {res} would give about {per} cells per grid (Data page), or lower the floors.",
        "每网格少于 {target} 个单元时划分几乎无法调整形状："
        "H3 分辨率 {res} 约可得每网格 {per} 个单元（在数据页设置），或降低下限。",
    ),
    "grids.suggest_res_cli": (
        "Fewer than {target} cells per grid leaves the partition little to shape: H3 "
        "resolution {res} would give about {per} cells per grid (the app offers 7–9: "
        "`gridplan cells --resolution {res}`), or lower the floors.",
        "每网格少于 {target} 个单元时划分几乎无法调整形状：H3 分辨率 {res} 约可得每网格 "
        "{per} 个单元（应用提供 7–9：请用 `gridplan cells --resolution {res}`），或降低下限。",
    ),
    "grids.suggest_finer": (
        "Fewer than {target} cells per grid leaves the partition little to shape: use smaller "
        "cells (Data page) or lower the floors.",
        "每网格少于 {target} 个单元时划分几乎无法调整形状：请使用更小的单元（数据页）或降低下限。",
    ),
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
    "checks.exceptions": (
        "Accepted exceptions to contiguity ({n})",
        "已接受的连通性例外（{n} 处）",
    ),
    "checks.exceptions_help": (
        "These detached pieces are accepted, not violations: an island has no land "
        "neighbour in its district it could join, so it joins the nearest grid; an empty "
        "sliver (nobody lives there) lies within a few metres of its grid.",
        "以下分离部分被接受，不算违规：岛屿在本区内没有可并入的陆地相邻单元，因此并入最近的网格；"
        "空碎片（无人居住）距其网格仅几米。",
    ),
    "checks.exc.grid": ("Grid / manager", "网格 / 经理"),
    "checks.exc.kind": ("Kind", "类型"),
    "checks.exc.cells": ("Cells", "单元"),
    "checks.exc.distance": ("Distance to the rest (m)", "距其余部分（米）"),
    "checks.kind.island": ("island", "岛屿"),
    "checks.kind.sliver": ("empty sliver", "空碎片"),
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
    "terr.max_moved": ("Max grids moved", "最多变动网格数"),
    "terr.max_moved_h": ("Max hours moved (h/month)", "最多变动工时（小时/月）"),
    "terr.max_moved_help": (
        "Re-balance only: at most this many grids / hours per month change manager (0 = no cap)",
        "仅用于重新均衡：最多有这么多网格 / 每月工时更换经理（0 = 不限）",
    ),
    "terr.grid": ("Grid", "网格"),
    "terr.manager": ("Manager", "经理"),
    "terr.reassign": ("Reassign", "重新分配"),
    "terr.involved": ("Workload of the managers involved", "相关经理的工作量"),
    "terr.workload": ("Workload per manager (h/month)", "各经理工作量（小时/月）"),
    "terr.areas": ("Areas", "区域"),
    "terr.roles": ("Headcount per role", "各岗位人数"),
    "terr.roles_help": (
        "By hours = hours / capacity; by ratio = the source's staffing ratio (1 per 50 group "
        "clients, 1 per 400 VIP individuals, about 5,000 customers per phone client manager, "
        "one area manager per area); the larger is recommended. Standards: "
        "data/visit_standards.yaml (figures marked as assumptions to be checked).",
        "按工时 = 工时 ÷ 工作容量；按配比 = 资料中的配置标准（每 50 个集团客户 1 名，每 400 个 VIP "
        "客户 1 名，电话客户经理约服务 5,000 个客户，每个区域 1 名区域经理）；取较大者。标准见 "
        "data/visit_standards.yaml（标为假设的数值需核实）。",
    ),
    "terr.roles_city": ("City, by role", "全市各岗位"),
    "terr.roles_units": ("City, districts and areas", "全市、各区县与各区域"),
    "role.cm": ("Community managers", "社区经理"),
    "role.group": ("Group client managers", "集团客户经理"),
    "role.vip": ("VIP / large client managers", "VIP/大客户经理"),
    "role.phone": ("Phone client managers", "电话客户经理"),
    "role.area": ("Area managers", "区域经理"),
    "org.city": ("City", "全市"),
    "org.area_level": ("Territories and areas inside each", "责任区与区域划分范围"),
    "org.area_level_help": (
        "Each unit of this level gets its own community managers (shared by its hours), "
        "their targets are its own hours, and no territory or area crosses it. Changing it "
        "clears the assignment: balance again.",
        "该层级的每个单元按工时配备自己的社区经理，目标按本单元工时计算，责任区与区域不跨单元。"
        "更改后需重新均衡。",
    ),
    "data.units": ("Organisation units (optional)", "组织单元（可选）"),
    "data.units_help": (
        "A table assigning districts to units (district, branch, sub_branch … columns, top → "
        "bottom) or one polygon layer with level, code, name, parent. Grids never cross the "
        "lowest unit; territories and areas are formed inside the level above it.",
        "区县对应单位的表（district、branch、sub_branch … 列，自上而下），或一个含 level、"
        "code、name、parent 字段的面图层。网格不跨最低一级单元；责任区与区域在其上一级内划分。",
    ),
    "data.demo_org": (
        "With the demo organisation (synthetic branches)",
        "使用演示组织（合成的分局）",
    ),
    "data.demo_org_help": (
        "A made-up operator organisation: branches of several districts, one sub-branch per "
        "district. Territories and areas are then formed inside each branch.",
        "虚构的运营商组织：每个分局含若干区县，每个区县一个支局。责任区与区域在各分局内划分。",
    ),
    "data.org_summary": ("Organisation: {levels}", "组织：{levels}"),
    "org.level": ("Level", "层级"),
    "org.teams": ("Area teams", "区域团队"),
    "org.rollup": ("Figures per organisation unit", "各组织单元汇总"),
    "org.staff": ("Area managers and other staff", "区域经理及其他人员"),
    "org.staff_help": (
        "Name the area managers (role area_manager, their area) and other staff; areas left "
        "without a named leader get a placeholder (AM01 …). With a marketing ratio, marketing "
        "managers each support that many community managers (± 1) of one area.",
        "填写区域经理（岗位 area_manager 及其区域）和其他人员；未指定的区域使用占位名"
        "（AM01 …）。设置营销配比后，每名营销经理支撑一个区域内相应数量（±1）的社区经理。",
    ),
    "org.marketing_ratio": (
        "Community managers per marketing manager (0 = none)",
        "每名营销经理支撑的社区经理数（0 = 不配）",
    ),
    "org.marketing_help": (
        "一主一辅: groups of this many community managers (± 1), contiguous, balanced on the "
        "group and VIP workload.",
        "一主一辅：每组相应数量（±1）的社区经理，地域相连，按集团与VIP工作量均衡。",
    ),
    "org.marketing": ("Marketing managers", "营销经理"),
    "org.apply_staff": ("Apply staff", "应用人员"),
    "org.col.code": ("Code", "编码"),
    "org.col.name": ("Name", "名称"),
    "org.col.parent": ("Parent", "上级"),
    "org.col.grids": ("Grids", "网格数"),
    "org.col.areas": ("Areas", "区域数"),
    "org.col.person": ("Person", "人员"),
    "org.col.unit": ("Unit", "单位"),
    "roles.col.role": ("Role", "岗位"),
    "roles.col.hours": ("Hours (h/month)", "工时（小时/月）"),
    "roles.col.capacity": ("Capacity (h/month)", "工作容量（小时/月）"),
    "roles.col.by_hours": ("By hours", "按工时"),
    "roles.col.units": ("Counted", "计数"),
    "roles.col.ratio_of": ("Ratio counts", "配比对象"),
    "roles.col.per_manager": ("Per manager", "每人配比"),
    "roles.col.by_ratio": ("By ratio", "按配比"),
    "roles.col.managers_by_hours": ("Managers by hours", "按工时人数"),
    "roles.col.managers_by_ratio": ("Managers by ratio", "按配比人数"),
    "roles.col.recommended": ("Recommended", "建议人数"),
    "roles.col.binds": ("Binding rule", "约束规则"),
    "roles.col.level": ("Level", "层级"),
    "roles.binds.hours": ("hours", "工时"),
    "roles.binds.ratio": ("ratio", "配比"),
    "roles.binds.both": ("both", "两者相同"),
    "roles.col.unit": ("Unit", "单位"),
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
    # data page: setup, layers, validation, cells
    "city.nyc": ("New York City", "纽约市"),
    "city.seoul": ("Seoul", "首尔"),
    "data.setup": ("City, cells and basemap", "城市、单元与底图"),
    "data.lattice": ("Base cells", "基础单元"),
    "data.lattice.h3": ("H3 hexagons", "H3 六边形"),
    "data.lattice.square": ("Squares", "正方形"),
    "data.lattice.polygons": ("Census small areas", "人口普查小区"),
    "data.h3res": ("H3 resolution", "H3 分辨率"),
    "data.h3res_help": (
        "Global H3 means: 7 ≈ 5.2 km², 8 ≈ 0.74 km², 9 ≈ 0.11 km² per hexagon; the area of "
        "the cells actually built is shown under the figures once they are built.",
        "H3 全球平均：7 ≈ 5.2 km²，8 ≈ 0.74 km²，9 ≈ 0.11 km²/六边形；"
        "生成后在统计数字下方显示实际单元的面积。",
    ),
    "data.cells_built_h3": (
        "{n} cells at H3 resolution {res}: mean {area} km² per cell as built (clipped edge "
        "cells included).",
        "H3 分辨率 {res} 共 {n} 个单元：实际平均每单元 {area} km²（含边界裁剪单元）。",
    ),
    "data.cells_built": (
        "{n} cells: mean {area} km² per cell as built (clipped edge cells included).",
        "共 {n} 个单元：实际平均每单元 {area} km²（含边界裁剪单元）。",
    ),
    "data.sq_size": ("Square size (m)", "正方形边长（米）"),
    "data.colour_by": ("Colour cells by", "单元着色依据"),
    "data.col.population": ("Population (persons)", "人口（人）"),
    "data.col.density": ("Density (persons/km²)", "人口密度（人/km²）"),
    "data.col.customers": ("Customers (synthetic)", "客户数（合成）"),
    "data.col.spend": ("Spend (CNY/month, synthetic)", "消费（元/月，合成）"),
    "data.col.coverage": ("Coverage score (synthetic sites)", "覆盖评分（合成站点）"),
    "data.basemap": ("Basemap", "底图"),
    "data.basemap.osm": ("OpenStreetMap (internet)", "OpenStreetMap（需联网）"),
    "data.basemap.none": ("None (boundaries only, offline)", "无（仅显示边界，离线）"),
    "data.basemap.internal": ("Internal tile server…", "内网瓦片服务器…"),
    "data.tile_url": ("Tile URL template", "瓦片 URL 模板"),
    "data.tile_url_help": (
        "Give a URL with {z}, {x} and {y}; no basemap until then.",
        "请填写包含 {z}、{x} 和 {y} 的 URL；填写之前不显示底图。",
    ),
    "data.building": ("Building cells…", "正在生成单元…"),
    "data.synthetic": (
        "Population is real; {layers} are **SYNTHETIC** (generated for the demo, "
        "not real sites or customers).",
        "人口为真实数据；{layers}为**合成**数据（为演示而生成，并非真实的站点或客户）。",
    ),
    "data.formats": (
        "Any format: GeoPackage, GeoJSON, Shapefile (.zip), KML, GeoParquet, FlatGeobuf, "
        "CSV/XLSX with lon/lat; at most {mb} MB per file.",
        "支持以下格式：GeoPackage、GeoJSON、Shapefile（.zip）、KML、GeoParquet、FlatGeobuf、"
        "含经纬度的 CSV/XLSX；每个文件不超过 {mb} MB。",
    ),
    "data.tiers": ("Customers per tier", "各等级客户数"),
    "data.tiers_caption": (
        "{n} customers; {derived} tiers derived from type and spend/handsets with {file}.",
        "共 {n} 个客户；其中 {derived} 个按客户类型和月消费/手机数由 {file} 推导等级。",
    ),
    "data.tiers_below": (
        "{n} {family} customers are below every {family} tier and counted as {below}.",
        "{n} 个{family}客户低于该类型的所有等级，按 {below} 计。",
    ),
    "data.tiers.segment": ("Tier", "等级"),
    "data.tiers.label": ("Name", "名称"),
    "data.tiers.customers": ("Customers", "客户数"),
    "data.assumptions": (
        "Assumptions not yet confirmed ({n}): figures of the tier file that are not in "
        "the source material",
        "尚未确认的假设（{n} 项）：分级文件中非来源材料给出的数值",
    ),
    "data.assumptions.key": ("Setting", "设置项"),
    "data.assumptions.text": ("Assumption", "假设"),
    "data.assumptions.line": ("Line", "行号"),
    "data.mapping": ("Customer columns", "客户字段对应"),
    "data.mapping_help": (
        "Some headers of the customer file are not recognised: choose the column of each "
        "field, then load again.",
        "客户文件的部分表头无法识别：请为每个字段选择对应的列，然后重新加载。",
    ),
    "data.mapping.none": ("(none)", "（无）"),
    "data.mapping_used": ("Columns used: {cols}", "使用的字段：{cols}"),
    "layer.boundary": ("Boundary", "城市边界"),
    "layer.districts": ("Districts", "行政区"),
    "layer.population": ("Population", "人口"),
    "layer.sites": ("Sites", "站点"),
    "layer.customers": ("Customers", "客户"),
    "layer.barriers": ("Barriers", "阻隔要素"),
    "layer.home_bases": ("Home bases", "驻地"),
    "data.sev.error": ("error", "错误"),
    "data.sev.warning": ("warning", "警告"),
    "data.report.severity": ("Severity", "严重程度"),
    "data.report.what": ("Problem", "问题"),
    "data.report.where": ("Where", "位置"),
    "data.report.fix": ("Fix", "修复方法"),
    "data.bad_csv": (
        "{name} is not a readable CSV ({exc}); save it as UTF-8 CSV",
        "{name} 不是可读取的 CSV 文件（{exc}）；请另存为 UTF-8 编码的 CSV",
    ),
    "data.too_big": (
        "{name}: above the upload limit of {mb} MB",
        "{name}：超过 {mb} MB 的上传上限",
    ),
    "data.partition_first": (
        "Run the partition first: territory polygons are matched to its grids.",
        "请先运行划分：责任片区多边形将与划分出的网格进行匹配。",
    ),
    # grids page: rules, progress, cell selection, table
    "grids.seed": ("Seed", "随机种子"),
    "grids.starting": ("starting…", "正在启动…"),
    "grids.partitioning": ("partitioning the cells…", "正在划分单元…"),
    "grids.n_grids": ("{n} grids", "{n} 个网格"),
    "grids.timing": (
        "Partition: {total} s ({engine} s in the engine)",
        "划分用时 {total} 秒（其中计算 {engine} 秒）",
    ),
    "grids.need_data": (
        "Open the Data page first to choose the city and its cells.",
        "请先打开“数据”页，选择城市及其单元。",
    ),
    "grids.split_one": ("select exactly one grid to split", "拆分时请只选择一个网格"),
    "grids.lonlat": ("(lon/lat, EPSG:4326)", "（经纬度，EPSG:4326）"),
    "grids.n_in_polygon": ("{n} cells in the drawn polygon", "所绘多边形内有 {n} 个单元"),
    "grids.n_in_rect": ("{n} cells in the rectangle", "矩形内有 {n} 个单元"),
    "grids.clear_draw": ("Clear the drawing (use the rectangle)", "清除绘制（改用矩形）"),
    "col.grid_id": ("Grid", "网格"),
    "col.district": ("District", "行政区"),
    "col.grid_type": ("Grid type", "网格类型"),
    "col.population": ("Population (persons)", "人口（人）"),
    "col.customers": ("Customers", "客户数"),
    "col.spend": ("Spend (CNY/month)", "消费（元/月）"),
    "col.area_km2": ("Area (km²)", "面积（km²）"),
    "col.coverage": ("Coverage (0–1)", "覆盖度（0–1）"),
    "col.hours_total": ("Community manager workload (h/month)", "社区经理工作量（小时/月）"),
    "col.n_cells": ("Cells", "单元数"),
    "col.manager": ("Manager", "社区经理"),
    "col.locked": ("Locked", "已锁定"),
    # territories page: team, balance, tables
    "terr.capacity": ("Capacity per manager (h/month)", "每名社区经理的工作容量（小时/月）"),
    "terr.headcount_help": (
        "{total} h/month at {cap} h each",
        "总工作量 {total} 小时/月，每人 {cap} 小时",
    ),
    "terr.team_size": ("Team size", "团队人数"),
    "terr.apply_team": ("Apply team changes", "应用团队修改"),
    "terr.balancing": ("balancing…", "正在均衡…"),
    "terr.bal_done": (
        "max deviation {dev}, grids moved {moved}",
        "最大偏差 {dev}，调整网格 {moved} 个",
    ),
    "terr.out_of_reach": (
        "±{tol} is out of reach for these grids: {why}. No plan can do better than ±{reach}.",
        "这些网格无法达到 ±{tol}：{why}。任何方案的偏差都不会低于 ±{reach}。",
    ),
    "terr.split_heavy": ("Split the {n} heaviest grids", "拆分最重的 {n} 个网格"),
    "terr.split_heavy_help": (
        "Re-partition the grids heavier than a target with a lower floor; every other grid "
        "stays as it is. Balance again afterwards.",
        "以更低的下限重新划分超过目标工作量的网格，其余网格不变；之后请重新均衡。",
    ),
    "terr.use_reachable": ("Use the reachable tolerance ±{reach}", "使用可达到的容差 ±{reach}"),
    "terr.split_done": (
        "Split {n} grid(s): {grids} grids now",
        "已拆分 {n} 个网格：现有 {grids} 个网格",
    ),
    "terr.grid_line": (
        "{gid}: {manager} · {hours} h/month · {state}",
        "{gid}：{manager} · {hours} 小时/月 · {state}",
    ),
    "terr.state_locked": ("locked", "已锁定"),
    "terr.state_free": ("free", "未锁定"),
    "terr.h_month": ("h/month", "小时/月"),
    "terr.col.capacity": ("Capacity (h/month)", "工作容量（小时/月）"),
    "terr.col.area": ("Area", "区域"),
    "terr.col.home_lon": ("Home lon", "驻地经度"),
    "terr.col.home_lat": ("Home lat", "驻地纬度"),
    "terr.col.hours": ("Workload (h/month)", "工作量（小时/月）"),
    "terr.col.target": ("Target (h/month)", "目标（小时/月）"),
    "terr.col.deviation": ("Deviation", "偏差"),
    "terr.col.n_grids": ("Grids", "网格数"),
    "terr.col.n_managers": ("Managers", "社区经理人数"),
    # compare page
    "cmp.need_version": (
        "Save at least one version (sidebar) to compare it with the current plan.",
        "请先（在侧栏）保存至少一个版本，才能与当前方案比较。",
    ),
    "cmp.max_dev": ("Max |deviation|", "最大偏差（绝对值）"),
    "cmp.std_hours": ("Std of hours (h/month)", "工作量标准差（小时/月）"),
    "cmp.min_hours": ("Min hours (h/month)", "最小工作量（小时/月）"),
    "cmp.max_hours": ("Max hours (h/month)", "最大工作量（小时/月）"),
    "cmp.from": ("From", "原社区经理"),
    "cmp.to": ("To", "新社区经理"),
    "cmp.figure": ("Figure", "指标"),
    "cmp.col.plan": ("Plan", "方案"),
    "cmp.col.version": ("Version", "版本"),
    "cmp.col.author": ("Author", "保存人"),
    "cmp.col.saved_at": ("Saved at", "保存时间"),
    "cmp.col.comment": ("Comment", "备注"),
    "cmp.col.changes": ("Changes", "变更"),
    "cmp.col.n_grids": ("Grids", "网格数"),
    "cmp.col.n_managers": ("Managers", "社区经理人数"),
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
