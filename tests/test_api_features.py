"""OGC API – Features on both stores: core, CRS (Part 2), CQL2 (Part 3), paging, errors, HTML.

Expected results are computed independently of the query layer: from `store.read_layer` with
geopandas/shapely, and from pyproj transforms via gis.crs.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import shapely
from api_support import sample_api

warnings.filterwarnings("ignore", category=DeprecationWarning)



@pytest.fixture(scope="module", params=["geopackage", "postgis"])
def env(request, tmp_path_factory):
    yield from sample_api(request.param, tmp_path_factory.mktemp("api"))


def ids(body) -> list[str]:
    return [f["id"] for f in body["features"]]


def problem(r, status):
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == status
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["detail"]), body["detail"]
    return body


def test_landing_conformance_openapi(env):
    _, c, _ = env
    landing = c.get("/").json()
    rels = {link["rel"] for link in landing["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= rels
    conf = c.get("/conformance").json()["conformsTo"]
    for cls in ("ogcapi-features-1/1.0/conf/core", "ogcapi-features-2/1.0/conf/crs", "ogcapi-features-3/1.0/conf/filter", "cql2/1.0/conf/cql2-text", "cql2/1.0/conf/cql2-json"):
        assert any(cls in x for x in conf), cls
    assert not any("temporal" in x or "arithmetic" in x for x in conf)  # not implemented, not declared
    api = c.get("/api")
    assert api.headers["content-type"].startswith("application/vnd.oai.openapi+json")
    doc = api.json()
    assert doc["openapi"].startswith("3.0")
    assert "/collections/{collectionId}/items" in doc["paths"]
    assert '"type": "null"' not in json.dumps(doc)


def test_collections_respect_roles(env):
    store, c, keys = env
    anon = {x["id"] for x in c.get("/collections").json()["collections"]}
    assert {"reserve_parcels", "park_zones", "zone_boundary", "roads"} <= anon
    assert "enterprises" not in anon and "industrial_parcels" not in anon
    analyst = {x["id"] for x in c.get("/collections", headers={"Authorization": f"Bearer {keys['analyst']}"}).json()["collections"]}
    assert {"enterprises", "industrial_parcels"} <= analyst
    doc = c.get("/collections/reserve_parcels").json()
    assert doc["storageCrs"].endswith("EPSG/0/4490")
    assert any(u.endswith("EPSG/0/4546") for u in doc["crs"])
    gdf = store.read_layer("reserve_parcels")
    x0, y0, x1, y1 = gdf.total_bounds
    ext = doc["extent"]["spatial"]["bbox"][0]
    assert ext == pytest.approx([x0, y0, x1, y1], abs=1e-4)  # the GeoPackage R-tree stores float32, rounded outwards
    assert ext[0] <= x0 and ext[1] <= y0 and ext[2] >= x1 and ext[3] >= y1


def test_paging_visits_every_feature_once(env):
    store, c, _ = env
    expected = store.read_layer("industrial_parcels")["id"].tolist()
    hdr = {"Authorization": f"Bearer {env[2]['analyst']}"}
    seen: list[str] = []
    url = "/collections/industrial_parcels/items?limit=50"
    pages = 0
    while url:
        body = c.get(url, headers=hdr).json()
        assert body["numberMatched"] == len(expected)
        assert body["numberReturned"] == len(body["features"]) <= 50
        seen += ids(body)
        nxt = [link["href"] for link in body["links"] if link["rel"] == "next"]
        url = nxt[0].replace("http://testserver", "") if nxt else None
        pages += 1
    assert seen == expected
    assert pages == -(-len(expected) // 50)


def test_bbox_matches_shapely(env):
    store, c, _ = env
    gdf = store.read_layer("park_zones")
    minx, miny, maxx, maxy = gdf.total_bounds
    box = (minx, miny, (minx + maxx) / 2, (miny + maxy) / 2)
    expected = sorted(gdf[gdf.intersects(shapely.box(*box))]["id"])
    body = c.get("/collections/park_zones/items", params={"bbox": ",".join(map(str, box))}).json()
    assert sorted(ids(body)) == expected
    assert 0 < len(expected) < len(gdf)
    assert body["numberMatched"] == len(expected)


def test_crs_4546_matches_store_transform_and_axis_order(env):
    from gis.crs import to_measure

    store, c, _ = env
    gdf = store.read_layer("reserve_parcels")
    r = c.get("/collections/reserve_parcels/items", params={"crs": "http://www.opengis.net/def/crs/EPSG/0/4546", "limit": 100})
    assert r.headers["content-crs"] == "<http://www.opengis.net/def/crs/EPSG/0/4546>"
    feats = {f["id"]: shapely.geometry.shape(f["geometry"]) for f in r.json()["features"]}
    ours = to_measure(np.asarray(gdf.geometry.values))
    for fid, g in zip(gdf["id"], ours):
        got = shapely.get_coordinates(feats[fid])[:, ::-1]  # EPSG:4546 axis order is northing, easting
        assert np.abs(got - shapely.get_coordinates(g)).max() < 0.01
        assert 300_000 < got[0, 0] < 700_000 and 3_500_000 < got[0, 1] < 3_800_000
    # EPSG:4490 in its authority order (lat, lon); CRS84 stays lon/lat
    lat_lon = c.get("/collections/reserve_parcels/items/RP-01", params={"crs": "EPSG:4490"}).json()
    lon_lat = c.get("/collections/reserve_parcels/items/RP-01").json()
    a = shapely.get_coordinates(shapely.geometry.shape(lat_lon["geometry"]))
    b = shapely.get_coordinates(shapely.geometry.shape(lon_lat["geometry"]))
    assert np.allclose(a[:, ::-1], b, atol=1e-7)
    assert 110 < b[0, 0] < 115 and 32 < b[0, 1] < 34


def test_bbox_crs_4546_equals_lonlat_bbox(env):
    from gis.crs import to_measure

    store, c, _ = env
    gdf = store.read_layer("reserve_parcels")
    g = to_measure(np.asarray(gdf.geometry.values[:1]))[0]
    e0, n0, e1, n1 = g.bounds
    body = c.get("/collections/reserve_parcels/items", params={"bbox": f"{n0},{e0},{n1},{e1}", "bbox-crs": "EPSG:4546"}).json()
    assert gdf["id"].iloc[0] in ids(body)
    expected = sorted(gdf[gdf.intersects(gdf.geometry.iloc[0].envelope)]["id"])
    assert set(ids(body)) <= set(gdf["id"]) and set(expected) <= set(ids(body))


@pytest.mark.parametrize(
    "cql, lang, pick",
    [
        ("use = '工业' AND area_mu > 50", "cql2-text", lambda d: (d["use"] == "工业") & (d["area_mu"] > 50)),
        ("name LIKE '%产业园%' OR use IN ('居住','仓储')", "cql2-text", lambda d: d["name"].str.contains("产业园") | d["use"].isin(["居住", "仓储"])),
        ("area_mu BETWEEN 100 AND 400 AND NOT (use = '工业')", "cql2-text", lambda d: d["area_mu"].between(100, 400) & (d["use"] != "工业")),
        ("supply_method IS NULL", "cql2-text", lambda d: d["supply_method"].isna()),
        ("CASEI(use) = CASEI('工业')", "cql2-text", lambda d: d["use"] == "工业"),
        ('{"op": ">=", "args": [{"property": "seq"}, 5]}', "cql2-json", lambda d: d["seq"] >= 5),
        ('{"op": "in", "args": [{"property": "id"}, ["RP-01", "RP-03"]]}', "cql2-json", lambda d: d["id"].isin(["RP-01", "RP-03"])),
    ],
)
def test_cql2_attribute_filters_match_pandas(env, cql, lang, pick):
    store, c, _ = env
    d = store.read_layer("reserve_parcels")
    expected = sorted(d[pick(d).fillna(False).astype(bool)]["id"])
    body = c.get("/collections/reserve_parcels/items", params={"filter": cql, "filter-lang": lang}).json()
    assert sorted(ids(body)) == expected
    assert body["numberMatched"] == len(expected)


def test_cql2_spatial_filters_match_shapely(env):
    store, c, _ = env
    gdf = store.read_layer("park_zones")
    target = gdf.geometry.iloc[0].centroid.buffer(0.01)
    expected_i = sorted(gdf[gdf.intersects(target)]["id"])
    expected_w = sorted(gdf[gdf.within(shapely.box(*gdf.total_bounds).buffer(0.001))]["id"])
    text = c.get("/collections/park_zones/items", params={"filter": f"S_INTERSECTS(geometry, {target.wkt})"}).json()
    assert sorted(ids(text)) == expected_i and expected_i
    js = {"op": "s_intersects", "args": [{"property": "geometry"}, json.loads(shapely.to_geojson(target))]}
    assert sorted(ids(c.get("/collections/park_zones/items", params={"filter": json.dumps(js), "filter-lang": "cql2-json"}).json())) == expected_i
    x0, y0, x1, y1 = shapely.box(*gdf.total_bounds).buffer(0.001).bounds
    within = c.get("/collections/park_zones/items", params={"filter": f"S_WITHIN(geometry, BBOX({x0},{y0},{x1},{y1}))", "limit": 1000}).json()
    assert sorted(ids(within)) == expected_w
    disjoint = c.get("/collections/park_zones/items", params={"filter": f"S_DISJOINT(geometry, {target.wkt})", "limit": 1000}).json()
    assert sorted(ids(disjoint)) == sorted(set(gdf["id"]) - set(expected_i))


def test_sortby_properties_and_property_params(env):
    store, c, _ = env
    d = store.read_layer("reserve_parcels")
    body = c.get("/collections/reserve_parcels/items", params={"sortby": "-area_mu", "properties": "name,area_mu"}).json()
    assert ids(body) == d.sort_values("area_mu", ascending=False, kind="stable")["id"].tolist()
    assert set(body["features"][0]["properties"]) == {"name", "area_mu"}
    by_use = c.get("/collections/reserve_parcels/items", params={"use": "居住"}).json()
    assert sorted(ids(by_use)) == sorted(d[d["use"] == "居住"]["id"])


def test_item_by_id_and_404(env):
    store, c, _ = env
    r = c.get("/collections/reserve_parcels/items/RP-02")
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    feat = r.json()
    assert feat["id"] == "RP-02" and feat["properties"]["name"] == store.get_feature("reserve_parcels", "RP-02")["name"]
    problem(c.get("/collections/reserve_parcels/items/NOPE"), 404)
    problem(c.get("/collections/nope/items"), 404)


HOSTILE = [
    {"limit": "abc"},
    {"limit": "0"},
    {"offset": "-1"},
    {"offset": "99999999999999999999"},
    {"bbox": "1,2,3"},
    {"bbox": "a,b,c,d"},
    {"bbox": "3,3,1,1"},
    {"bbox": "nan,1,2,3"},
    {"bbox": "1e308,1e308,1e308,1e308", "bbox-crs": "EPSG:3857", "_ok": "either"},
    {"crs": "EPSG:9999"},
    {"bbox-crs": "foo"},
    {"f": "xml"},
    {"filter": "area_mu ="},
    {"filter": "area_mu = 'x'"},
    {"filter": "nosuch = 1"},
    {"filter": "name > 5"},
    {"filter": "tax > 0"},
    {"filter": "1; DROP TABLE reserve_parcels"},
    {"filter": "name = 'a'; DROP TABLE reserve_parcels --'"},
    {"filter": "\"name\" = 'x') OR (1=1"},
    {"filter": "S_INTERSECTS(geometry, POINT(1e999 0))"},
    {"filter": "S_INTERSECTS(geometry, POLYGON((0 0, 1 1, 1 0, 0 1, 0 0)))", "_ok": True},
    {"filter": "T_AFTER(status_date, DATE('2020-01-01'))"},
    {"filter": "area_mu + 1 > 2"},
    {"filter": "area_mu / 0 > 2"},
    {"filter": "(" * 500 + "seq = 1" + ")" * 500, "_ok": "either"},
    {"filter": " AND ".join(["seq = 1"] * 3000)},
    {"filter": '{"op": "=", "args": [{"property": "seq"}]}', "filter-lang": "cql2-json"},
    {"filter": "{not json", "filter-lang": "cql2-json"},
    {"filter": "seq = 1", "filter-lang": "sql"},
    {"filter": "status_date > DATE('2020-13-45')"},
    {"sortby": "nosuch"},
    {"sortby": "-tax"},
    {"properties": "tax"},
    {"properties": "nosuch"},
    {"unknown_param": "1"},
    {"seq": "abc"},
]


@pytest.mark.parametrize("params", HOSTILE, ids=[str(i) for i in range(len(HOSTILE))])
def test_bad_input_is_a_clear_400_never_500(env, params):
    store, c, _ = env
    params = dict(params)
    ok = params.pop("_ok", False)
    r = c.get("/collections/reserve_parcels/items", params=params)
    if ok == "either":
        assert r.status_code in (200, 400), r.text
    elif ok:
        assert r.status_code == 200, r.text
    else:
        problem(r, 400)
    assert store.count("reserve_parcels") == 9  # nothing dropped, nothing injected


def test_html_pages_in_chinese(env):
    _, c, _ = env
    for path in ("/", "/collections", "/collections/reserve_parcels", "/collections/reserve_parcels/items", "/collections/reserve_parcels/items/RP-01", "/collections/reserve_parcels/queryables"):
        r = c.get(path, headers={"Accept": "text/html"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), path
        assert "南阳高新区" in r.text
    assert "储备地块" in c.get("/collections/reserve_parcels/items?f=html").text


def test_queryables_carry_chinese_titles(env):
    _, c, keys = env
    q = c.get("/collections/reserve_parcels/queryables")
    assert q.headers["content-type"].startswith("application/schema+json")
    props = q.json()["properties"]
    assert props["use"]["title"] == "用途" and props["area_mu"]["type"] == "number" and props["seq"]["type"] == "integer"
    ent = c.get("/collections/enterprises/queryables", headers={"Authorization": f"Bearer {keys['analyst']}"}).json()["properties"]
    assert ent["tax"]["title"] == "实缴税收(万元)"


# --- vector tiles: `properties=` (issue 6: tiles carry only what the map draws) ---------------


def _tile_path(store, layer: str, z: int = 14) -> str:
    import morecantile

    p = store.read_layer(layer).geometry.iloc[0].representative_point()
    t = morecantile.tms.get("WebMercatorQuad").tile(p.x, p.y, z)
    return f"/collections/{layer}/tiles/WebMercatorQuad/{t.z}/{t.x}/{t.y}"


def _tile_props(r, layer: str) -> list[dict]:
    import mapbox_vector_tile

    assert r.status_code == 200, r.text
    return [f["properties"] for f in mapbox_vector_tile.decode(r.content)[layer]["features"]]


def test_tile_properties_limit_the_attributes(env):
    store, c, _ = env
    path = _tile_path(store, "reserve_parcels")
    gdf = store.read_layer("reserve_parcels")
    full = _tile_props(c.get(path), "reserve_parcels")
    # default: every visible column (non-null ones) of the layer, as before
    visible = set(gdf.columns) - {"geometry"}
    assert set().union(*(p.keys() for p in full)) <= visible
    assert {"id", "name", "use", "status", "area_mu"} <= set().union(*(p.keys() for p in full))
    some = _tile_props(c.get(path, params={"properties": "id,use"}), "reserve_parcels")
    assert len(some) == len(full) and all(set(p) <= {"id", "use"} and "id" in p for p in some)
    by_id = gdf.set_index("id")["use"]
    assert all(p.get("use") == by_id[p["id"]] for p in some if "use" in p)
    assert {p["id"] for p in some} == {p["id"] for p in full}
    only_id = _tile_props(c.get(path, params={"properties": " id , id "}), "reserve_parcels")
    assert all(set(p) == {"id"} for p in only_id)


def test_tile_properties_are_validated_like_items(env):
    store, c, keys = env
    path = _tile_path(store, "reserve_parcels")
    body = problem(c.get(path, params={"properties": "id,no_such_field"}), 400)
    assert "no_such_field" in body["detail"]
    problem(c.get(path, params={"properties": "id,tax"}), 400)  # restricted field: never via tiles
    ent = _tile_path(store, "enterprises")
    assert c.get(ent, params={"properties": "id,tax"}).status_code == 401
    props = _tile_props(c.get(ent, params={"properties": "id,tax"}, headers={"Authorization": f"Bearer {keys['analyst']}"}), "enterprises")
    assert props and all(set(p) <= {"id", "tax"} for p in props) and any("tax" in p for p in props)


def test_tile_etag_and_cache_depend_on_properties(env):
    store, c, _ = env
    path = _tile_path(store, "reserve_parcels")
    a = c.get(path, params={"properties": "id,use"})
    b = c.get(path, params={"properties": "id,status"})
    full = c.get(path)
    etags = {a.headers["etag"], b.headers["etag"], full.headers["etag"]}
    assert len(etags) == 3
    # an ETag of one property list never validates another list
    assert c.get(path, params={"properties": "id,status"}, headers={"If-None-Match": a.headers["etag"]}).status_code == 200
    assert c.get(path, params={"properties": "id,use"}, headers={"If-None-Match": a.headers["etag"]}).status_code == 304
    # the cached full tile is not served for a restricted list (and vice versa)
    assert all(set(p) <= {"id", "status"} for p in _tile_props(c.get(path, params={"properties": "id,status"}), "reserve_parcels"))
    assert any("name" in p for p in _tile_props(c.get(path), "reserve_parcels"))
