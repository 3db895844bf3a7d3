"""Hardening of the HTTP edges (issue 13): what leaves, what it costs, how errors read.

- A restricted field planted on a public layer (by an admin PATCH or by an import's extra
  column) never reaches an anonymous caller through the maps, served or downloaded.
- A map page that would embed more than the cap is refused (413) before it is built; pages are
  cached by data revision, and an edit shows in the next page.
- The role is checked before a JSON body is read; bodies are capped; every error is
  problem+json with a Chinese detail (405, malformed bodies, over-cap bodies, the unforeseen).
- Client file names and encoding names never reach the file system or codecs unchecked.
"""

from __future__ import annotations

import io
import json

import pytest
from fastapi.testclient import TestClient

from api_support import sample_api

SENTINEL_TAX = 98765.4321
SENTINEL_TEXT = "税收机密值"  # planted restricted text value


@pytest.fixture(params=["geopackage", "postgis"])
def api(request, tmp_path):
    yield from sample_api(request.param, tmp_path)


def _auth(keys: dict, role: str) -> dict:
    return {"Authorization": f"Bearer {keys[role]}"}


def _first_parcel(store) -> str:
    return str(store.read_layer("reserve_parcels")["id"].iloc[0])


def _plant_by_patch(client, keys, store) -> str:
    fid = _first_parcel(store)
    r = client.patch(f"/collections/reserve_parcels/items/{fid}", json={"properties": {"tax": SENTINEL_TAX, "revenue": SENTINEL_TEXT}, "reason": "测试：写入受限字段"}, headers=_auth(keys, "admin"))
    assert r.status_code == 200, r.text
    return fid


def _leaks(text: str) -> bool:
    return str(SENTINEL_TAX) in text or SENTINEL_TEXT in text or json.dumps(SENTINEL_TEXT)[1:-1] in text


def test_planted_restricted_field_never_reaches_anonymous_maps(api):
    store, client, keys = api
    _plant_by_patch(client, keys, store)
    analyst_page = client.get("/maps/parcels?download=1", headers=_auth(keys, "analyst"))
    assert analyst_page.status_code == 200
    assert _leaks(analyst_page.text), "the analyst's copy should carry the planted field (else this test proves nothing)"
    for url in ("/maps/parcels", "/maps/parcels?download=1", "/maps/parcels?basemap=amap", "/maps/parcels?download=1&basemap=osm"):
        r = client.get(url)
        assert r.status_code == 200, (url, r.text[:300])
        assert not _leaks(r.text), url
    # the other anonymous paths out, for the same planted values
    items = client.get("/collections/reserve_parcels/items?limit=1000")
    assert items.status_code == 200 and not _leaks(items.text)
    assert "tax" not in items.json()["features"][0]["properties"]


def test_planted_by_import_never_reaches_anonymous_maps(api, tmp_path):
    store, client, keys = api
    import geopandas as gpd

    parcels = store.read_layer("reserve_parcels").head(3).copy()
    parcels["id"] = [f"IMP-{i}" for i in range(len(parcels))]
    from shapely.affinity import translate

    # clear of every live parcel (reserve parcels may not overlap, SPEC §4)
    parcels["geometry"] = [translate(g, 0.3 + 0.05 * i, 0.0) for i, g in enumerate(parcels.geometry)]
    parcels["TAX"] = SENTINEL_TAX  # upper case, as a shapefile's DBF would name it
    parcels["energy_tce"] = SENTINEL_TEXT
    path = tmp_path / "planted.geojson"
    gpd.GeoDataFrame(parcels, geometry="geometry", crs=4490).drop(columns=[c for c in ("status_date",) if c in parcels.columns]).to_file(path, driver="GeoJSON")
    with open(path, "rb") as fh:
        r = client.post("/collections/reserve_parcels/import", files={"file": ("planted.geojson", fh, "application/geo+json")}, data={"mode": "append", "geometry_source": "digitized"}, headers=_auth(keys, "admin"))
    assert r.status_code == 200, r.text
    assert _leaks(client.get("/maps/parcels?download=1", headers=_auth(keys, "analyst")).text)
    for url in ("/maps/parcels", "/maps/parcels?download=1"):
        assert not _leaks(client.get(url).text), url
    assert not _leaks(client.get("/collections/reserve_parcels/items/IMP-0").text)


def test_anonymous_history_shows_no_restricted_values(api):
    store, client, keys = api
    fid = _plant_by_patch(client, keys, store)
    r = client.get(f"/collections/reserve_parcels/items/{fid}/history")
    assert r.status_code == 200
    assert not _leaks(r.text)
    assert _leaks(client.get(f"/collections/reserve_parcels/items/{fid}/history", headers=_auth(keys, "analyst")).text)


