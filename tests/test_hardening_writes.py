"""Write hardening on both stores (the hardening issue): bounded lock waits that never freeze the
service, no write skew between concurrent geometry edits, `%`/`?` in column names, NUL bytes
refused with row and field, and a history that shows key names and reasons to analysts only.

Live-server tests reuse the `server` fixture of tests/test_http_soak.py (a real `landgis serve`
on loopback with the sample data and an admin key); in-process tests reuse api_support.
"""

from __future__ import annotations

import io
import json
import sqlite3
import threading
import time

import geopandas as gpd
import httpx
import numpy as np
import psycopg
import pytest
import shapely
from fastapi.testclient import TestClient

from api_support import sample_api
from gis.crs import to_measure
from gis.store import open_store
from test_http_soak import server  # noqa: F401  (fixture: a live `landgis serve` per store)

LOCK_S = 2.0
"""The bounded lock wait the live server runs with in the lock tests (LANDGIS_LOCK_TIMEOUT_S)."""
TRIES = 30
BUSY = "正被其他用户或程序编辑"


def kind_of(url: str) -> str:
    return "postgis" if url.startswith("postgresql") else "geopackage"


def item_url(fid: str) -> str:
    return f"/collections/reserve_parcels/items/{fid}"


@pytest.fixture
def short_lock_server(request, monkeypatch, store_url):
    """The live server (and this process's stores) with a 2 s bound on every lock wait."""
    monkeypatch.setenv("LANDGIS_LOCK_TIMEOUT_S", str(LOCK_S))
    return request.getfixturevalue("server")


@pytest.fixture(params=["geopackage", "postgis"])
def api(request, tmp_path):
    """In-process app on a sample store: (store, client, {role: headers})."""
    gen = sample_api(request.param, tmp_path)
    store, client, keys = next(gen)
    with client:
        yield store, client, {role: {"Authorization": f"Bearer {k}"} for role, k in keys.items()}
    gen.close()


