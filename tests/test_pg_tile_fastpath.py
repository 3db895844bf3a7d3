"""PostGIS tiles' short path (gis/store/postgis.py TILE_Z): features proven safe by
gis/star_rings.py skip ST_AsMVTGeom. The tiles must draw what ST_AsMVTGeom draws, the column must
never be seen as a property, and no stale value may vouch for a changed geometry."""

from __future__ import annotations

import mapbox_vector_tile
import morecantile
import numpy as np
import psycopg
import pytest
import shapely
from shapely.geometry import shape

from gis.errors import InputError
from gis.star_rings import safe_zooms
from gis.store import open_store
from gis.store.postgis import TILE_Z
from gis.tiles import search_box
from test_mvt import parcels

TMS = morecantile.tms.get("WebMercatorQuad")


def _features(data: bytes) -> dict:
    if not data:
        return {}
    return {f["properties"]["id"]: f for f in mapbox_vector_tile.decode(data, default_options={"y_coord_down": True})["parcels"]["features"]}


def _careful(store, z: int, x: int, y: int, cols: list[str]) -> bytes:
    """The tile with every feature through ST_AsMVTGeom (the path before TILE_Z)."""
    return store._tile_rows("parcels", z, x, y, cols, store.dialect.bbox_candidates("parcels", search_box(z, x, y)), None)


def _winding(f: dict) -> float:
    g = f["geometry"]
    ring = np.array((g["coordinates"] if g["type"] == "Polygon" else g["coordinates"][0])[0], dtype=float)
    return float(np.sign(np.sum(ring[:-1, 0] * ring[1:, 1] - ring[1:, 0] * ring[:-1, 1])))


@pytest.fixture
def pg_parcels(pg_url):
    store = open_store(pg_url)
    store.init()
    store.import_features("parcels", parcels(900), geometry_type="MULTIPOLYGON", user="test")
    yield store
    store.close()


def _tile_z(store) -> dict:
    return dict(store._fetchall(f"SELECT id, {TILE_Z} FROM parcels"))


def test_the_short_path_draws_what_st_asmvtgeom_draws(pg_parcels):
    store = pg_parcels
    zs = _tile_z(store)
    safe = {k for k, v in zs.items() if v is not None}
    # one-ring star-shaped parcels get a zoom; courtyard (every 7th) and two-part (every 11th) ones do not
    assert len(safe) > 600
    assert zs["P00007"] is None and zs["P00011"] is None and zs["P00001"] is not None
    compared = 0
    for zoom in (14, 15, 16, 17):
        t = TMS.tile(112.53, 33.0, zoom)
        for dx in (-1, 0, 1):
            z, x, y = t.z, t.x + dx, t.y
            cols = ["id", "use", "area_m2", "idle"]
            careful, fast = _features(_careful(store, z, x, y, cols)), _features(store.tile("parcels", z, x, y, cols))
            assert careful.keys() == fast.keys()
            for fid, f in fast.items():
                g, h = shape(f["geometry"]), shape(careful[fid]["geometry"])
                assert g.is_valid and g.area > 0
                assert f["properties"] == careful[fid]["properties"]
                assert _winding(f) == _winding(careful[fid]) == 1.0  # exterior rings positive, y down
                # ST_AsMVTGeom also drops points closer than its resolution: well under a pixel
                assert g.symmetric_difference(h).area <= 0.05 * max(h.length, 1), (fid, z, x, y)
                compared += 1
    assert compared > 1500


def test_the_column_is_never_a_property(pg_parcels):
    store = pg_parcels
    assert TILE_Z not in store.columns("parcels")
    assert TILE_Z not in store.feature("parcels", "P00001")
    gdf = store.read_layer("parcels")
    assert TILE_Z not in gdf.columns
    t = TMS.tile(112.53, 33.0, 15)
    assert all(TILE_Z not in f["properties"] for f in _features(store.tile("parcels", t.z, t.x, t.y, list(store.columns("parcels")))).values())


