"""Access control (SPEC §8.4) and vector tiles (§8.2) on both stores, and `landgis keys`."""

from __future__ import annotations

import subprocess
import sys
import warnings

import mapbox_vector_tile
import morecantile
import pytest
from api_support import sample_api

warnings.filterwarnings("ignore", category=DeprecationWarning)


from parcels.schema import ECONOMIC_FIELDS  # noqa: E402

ECONOMIC = {f.name for f in ECONOMIC_FIELDS}


@pytest.fixture(scope="module", params=["geopackage", "postgis"])
def env(request, tmp_path_factory):
    yield from sample_api(request.param, tmp_path_factory.mktemp("acc"))


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def test_anonymous_never_sees_restricted_layers_or_fields(env):
    store, c, _ = env
    for path in ("/collections/enterprises", "/collections/enterprises/items", "/collections/enterprises/items/" + store.read_layer("enterprises")["id"].iloc[0], "/collections/enterprises/queryables", "/collections/industrial_parcels/items"):
        r = c.get(path)
        assert r.status_code == 401, path
        assert r.headers["www-authenticate"].startswith("Bearer")
        assert r.headers["content-type"].startswith("application/problem+json")
        assert not ECONOMIC & set(r.text.split('"'))
    # a public layer that somehow carries an economic field: stripped for anonymous callers
    gdf = store.read_layer("roads")
    gdf["tax"] = 123.0
    from parcels.layers import prepare_features

    ready, _ = prepare_features("roads", gdf)
    ready["tax"] = 123.0
    store.import_features("roads", ready, mode="replace", user="test", geometry_type="MULTILINESTRING")
    from api.dependencies import LayerCatalog

    LayerCatalog.invalidate()
    body = c.get("/collections/roads/items").json()
    assert all("tax" not in f["properties"] for f in body["features"])
    assert "tax" not in c.get("/collections/roads/queryables").json()["properties"]
    assert c.get("/collections/roads/items", params={"filter": "tax > 0"}).status_code == 400
    assert c.get("/collections/roads/items", params={"tax": "123"}).status_code == 400
    full = c.get("/collections/roads/items", headers=bearer(env[2]["analyst"])).json()
    assert all(f["properties"]["tax"] == 123.0 for f in full["features"])


def test_analyst_reads_enterprise_economics(env):
    store, c, keys = env
    ent = store.read_layer("enterprises")
    body = c.get("/collections/enterprises/items", params={"limit": 1000}, headers=bearer(keys["analyst"])).json()
    assert body["numberMatched"] == len(ent)
    first = body["features"][0]["properties"]
    assert {"tax", "revenue", "energy_tce"} <= set(first)
    total = sum(f["properties"]["tax"] or 0 for f in body["features"])
    assert total == pytest.approx(float(ent["tax"].fillna(0).sum()))
    flt = c.get("/collections/enterprises/items", params={"filter": "tax > 100", "limit": 1000}, headers=bearer(keys["admin"])).json()
    assert sorted(f["id"] for f in flt["features"]) == sorted(ent[ent["tax"] > 100]["id"])


def test_wrong_key_401_wrong_role_403_revocation(env):
    from api.auth import KeyRing, add_key, revoke_key

    store, c, keys = env
    for header in ("Bearer lgk_not-a-key", "Bearer nonsense", "Basic dXNlcjpwYXNz", "Bearer "):
        r = c.get("/collections/reserve_parcels/items", headers={"Authorization": header})
        assert r.status_code == 401, header
        assert "密钥" in r.json()["detail"] or "认证" in r.json()["detail"]
    assert c.get("/keys", headers=bearer(keys["analyst"])).status_code == 403
    assert c.get("/keys").status_code == 401
    listed = c.get("/keys", headers=bearer(keys["admin"])).json()["keys"]
    assert {"ana", "adm"} <= {k["name"] for k in listed}
    assert all("hash" not in k for k in listed)
    temp = add_key(store, "temp", "analyst", user="test")
    assert c.get("/collections/enterprises/items?limit=1", headers=bearer(temp)).status_code == 200
    revoke_key(store, "temp", user="test")
    KeyRing.invalidate()
    assert c.get("/collections/enterprises/items?limit=1", headers=bearer(temp)).status_code == 401
    # only the hash is stored
    doc = store.get_records("api_key")["ana"]
    assert keys["analyst"] not in str(doc) and len(doc["hash"]) == 64


