"""The attribution service over HTTP: a real uvicorn server on localhost, httpx calls."""

from __future__ import annotations

import argparse
import json
import math
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from gridplan.errors import InputError
from gridplan.plan import customer_attribution, save_plan
from gridplan.plan.workspace import Workspace
from gridplan.service import Auth, PlanSource, Snapshot, load_keys
from tests import plans
from tests.service.conftest import KEY, serve

PROBLEM_KEYS = {"type", "title", "status", "detail"}


def lonlat(plan, points):
    """(lon, lat) arrays of work-CRS points."""
    geo = gpd.GeoSeries(list(points), crs=plan.crs).to_crs("EPSG:4326")
    return geo.x.to_numpy(), geo.y.to_numpy()


def assert_problem(resp, status, field=None):
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    body = resp.json()
    assert set(body) >= PROBLEM_KEYS and body["status"] == status
    assert "Traceback" not in resp.text
    if field is not None:
        assert body.get("field") == field, body
        assert body.get("fix")
    return body


def post_points(client, lon, lat, batch=10_000):
    """Every point's answer, in batches of ``batch``."""
    out = []
    for s in range(0, len(lon), batch):
        pts = [
            {"lon": float(x), "lat": float(y)}
            for x, y in zip(lon[s : s + batch], lat[s : s + batch], strict=True)
        ]
        r = client.post("/v1/owner", json=pts)
        assert r.status_code == 200, r.text
        out += r.json()["results"]
    return out


def assert_owners_match(plan, answers):
    """Each answer (one per customer, in order) names the customer's cell, grid,
    community manager and area of :func:`customer_attribution`; returns how many
    customers were compared (those attributed to a cell)."""
    att = customer_attribution(plan)
    got = pd.DataFrame(
        {
            "outside": [a["outside"] for a in answers],
            "cell_id": [a["cell_id"] for a in answers],
            "grid_id": [a["grid_id"] for a in answers],
            "manager": [
                ",".join(m["name"] for m in a["managers"] if m["role"] == "community_manager")
                for a in answers
            ],
            "area": [a["area"] or "" for a in answers],
        }
    )
    inside = (att["grid_id"] != "").to_numpy()
    assert not got["outside"][inside].any()
    want = att[inside].reset_index(drop=True)
    mine = got[inside].reset_index(drop=True)
    want = want.assign(cell_id=want["cell_id"].astype(str))
    cols = ["cell_id", "grid_id", "manager", "area"]
    diff = (mine[cols] != want[cols]).any(axis=1)
    assert not diff.any(), pd.concat([mine[diff], want[diff]], axis=1).head()
    return int(inside.sum())


# ------------------------------------------------------------------ lookups


def test_owner_of_every_customer_of_the_tiny_plan(tiny_gpkg, tiny_server):
    plan, _ = tiny_gpkg
    lon, lat = lonlat(plan, plan.customers.geometry)
    answers = post_points(tiny_server.client, lon, lat)
    assert assert_owners_match(plan, answers) == len(plan.customers)
    a = answers[0]
    assert set(a) >= {
        "index",
        "lon",
        "lat",
        "outside",
        "cell_id",
        "grid_id",
        "managers",
        "area",
        "units",
    }
    assert a["units"]["district"] in {"武侯区", plans.EVIL}
    one = tiny_server.client.get("/v1/owner", params={"lon": lon[3], "lat": lat[3]})
    assert one.status_code == 200
    assert {k: v for k, v in one.json().items() if k != "index"} == {
        k: v for k, v in answers[3].items() if k != "index"
    }


def test_batch_echoes_ids_and_takes_pairs(tiny_gpkg, tiny_server):
    plan, _ = tiny_gpkg
    lon, lat = lonlat(plan, plan.customers.geometry[:2])
    body = [{"lon": lon[0], "lat": lat[0], "id": "工单-1"}, [lon[1], lat[1]]]
    r = tiny_server.client.post("/v1/owner", json=body)
    out = r.json()
    assert out["count"] == 2 and out["outside"] == 0
    assert out["results"][0]["id"] == "工单-1" and "id" not in out["results"][1]
    assert out["plan"]["name"] == plan.name


