"""Interoperability edges of the API (SPEC §8.1, §8.2; issue 18), in-process on both stores:
CORS on every answer (errors and 500s included) and preflights allowing `Authorization`; `HEAD` on
every GET route; keys as HTTP Basic beside Bearer with the same roles; per-collection JSON Schemas
(describedby and the OGC schema rel) with types, Chinese titles and units; a fully typed OpenAPI
document; OGC API – Tiles metadata, TileJSON and the MapLibre style, all under the access rule.
The real clients (GDAL, OWSLib, MapLibre in Chromium) are in test_api_clients.py and
test_maplibre_cross_origin.py."""

from __future__ import annotations

import base64
import warnings

import morecantile
import pytest
from api_support import sample_api

warnings.filterwarnings("ignore", category=DeprecationWarning)

ORIGIN = "http://127.0.0.1:18601"
SCHEMA_REL = "http://www.opengis.net/def/rel/ogc/1.0/schema"


@pytest.fixture(scope="module", params=["geopackage", "postgis"])
def env(request, tmp_path_factory):
    yield from sample_api(request.param, tmp_path_factory.mktemp("interop"))


def basic(key: str, user: str = "x") -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{key}".encode("utf-8")).decode("ascii")}


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def _tile(z: int = 14) -> str:
    t = morecantile.tms.get("WebMercatorQuad").tile(112.52, 33.04, z)
    return f"{t.z}/{t.x}/{t.y}"


def _plant_tax_on_roads(store) -> None:
    """A public layer that an import gave an economic field (SPEC §8.4): the rule is by name."""
    from api.dependencies import LayerCatalog
    from parcels.layers import prepare_features

    gdf = store.read_layer("roads")
    if "tax" in gdf.columns:
        return
    ready, _ = prepare_features("roads", gdf)
    ready["tax"] = 123.0
    store.import_features("roads", ready, mode="replace", user="test", geometry_type="MULTILINESTRING")
    LayerCatalog.invalidate()


# --- CORS -------------------------------------------------------------------------------------