def test_a_changed_geometry_loses_its_zoom_whoever_changes_it(pg_parcels, pg_url):
    store = pg_parcels
    before = _tile_z(store)
    assert before["P00001"] is not None and before["P00002"] is not None and before["P00003"] is not None
    # an outside tool (QGIS, psql) moves one parcel and edits another's attributes only
    schema = psycopg.conninfo.conninfo_to_dict(pg_url)["options"].split("=")[-1].split(",")[0]
    with psycopg.connect(pg_url.split("?")[0], autocommit=True) as conn:
        conn.execute(f"SET search_path = {schema}, public")
        conn.execute("UPDATE parcels SET geom = ST_Translate(geom, 0.00001, 0) WHERE id = 'P00001'")
        conn.execute("UPDATE parcels SET use = '仓储' WHERE id = 'P00002'")
        conn.execute(f"UPDATE parcels SET geom = geom, {TILE_Z} = {TILE_Z} WHERE id = 'P00004'")  # same shape: may keep it
    # landgis's own geometry edits set the zoom of the new shape: a courtyard parcel becomes a
    # plain square (gains one), a plain one gets a notch that is not star-shaped (loses it)
    square = shapely.box(112.5301, 33.0001, 112.5304, 33.0004)
    notch = shapely.Polygon([(112.53, 33.0), (112.5310, 33.0), (112.5310, 33.0001), (112.53005, 33.0001), (112.53005, 33.0010), (112.53, 33.0010)])
    store.update_feature("parcels", "P00007", {}, geometry=shapely.MultiPolygon([square]), user="test")
    store.update_feature("parcels", "P00003", {}, geometry=shapely.MultiPolygon([notch]), user="test")
    after = _tile_z(store)
    assert after["P00001"] is None
    assert after["P00007"] == safe_zooms(np.array([square], dtype=object))[0] and before["P00007"] is None
    assert after["P00003"] is None
    assert after["P00002"] == before["P00002"]
    assert after["P00004"] == before["P00004"]


def test_a_layer_without_the_column_still_tiles_and_is_upgraded(pg_parcels, pg_url):
    store = pg_parcels
    t = TMS.tile(112.53, 33.0, 15)
    expected = _features(_careful(store, t.z, t.x, t.y, ["id"]))
    with store._transaction() as cur:  # as a store made by an older landgis
        cur.execute(f"ALTER TABLE parcels DROP COLUMN {TILE_Z}")
    # the store still believes the column is there: the tile falls back, no error
    assert _features(store.tile("parcels", t.z, t.x, t.y, ["id"])).keys() == expected.keys()
    old = open_store(pg_url)  # a fresh process on the old table: straight to ST_AsMVTGeom
    assert _features(old.tile("parcels", t.z, t.x, t.y, ["id"])).keys() == expected.keys()
    old.close()
    upgraded = open_store(pg_url)
    upgraded.init()
    assert upgraded._fetchall(f"SELECT count({TILE_Z}) FROM parcels")[0][0] == 0  # NULL until re-imported
    assert _features(upgraded.tile("parcels", t.z, t.x, t.y, ["id"])).keys() == expected.keys()
    with upgraded._transaction() as cur:  # the reset trigger is back too
        cur.execute(f"UPDATE parcels SET {TILE_Z} = 5 WHERE id = 'P00001'")
        cur.execute("UPDATE parcels SET geom = ST_Translate(geom, 0.00001, 0) WHERE id = 'P00001'")
        cur.execute(f"SELECT {TILE_Z} FROM parcels WHERE id = 'P00001'")
        assert cur.fetchone()[0] is None
    upgraded.close()


def test_landgis_column_names_are_reserved(pg_url):
    store = open_store(pg_url)
    store.init()
    gdf = parcels(5)
    gdf[TILE_Z] = 3
    with pytest.raises(InputError) as err:
        store.import_features("parcels", gdf, geometry_type="MULTIPOLYGON", user="test")
    assert "landgis_" in str(err.value) and "系统" in str(err.value)
    assert not store.layer_exists("parcels")
    store.close()