def test_customers_by_id_match_the_attribution(tiny_gpkg, tiny_server):
    plan, _ = tiny_gpkg
    att = customer_attribution(plan)
    c = tiny_server.client
    r = c.post("/v1/customers", json=[*att["customer_id"], "nobody"])
    out = r.json()
    assert out["count"] == len(att) + 1 and out["unknown"] == 1 and out["results"][-1] is None
    for got, (_, row) in zip(out["results"], att.iterrows(), strict=False):
        assert got["customer_id"] == row["customer_id"] and got["attributed"]
        assert (got["grid_id"], got["managers"][0]["name"], got["area"]) == (
            row["grid_id"],
            row["manager"],
            row["area"],
        )
    one = c.get(f"/v1/customers/{att['customer_id'][5]}")
    assert one.json() == out["results"][5]
    assert_problem(c.get("/v1/customers/nobody"), 404, "customer_id")


def test_grid_figures_plan_meta_and_health(tiny_gpkg, tiny_server):
    plan, _ = tiny_gpkg
    c = tiny_server.client
    g = c.get("/v1/grids/G3").json()
    assert g["grid_id"] == "G3" and g["managers"] == [{"role": "community_manager", "name": "李四"}]
    row = plan.grids.set_index("grid_id").loc["G3"]
    assert g["figures"]["hours_total"] == row["hours_total"]
    assert math.isclose(g["figures"]["population"], row["population"])
    assert_problem(c.get("/v1/grids/G99"), 404, "grid_id")
    meta = c.get("/v1/plan").json()
    assert meta["name"] == plan.name and meta["grids"] == 6 and meta["source"] == "file"
    assert meta["saved_at"]
    health = c.get("/v1/health", headers={"X-API-Key": ""})
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert plan.name not in health.text  # the name and data need a key


def test_outside_points_answer_the_nearest_grid_in_metres(tiny_gpkg, tiny_server):
    plan, _ = tiny_gpkg
    west = Point(plans.X0 - 500, plans.Y0 + 500)  # 500 m west of G1's cell c00
    north_east = Point(plans.X0 + 6000 + 300, plans.Y0 + 4000 + 400)  # 500 m off G6's corner
    lon, lat = lonlat(plan, [west, north_east])
    out = tiny_server.client.post("/v1/owner", json=[[lon[0], lat[0]], [lon[1], lat[1]]]).json()
    assert out["outside"] == 2
    first, second = out["results"]
    assert first["outside"] and first["grid_id"] is None and first["managers"] == []
    assert first["nearest"]["grid_id"] == "G1"
    assert first["nearest"]["managers"][0]["name"] == "张三"
    assert abs(first["nearest"]["distance_m"] - 500) < 5  # UTM scale and the ellipsoid
    assert second["nearest"]["grid_id"] == "G6" and abs(second["nearest"]["distance_m"] - 500) < 5
    one = tiny_server.client.get("/v1/owner", params={"lon": lon[0], "lat": lat[0]}).json()
    assert one["outside"] and one["nearest"]["grid_id"] == "G1"


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"lon": "abc", "lat": "30"}, "lon"),
        ({"lon": "104", "lat": "nan"}, "lat"),
        ({"lon": "200", "lat": "30"}, "lon"),
        ({"lon": "104", "lat": "-91"}, "lat"),
        ({"lon": "104"}, "lat"),
    ],
)
def test_bad_coordinates_in_the_query(tiny_server, params, field):
    assert_problem(tiny_server.client.get("/v1/owner", params=params), 422, field)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('[{"lon": 104, "lat": 30}, {"lon": "x", "lat": 30}]', "points[1].lon"),
        ('[{"lon": 104, "lat": 30}, {"lon": 104, "lat": NaN}]', "points[1].lat"),
        ("[[104, 30], [104, 30], [181, 30]]", "points[2].lon"),
        ('[{"lon": 104, "lat": 30}, {"lon": 104}]', "points[1].lat"),
        ('[{"lon": true, "lat": 30}]', "points[0].lon"),
        ('[{"lon": 104, "lat": 30}, [1, 2, 3]]', "points[1]"),
        ('{"lon": 104, "lat": 30}', "body"),
        ("[]", "body"),
    ],
)
def test_bad_coordinates_in_a_batch(tiny_server, body, field):
    r = tiny_server.client.post(
        "/v1/owner", content=body, headers={"Content-Type": "application/json"}
    )
    assert_problem(r, 422, field)


