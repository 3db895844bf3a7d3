"""The revision-keyed tile cache: a cached tile is served until the layer changes, and any write —
through landgis or straight into the database — shows in the very next tile."""

from __future__ import annotations

import mapbox_vector_tile
import morecantile
import psycopg
import pytest
from api_support import sample_api

from gis.store.cache import TileCache


@pytest.fixture(params=["geopackage", "postgis"])
def env(request, tmp_path):
    yield from sample_api(request.param, tmp_path)


def _path(store, fid: str) -> str:
    gdf = store.read_layer("reserve_parcels").set_index("id")
    p = gdf.geometry[fid].representative_point()
    t = morecantile.tms.get("WebMercatorQuad").tile(p.x, p.y, 15)
    return f"/collections/reserve_parcels/tiles/WebMercatorQuad/{t.z}/{t.x}/{t.y}"


def _names(r) -> dict[str, str]:
    assert r.status_code == 200, r.text
    feats = mapbox_vector_tile.decode(r.content)["reserve_parcels"]["features"]
    return {f["properties"]["id"]: f["properties"].get("name") for f in feats}


def _count_encodes(monkeypatch) -> list[int]:
    from gis.store.geopackage import GeoPackageStore
    from gis.store.postgis import PostGISStore

    calls = [0]
    for cls in (GeoPackageStore, PostGISStore):  # each store builds its own tiles (Store.tile)
        real = cls.tile

        def counted(*a, _real=real, **k):
            calls[0] += 1
            return _real(*a, **k)

        monkeypatch.setattr(cls, "tile", counted)
    return calls


def test_cached_until_an_edit_then_fresh(env, monkeypatch):
    store, c, keys = env
    calls = _count_encodes(monkeypatch)
    path = _path(store, "RP-03")
    first = c.get(path, params={"properties": "id,name"})
    before = _names(first)
    again = c.get(path, params={"properties": "id,name"})
    assert calls[0] == 1 and again.content == first.content  # the second request was a cache hit
    r = c.patch("/collections/reserve_parcels/items/RP-03", json={"properties": {"name": "缓存测试地块"}, "reason": "测试"}, headers={"Authorization": f"Bearer {keys['admin']}"})
    assert r.status_code == 200, r.text
    after = c.get(path, params={"properties": "id,name"})
    assert calls[0] == 2
    assert _names(after)["RP-03"] == "缓存测试地块" != before["RP-03"]
    assert after.headers["etag"] != first.headers["etag"]
    # the old ETag no longer validates
    assert c.get(path, params={"properties": "id,name"}, headers={"If-None-Match": first.headers["etag"]}).status_code == 200


def test_a_write_from_outside_landgis_shows_in_the_next_tile(env):
    """QGIS/GDAL appending to the .gpkg, or psql on the PostGIS table: triggers bump the revision."""
    store, c, _ = env
    path = _path(store, "RP-05")
    assert _names(c.get(path, params={"properties": "id,name"}))["RP-05"] != "外部编辑"
    if store.kind == "geopackage":
        import pyogrio

        row = store.read_layer("reserve_parcels", ids=["RP-05"])
        row["id"], row["name"] = "RP-EXT", "外部编辑"
        pyogrio.write_dataframe(row, store.url, layer="reserve_parcels", append=True)  # GDAL's own GPKG writer
        assert _names(c.get(path, params={"properties": "id,name"}))["RP-EXT"] == "外部编辑"
    else:
        with psycopg.connect(store.url, autocommit=True) as con:
            con.execute("UPDATE reserve_parcels SET name = '外部编辑' WHERE id = 'RP-05'")
        assert _names(c.get(path, params={"properties": "id,name"}))["RP-05"] == "外部编辑"


def test_cache_is_bounded_by_bytes(monkeypatch):
    cache = TileCache(10_000)
    for i in range(20):
        cache.put(("k", i), b"x" * 1_000, f'"{i}"')
    assert cache.bytes <= 10_000 and len(cache.data) == 10
    assert cache.get(("k", 0)) is None and cache.get(("k", 19)) == (b"x" * 1_000, '"19"')
    cache.put(("big",), b"x" * 5_000, '"b"')  # > 1/8 of the budget: not kept
    assert cache.get(("big",)) is None