def hold_write_lock(store_url: str, fid: str):
    """Another client holds a lock an edit of `fid` needs; returns release()."""
    if kind_of(store_url) == "postgis":
        conn = psycopg.connect(store_url)  # not autocommit: the SELECT opens a transaction
        assert conn.execute("SELECT id FROM reserve_parcels WHERE id = %s FOR UPDATE", (fid,)).fetchall() == [(fid,)]

        def release_pg():
            conn.rollback()
            conn.close()

        return release_pg
    conn = sqlite3.connect(store_url, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")  # the file's write lock, as an import or a QGIS edit session holds it

    def release_sqlite():
        conn.execute("ROLLBACK")
        conn.close()

    return release_sqlite


def shrunk(feature: dict) -> dict:
    """The parcel's own bounding box cut to its lower-left quarter, clipped to the parcel: a
    valid polygon inside its old footprint (no new overlap, still inside the zone)."""
    geom = shapely.geometry.shape(feature["geometry"])
    x0, y0, x1, y1 = geom.bounds
    part = shapely.intersection(geom, shapely.box(x0, y0, (x0 + x1) / 2, (y0 + y1) / 2))
    return json.loads(shapely.to_geojson(part))


# --- 1. a held lock: bounded wait, the service keeps answering -----------------------------


def test_held_lock_is_bounded_and_health_keeps_answering(short_lock_server, store_url, record_property):
    base, admin = short_lock_server
    fid = "RP-03"
    reader = httpx.Client(base_url=base, timeout=10)
    before = reader.get(item_url(fid)).json()
    hist_before = reader.get(item_url(fid) + "/history", headers=admin).json()["history"]
    requests = {
        "patch": ("PATCH", item_url(fid), {"properties": {"note": "锁住时的修改"}, "reason": "锁测试"}),
        "geometry": ("PATCH", item_url(fid), {"geometry": shrunk(before), "reason": "锁测试"}),
        "status": ("POST", item_url(fid) + "/status", {"status": "已组卷上报"}),
    }
    results: dict[str, tuple[httpx.Response, float]] = {}
    failures: list[str] = []

    def send(name: str) -> None:
        method, url, body = requests[name]
        started = time.monotonic()
        try:
            with httpx.Client(base_url=base, headers=admin, timeout=60) as c:
                results[name] = (c.request(method, url, json=body), time.monotonic() - started)
        except httpx.HTTPError as exc:  # collected and asserted below
            failures.append(f"{name}: {exc!r}")

    latencies: list[float] = []
    release = hold_write_lock(store_url, fid)
    try:
        threads = [threading.Thread(target=send, args=(n,)) for n in requests]
        for t in threads:
            t.start()
        deadline = time.monotonic() + LOCK_S + 15
        while any(t.is_alive() for t in threads) and time.monotonic() < deadline:
            t0 = time.monotonic()
            try:
                ok = reader.get("/health", timeout=5).status_code == 200
            except httpx.HTTPError:
                ok = False
            latencies.append(time.monotonic() - t0)
            assert ok, f"/health failed while an edit waited on a lock (after {latencies[-1]:.2f} s)"
            time.sleep(0.05)
        for t in threads:
            t.join(30)
    finally:
        release()

    assert not failures, failures
    assert len(latencies) >= 10, "the edits did not wait: the lock was not held"
    assert max(latencies) < 1.0, f"/health took {max(latencies):.2f} s while an edit waited on a lock"
    for name, (r, elapsed) in results.items():
        assert r.status_code in (409, 503), f"{name}: {r.status_code} {r.text[:300]}"
        assert r.headers["content-type"].startswith("application/problem+json")
        assert BUSY in r.json()["detail"], r.json()
        if r.status_code == 503:
            assert int(r.headers["retry-after"]) >= 1
        assert LOCK_S * 0.8 <= elapsed < LOCK_S * 1.5 + 0.5, f"{name} answered after {elapsed:.2f} s (bound {LOCK_S} s): {sorted((k, round(e, 2)) for k, (_, e) in results.items())}"
    assert set(results) == set(requests)
    # nothing changed: the row, its geometry and its history are as before
    assert reader.get(item_url(fid)).json() == before
    assert reader.get(item_url(fid) + "/history", headers=admin).json()["history"] == hist_before
    # and once the other client lets go, the same edit goes through
    r = httpx.patch(base + item_url(fid), json=requests["patch"][2], headers=admin, timeout=30)
    assert r.status_code == 200 and r.json()["properties"]["note"] == "锁住时的修改"
    waited = max(e for _, e in results.values())
    record_property(
        "report_line",
        f"held lock {kind_of(store_url)}: /health max {1000 * max(latencies):.0f} ms over {len(latencies)} polls while 3 edits waited; "
        f"edits answered {results['patch'][0].status_code} after ≤ {waited:.1f} s (bound {LOCK_S:g} s), row unchanged",
    )


def test_store_write_waits_are_bounded_without_http(store_url, monkeypatch):
    """The store alone: the wait ends in StoreBusy (a 503 InputError) and changes nothing."""
    from api_support import load_sample
    from gis.errors import StoreBusy

    monkeypatch.setenv("LANDGIS_LOCK_TIMEOUT_S", "1")
    store = open_store(store_url)
    load_sample(store)
    before = store.get_feature("reserve_parcels", "RP-04")
    hist = len(store.history("reserve_parcels", "RP-04"))
    release = hold_write_lock(store_url, "RP-04")
    started = time.monotonic()
    try:
        with pytest.raises(StoreBusy) as info:
            store.update_feature("reserve_parcels", "RP-04", {"note": "x"}, user="t", reason="r")
    finally:
        release()
    elapsed = time.monotonic() - started
    assert 0.8 <= elapsed < 4, elapsed
    assert info.value.status_code == 503 and info.value.headers == {"Retry-After": "1"}
    assert BUSY in info.value.detail and "RP-04" in info.value.detail
    after = store.get_feature("reserve_parcels", "RP-04")
    assert "note" not in after or after["note"] is None
    assert after["geometry"].equals(before["geometry"])
    assert len(store.history("reserve_parcels", "RP-04")) == hist
    store.close()


def test_lock_timeout_setting_reaches_the_store(tmp_path, monkeypatch):
    from api.app import create_app
    from api.settings import Settings

    monkeypatch.setenv("LANDGIS_LOCK_TIMEOUT_S", "7")
    store = open_store(str(tmp_path / "s.gpkg"))
    assert store.lock_timeout_s == 7.0  # the CLI's stores read the environment
    create_app(Settings(store=store.url, lock_timeout_s=1.5), store=store)
    assert store.lock_timeout_s == 1.5  # the server's come from its settings (.env too)
    store.close()


# --- 2. write skew: two parcels moved onto the same free land at once ------------------------


def free_spots(store_url: str, n: int) -> list:
    """`n` disjoint ~90 m squares inside the zone, clear of every reserve parcel."""
    store = open_store(store_url, init=False)
    try:
        zone = shapely.union_all(store.read_layer("zone_boundary").geometry.values)
        taken = shapely.union_all(store.read_layer("reserve_parcels").geometry.values).buffer(0.002)
    finally:
        store.close()
    x0, y0, x1, y1 = zone.bounds
    spots = []
    for x in np.arange(x0, x1, 0.003):
        for y in np.arange(y0, y1, 0.003):
            box = shapely.box(x, y, x + 0.001, y + 0.0008)
            if zone.contains(box.buffer(0.0005)) and not box.intersects(taken):
                spots.append(box)
                if len(spots) == n:
                    return spots
    raise AssertionError(f"only {len(spots)} free spots in the sample zone")


_SKEW: dict[str, tuple[int, int]] = {}


def test_no_write_skew_between_concurrent_geometry_edits(server, store_url, record_property):  # noqa: F811
    base, admin = server
    spots = free_spots(store_url, TRIES)
    pair = ("RP-01", "RP-02")
    clients = {fid: httpx.Client(base_url=base, headers=admin, timeout=60) for fid in pair}
    both = exactly_one = 0
    odd: list[str] = []
    for i, spot in enumerate(spots):
        gate = threading.Barrier(len(pair))
        answers: dict[str, httpx.Response] = {}

        def move(fid: str) -> None:
            body = {"geometry": json.loads(shapely.to_geojson(spot)), "reason": f"竞争测试 {i}"}
            gate.wait()
            answers[fid] = clients[fid].patch(item_url(fid), json=body)

        threads = [threading.Thread(target=move, args=(fid,)) for fid in pair]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        codes = sorted(answers[fid].status_code for fid in pair)
        if codes == [200, 200]:
            both += 1
        elif codes == [200, 422] and "重叠" in next(a for a in answers.values() if a.status_code == 422).json()["detail"]:
            exactly_one += 1
        else:
            odd.append(f"try {i}: {[(fid, answers[fid].status_code, answers[fid].text[:200]) for fid in pair]}")
    for c in clients.values():
        c.close()
    assert both == 0, f"{both} of {TRIES} tries accepted both parcels onto the same land"
    assert not odd, odd[:3]
    assert exactly_one == TRIES
    # and the store agrees: no two live reserve parcels overlap by more than 1 m²
    store = open_store(store_url, init=False)
    parcels = store.read_layer("reserve_parcels")
    store.close()
    live = parcels[parcels["status"] != "已注销"]
    geoms = to_measure(np.asarray(live.geometry.values, dtype=object))
    for a in range(len(geoms)):
        for b in range(a + 1, len(geoms)):
            assert shapely.area(shapely.intersection(geoms[a], geoms[b])) <= 1.0, (live["id"].iloc[a], live["id"].iloc[b])
    _SKEW[kind_of(store_url)] = (TRIES, both)
    record_property("report_line", f"write skew {kind_of(store_url)}: {TRIES} tries, {both} pairs both accepted, {exactly_one} exactly one")
    if len(_SKEW) == 2:
        record_property(
            "report_line",
            f"write skew: {TRIES} tries × 2 stores, {sum(b for _, b in _SKEW.values())} pairs both accepted",
        )


def test_reviving_a_cancelled_parcel_cannot_overlap(api):
    """A cancelled parcel's land may be given to another; reviving it is checked like a move."""
    store, client, keys = api
    admin = keys["admin"]
    url7 = item_url("RP-07")
    r = client.post(url7 + "/status", json={"status": "已注销", "reason": "撤销储备"}, headers=admin)
    assert r.status_code == 200, r.text
    land = shrunk(client.get(url7).json())
    assert client.patch(item_url("RP-08"), json={"geometry": land, "reason": "改用 RP-07 的土地"}, headers=admin).status_code == 200
    hist = len(store.history("reserve_parcels"))
    r = client.post(url7 + "/status", json={"status": "计划报批", "reason": "恢复储备"}, headers=admin)
    assert r.status_code == 422 and "RP-08" in r.json()["detail"] and "重叠" in r.json()["detail"], r.text
    assert store.get_feature("reserve_parcels", "RP-07")["status"] == "已注销" and len(store.history("reserve_parcels")) == hist


def test_a_stale_expectation_is_a_409_conflict(store):
    from gis.errors import WriteConflict

    gdf = gpd.GeoDataFrame({"id": ["a"], "status": ["计划报批"]}, geometry=[shapely.Point(112.5, 33.0)], crs=4490)
    store.import_features("points", gdf, user="t")
    with pytest.raises(WriteConflict) as info:
        store.update_feature("points", "a", {"status": "已获批"}, user="t", expect={"status": "已组卷上报"})
    assert info.value.status_code == 409 and "已被他人修改" in info.value.detail
    assert store.get_feature("points", "a")["status"] == "计划报批"


# --- 3. `%` and `?` in column names ---------------------------------------------------------

ODD = ("绿地率%", "是否?")


def test_percent_and_question_mark_columns_in_the_store_api(store):
    gdf = gpd.GeoDataFrame(
        {"id": ["g1", "g2"], "绿地率%": [12.5, 30.0], "是否?": ["是", "否"]},
        geometry=[shapely.box(112.50, 33.0, 112.501, 33.001), shapely.box(112.51, 33.0, 112.511, 33.001)],
        crs=4490,
    )
    store.import_features("green_sites", gdf, user="t", geometry_type="POLYGON")
    frame = store.read_layer("green_sites", columns=list(ODD))
    assert frame["绿地率%"].tolist() == [12.5, 30.0] and frame["是否?"].tolist() == ["是", "否"]
    new = store.update_feature("green_sites", "g1", {"是否?": "否", "绿地率%": 40.0, "容积率%?": "1.2"}, user="t", reason="改?%")
    assert new["是否?"] == "否" and new["绿地率%"] == 40.0 and new["容积率%?"] == "1.2"
    feature = store.get_feature("green_sites", "g1")
    assert feature["是否?"] == "否" and feature["容积率%?"] == "1.2"
    hist = store.history("green_sites", "g1")
    last = json.loads(hist["new"].iloc[-1])
    assert last["是否?"] == "否" and last["绿地率%"] == 40.0 and hist["reason"].iloc[-1] == "改?%"
    assert store.value_counts("green_sites", ["是否?"]) == [("否", 2)]


def test_percent_and_question_mark_columns_over_http_and_cli(api, tmp_path):
    from typer.testing import CliRunner

    from api.cli import app as cli

    store, client, keys = api
    spot = free_spots(store.url, 1)[0]
    csv = f'id,name,绿地率%,是否?,geometry\nRP-90,百分号地块,35,是,"{shapely.to_wkt(spot)}"\n'.encode("utf-8")
    r = client.post(
        "/collections/reserve_parcels/import", files={"file": ("地块.csv", csv, "text/csv")}, data={"mode": "append"}, headers=keys["admin"]
    )
    assert r.status_code == 200, r.text
    r = client.patch(item_url("RP-90"), json={"properties": {"是否?": "否", "绿地率%": "40"}, "reason": "核实"}, headers=keys["admin"])
    assert r.status_code == 200, r.text
    assert r.json()["properties"]["是否?"] == "否" and r.json()["properties"]["绿地率%"] == "40"
    got = client.get(item_url("RP-90"))
    assert got.status_code == 200, got.text
    assert got.json()["properties"]["是否?"] == "否"
    hist = client.get(item_url("RP-90") + "/history", headers=keys["analyst"]).json()["history"]
    assert [h["action"] for h in hist] == ["insert", "edit"]
    assert hist[-1]["old"]["是否?"] == "是" and hist[-1]["new"]["是否?"] == "否" and hist[-1]["new"]["绿地率%"] == "40"
    # the command line imports the same columns into a layer of its own
    path = tmp_path / "绿地.csv"
    path.write_text(f'id,绿地率%,是否?,geometry\nG-1,20,是,"{shapely.to_wkt(spot)}"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["import", "green_sites", str(path), "--store", store.url])
    assert result.exit_code == 0, result.output
    assert store.get_feature("green_sites", "G-1")["绿地率%"] == "20"


# --- 4. NUL bytes ----------------------------------------------------------------------------

NUL_PATCH_DETAIL = "修改被拒绝：要素 RP-05 的字段 name 含有不可见的空字符（\\x00），数据库未作任何修改。"
NUL_IMPORT_DETAIL = "导入被拒绝：第 2 行字段 name 含有不可见的空字符（\\x00），数据库未作任何修改。"


def snapshot(store) -> tuple:
    parcels = store.read_layer("reserve_parcels")
    return (parcels.drop(columns="geometry").to_json(), [g.wkt for g in parcels.geometry], len(store.history()))


def test_nul_bytes_are_refused_with_row_and_field(api):
    store, client, keys = api
    admin = keys["admin"]
    before = snapshot(store)
    r = client.patch(item_url("RP-05"), json={"properties": {"name": "东\x00区"}}, headers=admin)
    assert r.status_code == 422 and r.json()["detail"] == NUL_PATCH_DETAIL, r.text
    assert r.json()["errors"] == [{"row": None, "field": "name", "message": "含有不可见的空字符（\\x00）", "feature_id": "RP-05"}]
    cases = [
        ("PATCH", item_url("RP-05"), {"properties": {"note": "ok"}, "reason": "原因\x00"}, "reason"),
        ("PATCH", item_url("RP-05"), {"properties": {"no\x00te": "ok"}}, "no\\x00te"),
        ("PATCH", item_url("RP-05"), {"properties": {"nested": {"a": ["x\x00"]}}}, "nested"),
        ("POST", item_url("RP-05") + "/status", {"status": "已组卷上报", "reason": "\x00"}, "reason"),
        ("POST", item_url("RP-05") + "/status", {"status": "已组卷\x00上报"}, "status"),
        ("POST", item_url("RP-05") + "/status", {"status": "已组卷上报", "supply_method": "出\x00让"}, "supply_method"),
        ("PATCH", item_url("RP-0%005"), {"properties": {"note": "ok"}}, "id"),
    ]
    for method, url, body, field in cases:
        r = client.request(method, url, json=body, headers=admin)
        assert r.status_code == 422, (url, body, r.status_code, r.text[:300])
        assert r.headers["content-type"].startswith("application/problem+json")
        assert "空字符（\\x00）" in r.json()["detail"] and r.json()["errors"][0]["field"] == field, r.json()
    # imports: a CSV cell, a header, and an XLSX that cannot carry one (refused as unreadable)
    csv = 'id,name,geometry\nRP-91,甲,"POINT (112.5 33.0)"\nRP-92,乙\x00丙,"POINT (112.5 33.0)"\n'.encode("utf-8")
    r = client.post("/collections/reserve_parcels/import", files={"file": ("nul.csv", csv, "text/csv")}, headers=admin)
    assert r.status_code == 422 and r.json()["detail"] == NUL_IMPORT_DETAIL, r.text
    assert r.json()["errors"][0] == {"row": 2, "field": "name", "message": "含有不可见的空字符（\\x00）"}
    csv = 'id,na\x00me,geometry\nG1,甲,"POINT (112.5 33.0)"\n'.encode("utf-8")
    r = client.post("/collections/green_points/import", files={"file": ("nul.csv", csv, "text/csv")}, headers=admin)
    assert r.status_code == 422 and "空字符" in r.json()["detail"], r.text
    r = client.post("/collections/green_points/import", files={"file": ("nul.xlsx", xlsx_with_raw_nul(), "application/octet-stream")}, headers=admin)
    assert 400 <= r.status_code < 500, r.text
    assert snapshot(store) == before
    assert not store.layer_exists("green_points")


def xlsx_with_raw_nul() -> bytes:
    """An .xlsx whose cell holds a NUL character reference (what a broken exporter writes)."""
    import zipfile

    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(["id", "name", "geometry"])
    wb.active.append(["G1", "PLACEHOLDER", "POINT (112.5 33.0)"])
    plain = io.BytesIO()
    wb.save(plain)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(plain.getvalue())) as zin, zipfile.ZipFile(out, "w") as zout:
        for item in zin.infolist():
            zout.writestr(item, zin.read(item.filename).replace(b"PLACEHOLDER", b"A&#0;B"))
    return out.getvalue()


def test_nul_bytes_refused_by_the_store_itself(store):
    """The store is the last line: a direct import or edit with a NUL is an InputError on both
    stores (PostgreSQL used to raise DataError), and nothing is written."""
    from gis.errors import InputError

    gdf = gpd.GeoDataFrame({"id": ["a", "b"], "name": ["甲", "乙\x00"]}, geometry=[shapely.Point(112.5, 33.0)] * 2, crs=4490)
    with pytest.raises(InputError) as info:
        store.import_features("points", gdf, user="t")
    assert info.value.detail == "导入被拒绝：第 2 行字段 name 含有不可见的空字符（\\x00），数据库未作任何修改。"
    assert not store.layer_exists("points") and len(store.history()) == 0
    store.import_features("points", gdf.assign(name=["甲", "乙"]), user="t")
    with pytest.raises(InputError):
        store.update_feature("points", "a", {"name": "x\x00"}, user="t")
    with pytest.raises(InputError):
        store.update_feature("points", "a", {"name": "x"}, user="t", reason="\x00")
    assert store.get_feature("points", "a")["name"] == "甲" and len(store.history()) == 2
    assert store.get_feature("points", "a\x00") is None and store.history("points", "a\x00").empty


# --- 5. history: key names, reasons and restricted values for analysts only -----------------


def test_history_hides_users_reasons_and_restricted_values_below_analyst(api):
    store, client, keys = api
    url = item_url("RP-06")
    r = client.patch(url, json={"properties": {"tax": 321.5, "REVENUE": 9000}, "reason": "内部核定税收 321.5 万元"}, headers=keys["admin"])
    assert r.status_code == 200, r.text
    r = client.patch(url, json={"properties": {"tax": 400.0, "note": "公开备注"}, "reason": "复核"}, headers=keys["admin"])
    assert r.status_code == 200, r.text

    anonymous = client.get(url + "/history")
    assert anonymous.status_code == 200
    records = anonymous.json()["history"]
    assert [h["action"] for h in records] == ["insert", "edit", "edit"]
    for h in records:
        assert "user" not in h and "reason" not in h, h
        for side in (h["old"] or {}, h["new"] or {}):
            assert not {"tax", "REVENUE"} & set(side), side
    assert records[-1]["new"]["note"] == "公开备注"  # ordinary fields stay
    assert "321.5" not in anonymous.text and "adm" not in anonymous.text

    analyst = client.get(url + "/history", headers=keys["analyst"]).json()["history"]
    assert analyst[1]["user"] == "adm" and analyst[1]["reason"] == "内部核定税收 321.5 万元"
    assert analyst[1]["new"]["tax"] == 321.5 and analyst[1]["new"]["REVENUE"] == 9000
    assert analyst[2]["old"]["tax"] == 321.5 and analyst[2]["new"]["tax"] == 400.0
    admin = client.get(url + "/history", headers=keys["admin"]).json()["history"]
    assert admin == analyst


# --- imports keep reserve parcels apart too (SPEC §4) ---------------------------------------


def test_reserve_import_may_not_overlap(tmp_path, store_url):
    """An import is checked like an edit: among its rows and against live parcels, in its transaction."""
    import geopandas as gpd
    from shapely.affinity import translate

    from api_support import load_sample
    from gis.errors import InputError
    from gis.store import open_store
    from services.imports import import_file

    store = open_store(store_url)
    try:
        load_sample(store)
        parcels = store.read_layer("reserve_parcels")
        first = parcels.iloc[0]
        before = store.count("reserve_parcels")
        rows = gpd.GeoDataFrame(
            {"id": ["NEW-1", "NEW-2", "NEW-3"], "name": ["压占已有地块", "远离", "与 NEW-2 重叠"]},
            geometry=[first.geometry, translate(first.geometry, 0.2, 0.2), translate(first.geometry, 0.2005, 0.2)],
            crs=4490,
        )
        path = tmp_path / "overlap.geojson"
        rows.to_file(path, driver="GeoJSON")
        with pytest.raises(InputError) as err:
            import_file(store, "reserve_parcels", path, user="test", geometry_source="digitized")
        found = {(e.row, e.feature_id): e.message for e in err.value.errors}
        # each overlapping pair once: row 1 over an existing parcel, rows 2 and 3 over each other
        assert set(found) == {(1, "NEW-1"), (2, "NEW-2")}, err.value.errors
        assert first["id"] in found[(1, "NEW-1")] and "第 3 行的 NEW-3" in found[(2, "NEW-2")]
        assert first["id"] in err.value.render() and "重叠" in err.value.detail
        assert store.count("reserve_parcels") == before
        # apart from everything: accepted
        rows.iloc[[1]].to_file(tmp_path / "ok.geojson", driver="GeoJSON")
        report, _, _ = import_file(store, "reserve_parcels", tmp_path / "ok.geojson", user="test", geometry_source="digitized")
        assert report.inserted == 1 and store.count("reserve_parcels") == before + 1
    finally:
        store.close()