def test_not_json_is_a_problem(tiny_server):
    r = tiny_server.client.post(
        "/v1/owner", content=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert_problem(r, 400, "body")


def test_oversized_batches_and_bodies_are_refused(tiny_server):
    c = tiny_server.client
    body = assert_problem(c.post("/v1/owner", json=[[104.0, 30.6]] * 10_001), 413, "body")
    assert "10,000" in body["detail"] and "split" in body["fix"]
    assert_problem(c.post("/v1/customers", json=["x"] * 10_001), 413, "body")
    big = b"[" + b"[104.0000000000, 30.60000000000]," * 80_000 + b"[104, 30]]"  # ~2.6 MB
    assert_problem(c.post("/v1/owner", content=big), 413, "body")
    ok = c.post("/v1/owner", json=[[104.0, 30.6]] * 10_000)
    assert ok.status_code == 200 and ok.json()["count"] == 10_000


def test_unknown_routes_methods_and_failures_are_problems(tiny_gpkg, tiny_server):
    c = tiny_server.client
    assert_problem(c.get("/v1/nothing"), 404)
    assert_problem(c.delete("/v1/owner"), 405)
    assert_problem(c.put("/v1/grids/G1", json={}), 405)

    class Broken:
        def locate(self, lon, lat):
            raise RuntimeError("secret internals /etc/passwd")

    source = PlanSource(tiny_gpkg[1], check_every_s=3600)
    source._snapshot = Snapshot(Broken(), {"name": "x"})  # type: ignore[arg-type]
    for running in serve(source):
        r = running.client.get("/v1/owner", params={"lon": 104, "lat": 30})
        body = assert_problem(r, 500)
        assert "secret" not in r.text and "RuntimeError" not in r.text
        assert body["fix"]


# ------------------------------------------------------------------ keys


def test_missing_and_wrong_keys(tiny_server):
    url = tiny_server.url
    import httpx

    r = httpx.get(f"{url}/v1/owner", params={"lon": 104, "lat": 30})
    assert_problem(r, 401, "X-API-Key")
    r = httpx.get(f"{url}/v1/plan", headers={"X-API-Key": "wrong-key-0123456789"})
    assert_problem(r, 403, "X-API-Key")
    r = httpx.post(f"{url}/v1/customers", json=["a"], headers={"X-API-Key": KEY + "x"})
    assert_problem(r, 403, "X-API-Key")
    assert httpx.get(f"{url}/v1/plan", headers={"X-API-Key": KEY}).status_code == 200


def test_keys_from_env_and_file(tmp_path):
    f = tmp_path / "keys.txt"
    f.write_text("# team keys\nfile-key-0123456789abc\n\n", encoding="utf-8")
    env = {"GRIDPLAN_API_KEYS": "env-key-0123456789abc, env-key-2-0123456789"}
    assert load_keys(f, env) == {
        "file-key-0123456789abc",
        "env-key-0123456789abc",
        "env-key-2-0123456789",
    }
    with pytest.raises(InputError, match="shorter"):
        load_keys(None, {"GRIDPLAN_API_KEYS": "short"})


def test_no_auth_is_refused_off_loopback(tiny_gpkg):
    from gridplan.cli.serve import add_parser, run

    for host in ("0.0.0.0", "192.168.1.5", "::", "example.org"):
        with pytest.raises(InputError, match="--no-auth"):
            Auth.build(frozenset(), no_auth=True, host=host)
    with pytest.raises(InputError, match="no API key"):
        Auth.build(frozenset(), no_auth=False, host="127.0.0.1")
    for host in ("127.0.0.1", "::1", "localhost"):
        assert not Auth.build(frozenset(), no_auth=True, host=host).required
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        ["serve", "--plan", str(tiny_gpkg[1]), "--no-auth", "--host", "0.0.0.0"]
    )
    with pytest.raises(InputError, match="--no-auth"):
        run(args)