def test_preflight_allows_authorization_on_every_kind_of_route(env):
    _, c, _ = env
    for path, method in (("/collections/enterprises/items", "GET"), ("/collections/reserve_parcels/tiles/WebMercatorQuad/14/1/1", "GET"), ("/scoring/efficiency", "POST"), ("/collections/reserve_parcels/items/RP-01", "PATCH")):
        r = c.options(path, headers={"Origin": ORIGIN, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": "authorization,content-type"})
        assert r.status_code == 200, (path, r.text)
        assert r.headers["access-control-allow-origin"] == "*"
        assert "authorization" in r.headers["access-control-allow-headers"].lower()
        assert method in r.headers["access-control-allow-methods"]
        assert "access-control-allow-credentials" not in r.headers  # never with `*`


def test_cors_headers_on_answers_and_errors(env, monkeypatch):
    store, c, keys = env
    h = {"Origin": ORIGIN}
    cases = [
        ("/collections/reserve_parcels/items", {}, 200),
        ("/collections/enterprises/items", {}, 401),
        ("/collections/enterprises/items", basic(keys["analyst"]), 200),
        ("/keys", bearer(keys["analyst"]), 403),
        ("/collections/nosuch", {}, 404),
        ("/collections/reserve_parcels/items?limit=0", {}, 400),
        (f"/collections/reserve_parcels/tiles/WebMercatorQuad/{_tile(z=10)}", {}, 200),
    ]
    for path, extra, status in cases:
        r = c.get(path, headers={**h, **extra})
        assert r.status_code == status, (path, r.status_code, r.text[:200])
        assert r.headers.get("access-control-allow-origin") == "*", (path, dict(r.headers))
        assert "etag" in r.headers.get("access-control-expose-headers", "").lower()
    r = c.post("/collections", headers=h)  # 405 from the router
    assert r.status_code == 405 and r.headers.get("access-control-allow-origin") == "*"

    # An unforeseen error (500) is answered by Starlette's outermost layer: CORS must wrap it too.
    from fastapi.testclient import TestClient

    app = c.app
    monkeypatch.setattr(type(store), "extent", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("boom")))
    with TestClient(app, raise_server_exceptions=False) as c500:
        r = c500.get("/collections/reserve_parcels", headers=h)
    assert r.status_code == 500 and r.headers["content-type"].startswith("application/problem+json")
    assert r.headers.get("access-control-allow-origin") == "*", dict(r.headers)
    assert "boom" not in r.text


def test_listed_origins_only(env):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.settings import Settings

    store, _, _ = env
    portal = "https://yzt.example.gov.cn"
    c = TestClient(create_app(Settings(store=store.url, cors_origins=f"{portal}, http://10.1.2.3:8080/"), store=store))
    r = c.get("/collections", headers={"Origin": portal})
    assert r.headers["access-control-allow-origin"] == portal and r.headers["access-control-allow-credentials"] == "true"
    assert "origin" in r.headers["vary"].lower()
    assert c.get("/collections", headers={"Origin": "http://10.1.2.3:8080"}).headers["access-control-allow-origin"] == "http://10.1.2.3:8080"
    other = c.get("/collections", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
    refused = c.options("/collections", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"})
    assert refused.status_code == 400 and refused.headers["content-type"].startswith("application/problem+json")
    assert "LANDGIS_CORS_ORIGINS" in refused.json()["detail"]


# --- HEAD -------------------------------------------------------------------------------------

def _concrete(template: str, ids: dict) -> tuple[str, dict]:
    """A request to each GET template that gets past validation where it can, cheaply."""
    params = {
        "/study/package": {"scenario": "no_such_scenario"},
        "/maps/{name}/print": {"format": "svg"},
        "/collections/{collectionId}/items": {"limit": 3},
    }.get(template, {})
    path = (
        template.replace("{collectionId}", "reserve_parcels").replace("{featureId}", ids["reserve"]).replace("{tileMatrixSetId}", "WebMercatorQuad")
        .replace("{z}/{x}/{y}", _tile()).replace("{name}", "parcels").replace("{run_id}", "no-such-run").replace("{parcel_id}", ids["reserve"]).replace("{job_id}", "no-such-job")
        .replace("{jobId}", "no-such-job").replace("{processId}", "study-package").replace("{enterprise_id}", ids.get("enterprise", "no-such-enterprise"))
    )
    return path, params


def test_head_on_every_get_route(env):
    store, c, keys = env
    ids = {"reserve": str(store.read_layer("reserve_parcels")["id"].iloc[0]), "enterprise": str(store.read_layer("enterprises")["enterprise_id"].iloc[0])}
    gets = sorted(p for p, ops in c.app.openapi()["paths"].items() if "get" in ops)
    assert "/collections/{collectionId}/tiles/{tileMatrixSetId}/tilejson.json" in gets
    checked = 0
    for template in gets + ["/api", "/static/maps/landgis-maps.js"]:
        path, params = _concrete(template, ids)
        if "{" in path:
            pytest.fail(f"no sample value for {template}")
        g = c.get(path, params=params, headers=bearer(keys["analyst"]))
        hd = c.head(path, params=params, headers=bearer(keys["analyst"]))
        assert hd.status_code == g.status_code, (path, hd.status_code, g.status_code)
        assert hd.content == b"", path
        assert hd.headers.get("content-type") == g.headers.get("content-type"), (path, hd.headers, g.headers)
        if "content-length" in hd.headers:
            assert hd.headers["content-length"] == g.headers["content-length"], path
        checked += 1
    assert checked >= 25
    anon = c.head("/collections/enterprises/items")
    assert anon.status_code == 401 and anon.content == b"" and "Basic" in anon.headers["www-authenticate"]


def test_head_does_not_build_costly_bodies(env, monkeypatch):
    _, c, _ = env
    import api.routers.maps as maps_router
    import services.map_print as map_print

    def never(*a, **k):
        raise AssertionError("a HEAD built the body")

    monkeypatch.setattr(maps_router, "render_page", never)
    monkeypatch.setattr(map_print, "print_map", never)
    r = c.head("/maps/parcels", params={"basemap": "osm"})  # a page not in the revision cache
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html") and "content-length" not in r.headers
    r = c.head("/maps/parcels/print", params={"format": "png"})
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    r = c.head("/collections/reserve_parcels/items", params={"limit": 10000})
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json" and "content-length" not in r.headers
    assert c.head("/collections/reserve_parcels/items", params={"filter": "nosuch > 1"}).status_code == 400


# --- HTTP Basic -------------------------------------------------------------------------------

def test_basic_auth_same_roles_as_bearer(env):
    store, c, keys = env
    for user in ("x", "", "张三", "analyst@nanyang"):
        r = c.get("/collections/enterprises/items", params={"limit": 2}, headers=basic(keys["analyst"], user))
        assert r.status_code == 200 and "tax" in r.json()["features"][0]["properties"], (user, r.text[:200])
    assert c.get("/keys", headers=basic(keys["analyst"])).status_code == 403
    assert c.get("/keys", headers=basic(keys["admin"])).status_code == 200
    bad = {
        "Basic !!!not-base64": "Base64",
        "Basic " + base64.b64encode(b"only-a-user").decode(): "密码",
        "Basic " + base64.b64encode(b"x:").decode(): "密码",
        "Basic " + base64.b64encode(b"x:lgk_wrong").decode(): "无效",
        "Basic " + base64.b64encode(b"x:password").decode(): "无效",
        "Digest abc": "Basic",
    }
    for header, word in bad.items():
        r = c.get("/collections/reserve_parcels", headers={"Authorization": header})
        assert r.status_code == 401, header
        assert word in r.json()["detail"], (header, r.json()["detail"])
        assert r.headers.get_list("www-authenticate") == ['Bearer realm="landgis"', 'Basic realm="landgis", charset="UTF-8"']

    from api.auth import add_key, revoke_key

    # A form another website posts carries the browser's remembered Basic login: refused for writes.
    imp = "/collections/park_zones/import"
    assert c.post(imp, data={"mode": "append"}, headers=basic(keys["admin"])).status_code in (400, 422)  # GIS client / script
    for browser in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}, {"Origin": "null"}):
        r = c.post(imp, data={"mode": "append"}, headers={**basic(keys["admin"]), **browser})
        assert r.status_code == 403 and "Bearer" in r.json()["detail"], (browser, r.text[:200])
        assert c.post(imp, data={"mode": "append"}, headers={**bearer(keys["admin"]), **browser}).status_code in (400, 422)
    same = {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}
    assert c.post(imp, data={"mode": "append"}, headers={**basic(keys["admin"]), **same}).status_code in (400, 422)
    assert c.get("/collections/enterprises", headers={**basic(keys["analyst"]), "Origin": "https://evil.example"}).status_code == 200  # reads: CORS decides

    key = add_key(store, "basic-revoked", "analyst", user="test")
    assert c.get("/collections/enterprises", headers=basic(key)).status_code == 200
    revoke_key(store, "basic-revoked", user="test")
    assert c.get("/collections/enterprises", headers=basic(key)).status_code == 401


# --- JSON Schemas -----------------------------------------------------------------------------

def test_collection_links_schemas_and_tilesets(env):
    _, c, _ = env
    links = c.get("/collections/reserve_parcels").json()["links"]
    rels = {link["rel"]: link for link in links}
    assert rels["describedby"]["type"] == "application/schema+json" and rels["describedby"]["href"].endswith("/collections/reserve_parcels/schemas/feature")
    assert rels[SCHEMA_REL]["href"].endswith("/collections/reserve_parcels/schema")
    assert rels["http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"]["href"].endswith("/collections/reserve_parcels/tiles")
    assert "item" not in rels  # a tile template is not a feature


def test_feature_schema_types_titles_units(env):
    store, c, keys = env
    doc = c.get("/collections/reserve_parcels/schemas/feature")
    assert doc.headers["content-type"].startswith("application/schema+json")
    props = doc.json()["properties"]["properties"]["properties"]
    assert props["sl_tax_per_mu"] == {"type": "number", "title": "亩均税收下限(万元/亩)", "x-ogc-unit": "万元/亩", "x-nullable": True}
    assert props["seq"]["type"] == "integer" and props["status_date"]["format"] == "date" and props["name"]["type"] == "string"
    assert "id" not in props  # described once, as the feature's id
    assert set(props) == set(store.columns("reserve_parcels")) - {"id", "geometry"}
    part5 = c.get("/collections/reserve_parcels/schema").json()["properties"]
    assert part5["geometry"]["x-ogc-role"] == "primary-geometry" and part5["geometry"]["format"] == "geometry-multipolygon"
    assert part5["id"]["x-ogc-role"] == "id" and part5["area_mu"]["type"] == "number"
    ent = c.get("/collections/enterprises/schema", headers=basic(keys["analyst"])).json()["properties"]
    from parcels import vocabulary

    assert ent["tax"]["type"] == "number" and ent["employees"]["type"] == "integer"
    assert ent["tax"]["title"] == vocabulary.label_with_unit("tax") and ent["tax"]["x-ogc-unit"] == vocabulary.unit("tax") != ""


def test_restricted_fields_absent_from_schemas_tiles_metadata_without_analyst(env):
    store, c, keys = env
    _plant_tax_on_roads(store)
    docs = {
        "schema": ("/collections/roads/schema", lambda d: d["properties"]),
        "feature": ("/collections/roads/schemas/feature", lambda d: d["properties"]["properties"]["properties"]),
        "tilejson": ("/collections/roads/tiles/WebMercatorQuad/tilejson.json", lambda d: d["vector_layers"][0]["fields"]),
        "tileset": ("/collections/roads/tiles/WebMercatorQuad", lambda d: d["layers"][0]["propertiesSchema"]["properties"]),
    }
    for name, (path, fields) in docs.items():
        anon = c.get(path)
        assert anon.status_code == 200 and "tax" not in fields(anon.json()) and "tax" not in anon.text, name
        assert "tax" in fields(c.get(path, headers=basic(keys["analyst"])).json()), name
    assert c.get("/collections/enterprises/tiles/WebMercatorQuad/tilejson.json").status_code == 401


# --- OpenAPI ----------------------------------------------------------------------------------

def test_openapi_types_every_parameter(env):
    _, c, _ = env
    for doc in (c.get("/openapi.json").json(), c.get("/api").json()):
        params = {p["name"]: p for p in doc["paths"]["/collections/{collectionId}/items"]["get"]["parameters"]}
        assert {k: params["limit"]["schema"][k] for k in ("type", "minimum", "maximum", "default")} == {"type": "integer", "minimum": 1, "maximum": 10000, "default": 100}
        assert params["offset"]["schema"]["type"] == "integer" and params["offset"]["schema"]["minimum"] == 0
        assert params["filter-lang"]["schema"]["enum"] == ["cql2-text", "cql2-json"]
        assert params["f"]["schema"]["enum"] == ["json", "html"]
        assert params["bbox"]["schema"]["type"] == "array" and params["bbox"]["explode"] is False
        assert "http://www.opengis.net/def/crs/OGC/1.3/CRS84" in params["crs"]["schema"]["enum"]
        untyped = [(path, p["name"]) for path, ops in doc["paths"].items() for op in ops.values() for p in op.get("parameters", []) if "type" not in p["schema"] and "enum" not in p["schema"]]
        assert not untyped, untyped
    r = c.get("/collections/reserve_parcels/items", params={"limit": "abc"})
    assert r.status_code == 400 and "limit" in r.json()["detail"]
    assert c.get("/collections/reserve_parcels/items", params={"limit": 20000}).status_code == 200  # served as the maximum


# --- OGC API – Tiles, TileJSON, style -----------------------------------------------------------

def test_tiles_metadata_and_tilejson(env):
    import mapbox_vector_tile

    store, c, _ = env
    conf = c.get("/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core" in conf and "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt" in conf
    assert [t["id"] for t in c.get("/tileMatrixSets").json()["tileMatrixSets"]] == ["WebMercatorQuad"]
    tms = c.get("/tileMatrixSets/WebMercatorQuad").json()
    assert tms["crs"].endswith("EPSG/0/3857") and len(tms["tileMatrices"]) == 25 and tms["tileMatrices"][14]["matrixWidth"] == 2**14
    missing = c.get("/tileMatrixSets/WorldCRS84Quad")
    assert missing.status_code == 404 and "WebMercatorQuad" in missing.json()["detail"]

    sets = c.get("/collections/reserve_parcels/tiles").json()["tilesets"]
    assert sets[0]["dataType"] == "vector" and sets[0]["tileMatrixSetURI"].endswith("/WebMercatorQuad")
    ts = c.get("/collections/reserve_parcels/tiles/WebMercatorQuad").json()
    item = [link for link in ts["links"] if link["rel"] == "item"][0]
    assert item["templated"] and item["type"] == "application/vnd.mapbox-vector-tile"
    t = morecantile.tms.get("WebMercatorQuad").tile(*store.read_layer("reserve_parcels").geometry.iloc[0].representative_point().coords[0], 14)
    href = item["href"].replace("{tileMatrix}", str(t.z)).replace("{tileCol}", str(t.x)).replace("{tileRow}", str(t.y))
    assert "reserve_parcels" in mapbox_vector_tile.decode(c.get(href.replace("http://testserver", "")).content)

    tj = c.get("/collections/reserve_parcels/tiles/WebMercatorQuad/tilejson.json").json()
    assert tj["tilejson"] == "3.0.0" and tj["minzoom"] == 0 and tj["maxzoom"] >= 16
    ext = store.extent("reserve_parcels")
    assert tj["bounds"] == pytest.approx(list(ext))
    layer = tj["vector_layers"][0]
    assert layer["id"] == "reserve_parcels" and set(layer["fields"]) == set(store.columns("reserve_parcels")) - {"geometry"}
    assert layer["fields"]["sl_tax_per_mu"].startswith("亩均税收下限") and layer["fields"]["sl_tax_per_mu"].endswith("(Number)")
    url = tj["tiles"][0].replace("{z}", str(t.z)).replace("{x}", str(t.x)).replace("{y}", str(t.y))
    tile = c.get(url.replace("http://testserver", ""))
    assert tile.status_code == 200 and "reserve_parcels" in mapbox_vector_tile.decode(tile.content)


def test_maplibre_style_of_the_parcels_map(env):
    from maps.palette import land_use_colour

    store, c, keys = env
    r = c.get("/maps/parcels/style.json")
    assert r.status_code == 200
    style = r.json()
    assert style["version"] == 8 and "glyphs" not in style and "sprite" not in style
    assert all(src["url"].startswith("http://testserver/collections/") and src["url"].endswith("/tiles/WebMercatorQuad/tilejson.json") for src in style["sources"].values())
    fill = next(layer for layer in style["layers"] if layer["id"] == "reserve_parcels-fill")["paint"]["fill-color"]
    pairs = dict(zip(fill[2:-1:2], fill[3:-1:2]))
    uses = set(store.read_layer("reserve_parcels")["use"].dropna())
    assert pairs == {u: land_use_colour(u) for u in uses}
    labels = [layer for layer in style["layers"] if layer["type"] == "symbol"]
    assert {layer["id"] for layer in labels} >= {"reserve_parcels-label", "park_zones-label", "roads-label"}
    assert all("text-font" in layer["layout"] for layer in labels)
    assert not [layer for layer in c.get("/maps/parcels/style.json", params={"labels": "false"}).json()["layers"] if layer["type"] == "symbol"]
    assert c.get("/maps/efficiency/style.json").status_code == 401
    other = c.get("/maps/efficiency/style.json", headers=basic(keys["analyst"]))
    assert other.status_code == 404 and "/maps/efficiency" in other.json()["detail"]
    assert c.get("/maps/nosuch/style.json").status_code == 404