def test_map_pages_are_capped_before_they_are_built(api):
    store, client, keys = api
    settings = client.app.state.settings
    n = store.count("reserve_parcels") + store.count("park_zones") + store.count("zone_boundary")
    settings.map_download_max_features = n - 1
    try:
        r = client.get("/maps/parcels?download=1")
        assert r.status_code == 413
        assert r.headers["content-type"].startswith("application/problem+json")
        body = r.json()
        assert "超过单文件下载上限" in body["detail"] and "/maps/parcels" in body["hint"]
        # a served page of a tiled layer embeds only the small context layers: still served
        settings.map_large_threshold = 1
        served = client.get("/maps/parcels")
        assert served.status_code == 200, served.text[:300]
        # ...but not when the basemap forces embedding (GCJ-02 cannot be tiled)
        assert client.get("/maps/parcels?basemap=amap").status_code == 413
    finally:
        settings.map_download_max_features = 20000
        settings.map_large_threshold = 5000


def test_map_pages_are_cached_by_data_revision(api):
    store, client, keys = api
    pages = store.caches("map_pages")
    pages.clear()
    first = client.get("/maps/parcels?download=1").text
    again = client.get("/maps/parcels?download=1").text
    assert again == first
    assert len(pages) == 1 and pages.hits >= 1
    fid = _first_parcel(store)
    r = client.patch(f"/collections/reserve_parcels/items/{fid}", json={"properties": {"name": "缓存失效测试地块"}, "reason": "测试"}, headers=_auth(keys, "admin"))
    assert r.status_code == 200, r.text
    after = client.get("/maps/parcels?download=1").text
    assert "缓存失效测试地块" in after and "缓存失效测试地块" not in first
    # anonymous and analyst pages are different cache entries (different audiences)
    misses = pages.misses
    client.get("/maps/parcels?download=1", headers=_auth(keys, "analyst"))
    assert pages.misses == misses + 1
    client.get("/maps/parcels?download=1")
    assert pages.misses == misses + 1


def test_role_is_checked_before_a_body_is_read(api):
    store, client, keys = api
    junk = b"{" * (2 * 1024 * 1024)  # malformed: a parse before the role check would answer 400
    r = client.post("/study/land-balance", content=junk, headers={"content-type": "application/json"})
    assert r.status_code == 401, r.text[:200]
    r = client.post("/study/land-balance", content=junk, headers={"content-type": "application/json", **_auth(keys, "analyst")})
    assert r.status_code == 413 and "上限" in r.json()["detail"]
    r = client.post("/study/land-balance", content=b'{"scenario": ', headers={"content-type": "application/json", **_auth(keys, "analyst")})
    assert r.status_code == 400 and "JSON" in r.json()["detail"]
    r = client.post("/study/land-balance", json={"with_candidates": "many", "x": 1}, headers=_auth(keys, "analyst"))
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert fields == {"with_candidates", "x"}, r.json()


def test_framework_errors_are_chinese_problem_json(api):
    store, client, keys = api
    r = client.delete("/collections")
    assert r.status_code == 405 and r.headers["content-type"].startswith("application/problem+json")
    assert "请求方法" in r.json()["detail"]
    r = client.get("/no/such/path")
    assert r.status_code == 404 and "不存在" in r.json()["detail"]


def test_unforeseen_errors_are_problem_json_without_internals(tmp_path):
    from api.app import create_app
    from api.settings import Settings

    app = create_app(Settings(store=str(tmp_path / "x.gpkg")))

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internal path /etc/landgis")

    r = TestClient(app, raise_server_exceptions=False).get("/boom")
    assert r.status_code == 500
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "secret" not in r.text and "Traceback" not in r.text
    assert "服务器" in r.json()["detail"]


def test_over_cap_chunked_body_is_413_on_every_route(tmp_path):
    from api.app import create_app
    from api.settings import Settings

    app = create_app(Settings(store=str(tmp_path / "x.gpkg"), max_upload_mb=1))
    client = TestClient(app)

    def chunks():
        for _ in range(40):
            yield b" " * 65536  # 2.5 MB of JSON white space, no Content-Length

    for path in ("/study/land-balance", "/scoring/efficiency", "/standard-land/check"):
        r = client.post(path, content=chunks(), headers={"content-type": "application/json"})
        assert r.status_code in (401, 413), (path, r.status_code)
    declared = client.post("/study/land-balance", content=b" " * (2 * 1024 * 1024), headers={"content-type": "application/json"})
    assert declared.status_code == 413 and declared.json()["title"] == "请求内容过大"