def test_no_auth_on_loopback_needs_no_key(tiny_gpkg):
    import httpx

    source = PlanSource(tiny_gpkg[1], check_every_s=3600)
    for running in serve(source, Auth(required=False)):
        assert httpx.get(f"{running.url}/v1/plan").status_code == 200


# ------------------------------------------------------------------ versions, docs


def test_a_new_workspace_version_is_served_without_restart(tmp_path):
    plan = plans.tiny_plan()
    ws = Workspace(tmp_path / "ws.sqlite")
    ws.save(plan, name="成都", author="李", comment="first")
    source = PlanSource(workspace=ws.path, name="成都", check_every_s=0.1)
    x, y = lonlat(plan, [Point(plans.X0 + 2500, plans.Y0 + 500)])  # in G2
    for running in serve(source):
        c = running.client
        meta = c.get("/v1/plan").json()
        assert (meta["version"], meta["saved_by"], meta["source"]) == (1, "李", "workspace")
        r = c.get("/v1/owner", params={"lon": x[0], "lat": y[0]})
        assert r.headers["X-Plan-Version"] == "1" and r.json()["managers"][0]["name"] == "张三"
        ws.save(plans.rebalanced(plan), name="成都", author="王", comment="G2 to 李四")
        deadline = time.monotonic() + 15
        while c.get("/v1/plan").json()["version"] != 2:
            assert time.monotonic() < deadline, "version 2 was not picked up"
            time.sleep(0.05)
        r = c.get("/v1/owner", params={"lon": x[0], "lat": y[0]})
        assert r.headers["X-Plan-Version"] == "2" and r.json()["managers"][0]["name"] == "李四"
        assert c.get("/v1/plan").json()["saved_by"] == "王"


def test_docs_load_with_no_external_url(tiny_server):
    c = tiny_server.client
    page = c.get("/docs")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "http://" not in page.text and "https://" not in page.text and "//cdn" not in page.text
    for asset in ("/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css"):
        assert asset in page.text
        assert c.get(asset).status_code == 200
    spec = c.get("/docs/openapi.json").json()
    assert spec["openapi"].startswith("3.0")
    assert {"/v1/owner", "/v1/customers/{customer_id}", "/v1/grids/{grid_id}", "/v1/plan"} <= set(
        spec["paths"]
    )
    assert "X-API-Key" in json.dumps(spec["components"]["securitySchemes"])
    assert set(spec["paths"]["/v1/owner"]) == {"get", "post"}


# ------------------------------------------------------------------ the demo city


def test_owner_of_every_customer_of_the_seoul_demo(tmp_path):
    plan, _ = plans.seoul_plan()
    path = tmp_path / "seoul.gpkg"
    save_plan(plan, path)
    for running in serve(PlanSource(path, check_every_s=3600)):
        lon, lat = lonlat(plan, plan.customers.geometry)
        answers = post_points(running.client, lon, lat)
        matched = assert_owners_match(plan, answers)
        assert matched >= 0.99 * len(plan.customers)
        att = customer_attribution(plan)
        none = np.flatnonzero((att["grid_id"] == "").to_numpy())
        assert all(answers[i]["outside"] for i in none)


def test_a_plan_file_saved_again_is_served_without_restart(tmp_path):
    plan = plans.tiny_plan()
    path = tmp_path / "plan.gpkg"
    save_plan(plan, path)
    x, y = lonlat(plan, [Point(plans.X0 + 2500, plans.Y0 + 500)])  # in G2
    for running in serve(PlanSource(path, check_every_s=0.1)):
        c = running.client
        owner = c.get("/v1/owner", params={"lon": x[0], "lat": y[0]}).json()
        assert owner["managers"][0]["name"] == "张三"
        loaded = c.get("/v1/plan").json()["loaded_at"]
        save_plan(plans.rebalanced(plan), path)  # atomic replace: a new file in place
        deadline = time.monotonic() + 15
        while (
            c.get("/v1/owner", params={"lon": x[0], "lat": y[0]}).json()["managers"][0]["name"]
            != "李四"
        ):
            assert time.monotonic() < deadline, "the new file was not picked up"
            time.sleep(0.05)
        assert c.get("/v1/plan").json()["loaded_at"] >= loaded