def _tile_of(geom, z=14):
    p = geom.representative_point()
    return morecantile.tms.get("WebMercatorQuad").tile(p.x, p.y, z)


def test_mvt_tiles_decode_and_respect_roles(env):
    store, c, keys = env
    parcels = store.read_layer("reserve_parcels")
    t = _tile_of(parcels.geometry.iloc[0])
    r = c.get(f"/collections/reserve_parcels/tiles/WebMercatorQuad/{t.z}/{t.x}/{t.y}")
    assert r.status_code == 200 and r.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    assert r.headers["cache-control"].startswith("public")
    tile = mapbox_vector_tile.decode(r.content)
    feats = tile["reserve_parcels"]["features"]
    assert parcels["id"].iloc[0] in {f["properties"]["id"] for f in feats}
    again = c.get(f"/collections/reserve_parcels/tiles/WebMercatorQuad/{t.z}/{t.x}/{t.y}", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304
    ent = store.read_layer("enterprises")
    te = _tile_of(ent.geometry.iloc[0])
    path = f"/collections/enterprises/tiles/WebMercatorQuad/{te.z}/{te.x}/{te.y}"
    assert c.get(path).status_code == 401
    r = c.get(path, headers=bearer(keys["analyst"]))
    assert r.status_code == 200 and r.headers["cache-control"].startswith("private")
    props = mapbox_vector_tile.decode(r.content)["enterprises"]["features"][0]["properties"]
    assert "tax" in props
    for bad in ("/collections/reserve_parcels/tiles/WebMercatorQuad/30/0/0", "/collections/reserve_parcels/tiles/WebMercatorQuad/3/8/0", "/collections/reserve_parcels/tiles/WebMercatorQuad/a/0/0"):
        assert c.get(bad).status_code in (400, 422) and c.get(bad).status_code != 500


def test_tile_geometry_lies_where_the_parcel_is(env):
    """Decode a z16 tile and check the parcel's vertices come back at the right tile pixels."""
    import numpy as np
    import shapely

    from gis.crs import transformer

    store, c, _ = env
    g = store.read_layer("reserve_parcels").geometry.iloc[0]
    t = _tile_of(g, 16)
    data = c.get(f"/collections/reserve_parcels/tiles/WebMercatorQuad/{t.z}/{t.x}/{t.y}").content
    feats = mapbox_vector_tile.decode(data, default_options={"y_coord_down": False})["reserve_parcels"]["features"]
    tile_geom = shapely.geometry.shape(next(f for f in feats if f["properties"]["id"] == "RP-01")["geometry"])
    b = morecantile.tms.get("WebMercatorQuad").xy_bounds(t)
    tr = transformer(4490, 3857)
    merc = shapely.transform(g, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
    clip = shapely.clip_by_rect(merc, b.left, b.bottom, b.right, b.top)
    px = shapely.affinity.affine_transform(clip, [4096 / (b.right - b.left), 0, 0, 4096 / (b.top - b.bottom), -b.left * 4096 / (b.right - b.left), -b.bottom * 4096 / (b.top - b.bottom)])
    assert tile_geom.intersection(px).area / px.area > 0.97


def test_keys_cli(tmp_path):
    db = str(tmp_path / "k.gpkg")
    run = lambda *a: subprocess.run([sys.executable, "-m", "api.cli", "keys", *a, "--store", db], capture_output=True, text=True)  # noqa: E731
    r = run("add", "wang", "--role", "analyst")
    assert r.returncode == 0, r.stderr
    key = r.stdout.strip().splitlines()[-1]
    assert key.startswith("lgk_") and len(key) > 40
    from api.auth import KeyRing, principal_from_header
    from gis.store import open_store

    s = open_store(db)
    assert principal_from_header(s, f"Bearer {key}").role == "analyst"
    assert run("add", "li", "--role", "boss").returncode == 1
    listed = run("list")
    assert "wang" in listed.stdout and key not in listed.stdout
    assert run("revoke", "wang").returncode == 0
    KeyRing.invalidate()
    with pytest.raises(Exception):
        principal_from_header(s, f"Bearer {key}")
    assert run("revoke", "nobody").returncode == 1
