"""`gridplan cells --customers crm.csv [--columns mapping.yaml]`: tiers derived from an
operator's own export, counts per tier printed, bad input in one error, nothing written."""

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from gridplan.cli.main import main
from tests.cli.test_cli import _tiny_city

ROWS = [  # id, type, spend (CNY/month), handsets
    ("C001", "VIP", 3000.01, None),
    ("C002", "VIP", 3000.0, None),
    ("C003", "VIP", 665.99, None),
    ("C004", "集团", 20000.0, 500),
    ("C005", "大客户", 10000.0, None),
    ("C006", "公众", 58.0, None),
]


def _crm(tmp_path, encoding="gb18030", headers=("客户编号", "月消费")):
    paths = _tiny_city(tmp_path)
    pts = gpd.GeoSeries([shapely.Point(580_500, 4_500_500)], crs=32618).to_crs(4326)
    df = pd.DataFrame(ROWS, columns=[headers[0], "客户类型", headers[1], "手机数"])
    df.insert(1, "经度", float(pts.x[0]))
    df.insert(2, "纬度", float(pts.y[0]))
    df.to_csv(paths["customers"], index=False, encoding=encoding)
    return paths


def _args(paths, out):
    given = [f"--{k}={v}" for k, v in paths.items()]
    return ["--quiet", "cells", *given, "--lattice", "square", "--size", "500", "--out", str(out)]


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8-sig", "utf-8"])
def test_cells_derives_tiers_and_prints_counts(tmp_path, capsys, encoding):
    paths = _crm(tmp_path, encoding)
    out = tmp_path / "cells.gpkg"
    assert main(_args(paths, out)) == 0, capsys.readouterr().err
    printed = capsys.readouterr().out
    assert "customers per tier: 6 customers, 6 tiers derived" in printed
    for line in ("vip_diamond  ", "vip_gold  ", "group_a  ", "large_silver  ", "public  "):
        assert line in printed
    assert "1 vip customers below every vip tier, counted as public" in printed
    assert "customer_id='客户编号'" in printed and "spend='月消费'" in printed
    cells = gpd.read_file(out, layer="cells")
    assert cells["customers"].sum() == 6
    assert cells["cust_public"].sum() == 2 and cells["cust_vip_gold"].sum() == 1
    assert cells["spend"].sum() == pytest.approx(sum(r[2] for r in ROWS))


def test_cells_with_a_mapping_file(tmp_path, capsys):
    paths = _crm(tmp_path, headers=("编号", "本月出账"))
    out = tmp_path / "cells.gpkg"
    assert main(_args(paths, out)) == 2
    assert "no customer_id column" in capsys.readouterr().err and not out.exists()
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("customers: {customer_id: 编号, spend: 本月出账}\n", encoding="utf-8")
    assert main([*_args(paths, out), "--columns", str(mapping)]) == 0
    assert "customer_id='编号'" in capsys.readouterr().out
    assert gpd.read_file(out, layer="cells")["cust_vip_diamond"].sum() == 1


def test_cells_bad_customers_one_error_nothing_written(tmp_path, capsys):
    paths = _crm(tmp_path)
    df = pd.read_csv(paths["customers"], encoding="gb18030", dtype=str)
    df.loc[0, "月消费"] = "三千"
    df.loc[1, "客户类型"] = "钻石"
    df.loc[3, "手机数"] = "-1"
    df.loc[4, "经度"] = None
    df.to_csv(paths["customers"], index=False, encoding="gb18030")
    out = tmp_path / "cells.gpkg"
    assert main(_args(paths, out)) == 2
    err = capsys.readouterr().err
    assert err.startswith("gridplan cells: 4 problems in the input")
    assert "customers.csv, row 2: spend is not a number ('三千')" in err
    assert "customers.csv, row 3: customer type that maps to nothing ('钻石')" in err
    assert "customers.csv, row 5: handsets is negative" in err
    assert "customers.csv, row 6: longitude/latitude missing" in err
    assert not out.exists()


def test_cells_with_own_tier_file(tmp_path, capsys):
    from gridplan.layers.tiers import DEFAULT_TIERS

    paths = _crm(tmp_path)
    tiers = tmp_path / "tiers.yaml"
    text = DEFAULT_TIERS.read_text(encoding="utf-8").replace(
        "vip_silver: {from: 666", "vip_silver: {from: 600"
    )
    tiers.write_text(text, encoding="utf-8")
    out = tmp_path / "cells.gpkg"
    assert main([*_args(paths, out), "--tiers", str(tiers)]) == 0
    printed = capsys.readouterr().out
    assert "vip_silver  " in printed and "below every vip tier" not in printed