@pytest.mark.parametrize("filename", [".", "..", "/", "a/..", "..\\..", ""])
def test_upload_file_names_are_never_paths(api, filename):
    store, client, keys = api
    data = "enterprise_id,name\nE1,甲\n".encode()
    r = client.post("/scoring/efficiency", files={"file": (filename, io.BytesIO(data), "text/csv")}, headers=_auth(keys, "analyst"))
    assert 400 <= r.status_code < 500, (filename, r.status_code, r.text[:200])
    assert r.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("encoding", ["punycode", "idna", "base64", "rot13", "no-such-charset", "undefined"])
def test_encoding_names_are_checked(api, encoding):
    store, client, keys = api
    data = "enterprise_id,name\nE1,甲\n".encode()
    r = client.post("/scoring/efficiency", files={"file": ("e.csv", io.BytesIO(data), "text/csv")}, data={"encoding": encoding}, headers=_auth(keys, "analyst"))
    assert r.status_code == 422, (encoding, r.status_code, r.text[:200])
    assert "编码" in r.json()["detail"]
    before = store.count("reserve_parcels")
    r = client.post("/collections/reserve_parcels/import", files={"file": ("p.csv", io.BytesIO(b"id,lon,lat\nX1,112.6,33.0\n"), "text/csv")}, data={"encoding": encoding}, headers=_auth(keys, "admin"))
    assert r.status_code == 422 and "编码" in r.json()["detail"], r.text[:200]
    assert store.count("reserve_parcels") == before


def test_nul_in_a_geojson_value_is_refused_not_cut_short(api, tmp_path):
    """GDAL would cut "乙\\u0000丙" to "乙" silently; the import names the feature and field instead."""
    store, client, keys = api
    features = [
        {"type": "Feature", "properties": {"id": f"NUL-{i}", "name": name}, "geometry": {"type": "Polygon", "coordinates": [[[112.60 + i * 0.01, 33.0], [112.605 + i * 0.01, 33.0], [112.605 + i * 0.01, 33.005], [112.60 + i * 0.01, 33.0]]]}}
        for i, name in enumerate(["甲", "乙\u0000丙"])
    ]
    body = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    assert b"\\u0000" in body
    before = store.count("reserve_parcels")
    r = client.post("/collections/reserve_parcels/import", files={"file": ("nul.geojson", io.BytesIO(body), "application/geo+json")}, headers=_auth(keys, "admin"))
    assert r.status_code == 422, r.text[:300]
    problem = r.json()
    assert "第 2 行" in problem["detail"] and "name" in problem["detail"]
    assert {"row": 2, "field": "name"}.items() <= problem["errors"][0].items()
    assert store.count("reserve_parcels") == before


@pytest.mark.parametrize("method,path", [
    ("POST", "/scoring/efficiency"),
    ("PATCH", "/collections/reserve_parcels/items/RP-01"),
    ("POST", "/collections/reserve_parcels/items/RP-01/status"),
    ("POST", "/standard-land/check"),
    ("POST", "/study/land-balance"),
    ("POST", "/jobs"),
])
def test_deeply_nested_json_is_a_4xx(api, method, path):
    """`[[[[…` past Python's recursion limit was a RecursionError (500) in the JSON decoder."""
    store, client, keys = api
    for body in (b"[" * 30000 + b"]" * 30000, b'{"properties": {"x": ' + b"[" * 3000 + b"]" * 3000 + b"}}"):
        r = client.request(method, path, content=body, headers={"content-type": "application/json", **_auth(keys, "admin")})
        assert r.status_code in (400, 413, 422), (path, r.status_code, r.text[:200])
        assert r.headers["content-type"].startswith("application/problem+json")


def test_edit_bodies_are_models(api):
    """Unknown fields of a status change or an edit are named (422), not silently ignored."""
    store, client, keys = api
    r = client.post("/collections/reserve_parcels/items/RP-01/status", json={"status": "已组卷上报", "reasn": "拼错的字段"}, headers=_auth(keys, "admin"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reasn"
    r = client.post("/collections/reserve_parcels/items/RP-01/status", json={"reason": "缺少状态"}, headers=_auth(keys, "admin"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "status"
    r = client.patch("/collections/reserve_parcels/items/RP-01", json={"type": "Feature", "properties": {"name": "改名"}, "reason": "测试", "colour": "red"}, headers=_auth(keys, "admin"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "colour"
    assert store.get_feature("reserve_parcels", "RP-01")["name"] != "改名"
