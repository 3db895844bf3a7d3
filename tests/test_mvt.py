"""gis.mvt, the vectorised MVT encoder: checked against mapbox_vector_tile's decoder and encoder and
against PostGIS's ST_AsMVT on the same parcels."""

from __future__ import annotations

import geopandas as gpd
import mapbox_vector_tile
import morecantile
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, MultiPoint, MultiPolygon, Point, Polygon, shape

from gis.mvt import clip_and_quantise, encode_layer, lonlat_to_tile_pixels, varint, varint_bytes
from gis.tiles import BUFFER, EXTENT, encode_tile, search_box, tile_bounds, tile_mvt

TMS = morecantile.tms.get("WebMercatorQuad")


def decode(data: bytes) -> dict:
    return mapbox_vector_tile.decode(data, default_options={"y_coord_down": True})


def parcels(n: int = 400, seed: int = 7) -> gpd.GeoDataFrame:
    """Star-shaped parcels (8–40 vertices) around the zone, some with a courtyard hole, some multi-part."""
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n)))
    geoms = []
    for i in range(n):
        cx = 112.53 + (i % side - side / 2) * 0.0006
        cy = 33.0 + (i // side - side / 2) * 0.0006
        k = int(rng.integers(8, 41))
        ang = 2 * np.pi * (np.arange(k) + rng.uniform(-0.3, 0.3, k)) / k
        r = 0.00025 * rng.uniform(0.75, 1.0, k)
        ring = np.column_stack([cx + r * np.cos(ang), cy + r * np.sin(ang) * 0.85])
        if i % 7 == 0:
            hole = [(cx - 4e-5, cy - 4e-5), (cx + 4e-5, cy - 4e-5), (cx + 4e-5, cy + 4e-5), (cx - 4e-5, cy + 4e-5)]
            geoms.append(MultiPolygon([Polygon(ring, [hole])]))
        elif i % 11 == 0:
            small = Polygon([(cx + 0.00028, cy + 0.00028), (cx + 0.00029, cy + 0.00028), (cx + 0.00029, cy + 0.00029)])
            geoms.append(MultiPolygon([Polygon(ring), small]))
        else:
            geoms.append(MultiPolygon([Polygon(ring)]))
    return gpd.GeoDataFrame(
        {
            "id": [f"P{i:05d}" for i in range(n)],
            "name": [f"宗地{i}" if i % 5 else None for i in range(n)],
            "use": rng.choice(["工业", "居住", "仓储"], n),
            "area_m2": np.round(rng.uniform(1000, 9000, n), 2),
            "floors": rng.integers(-2, 30, n),
            "idle": rng.random(n) < 0.3,
        },
        geometry=geoms,
        crs=4490,
    )


def test_varints_match_the_protobuf_rule():
    values = np.array([0, 1, 127, 128, 300, 16383, 16384, 2**32 - 1, 2**63], dtype=np.uint64)
    data, off = varint_bytes(values)
    for i, v in enumerate(values.tolist()):
        assert data[off[i]:off[i + 1]].tobytes() == varint(v)
    assert varint(300) == b"\xac\x02"  # the protobuf documentation's example


def test_geometry_kinds_properties_and_orientation_round_trip():
    geoms = np.array([
        Polygon([(10, 10), (10, 100), (100, 100), (100, 10), (10, 10)], [[(20, 20), (50, 20), (50, 50), (20, 50), (20, 20)]]),
        MultiPolygon([Polygon([(200, 200), (300, 200), (300, 300)]), Polygon([(400, 400), (500, 400), (500, 500), (400, 500)])]),
        None,
        LineString([(0, 0), (5, 5), (5, 5), (10, 0)]),
        Point(7, 8),
        MultiPoint([(1, 2), (3, 4)]),
        Polygon([(0, 0), (1, 0), (2, 0), (0, 0)]),  # no area: left out
    ], dtype=object)
    cols = ["name", "n", "x", "flag"]
    vals = [["a", "b", None, "a", "名字", None, "z"], [1, -2, 3, None, 5, 6, 7], [1.5, float("nan"), 2.0, 3.0, None, 1.5, 2.5], [True, False, True, None, True, False, True]]
    layer = decode(encode_layer("lyr", geoms, cols, vals, ids=np.arange(7)))["lyr"]
    assert layer["extent"] == EXTENT
    got = {f["id"]: f for f in layer["features"]}
    assert sorted(got) == [0, 1, 3, 4, 5]
    # the hole stays a hole: the exterior was clockwise on screen, the interior anticlockwise
    g0 = shape(got[0]["geometry"])
    assert g0.geom_type == "Polygon" and len(g0.interiors) == 1 and g0.equals(geoms[0])
    assert shape(got[1]["geometry"]).equals(geoms[1])
    assert shape(got[3]["geometry"]).equals(LineString([(0, 0), (5, 5), (10, 0)]))
    assert shape(got[4]["geometry"]).equals(geoms[4]) and shape(got[5]["geometry"]).equals(geoms[5])
    assert got[0]["properties"] == {"name": "a", "n": 1, "x": 1.5, "flag": True}
    assert got[1]["properties"] == {"name": "b", "n": -2, "flag": False}  # NaN and None leave no tag
    assert got[4]["properties"] == {"name": "名字", "n": 5, "flag": True}
    assert isinstance(got[0]["properties"]["flag"], bool) and isinstance(got[0]["properties"]["n"], int)


@pytest.mark.parametrize("long_one", [False, True])
def test_string_values_of_every_length_round_trip(long_one):
    """Strings are encoded on whole arrays; lengths 0, 1, 124–127 bytes (the edge of a one-byte
    field length), Chinese, and — in a tile of their own — a 300-byte one (multi-byte lengths)."""
    texts = ["", "a", "x" * 122, "x" * 123, "x" * 124, "x" * 125, "宗" * 41 + "a", "南阳高新区\n\"引号\",逗号", "a"]
    if long_one:
        texts.append("地" * 100)
    geoms = np.array([Point(i, i) for i in range(len(texts))], dtype=object)
    layer = decode(encode_layer("lyr", geoms, ["t", "u"], [texts, texts[::-1]], ids=np.arange(len(texts))))["lyr"]
    got = {f["id"]: f["properties"] for f in layer["features"]}
    assert [got[i]["t"] for i in range(len(texts))] == texts
    assert [got[i]["u"] for i in range(len(texts))] == texts[::-1]


def test_a_tile_of_parcels_equals_mapbox_vector_tile_encoding():
    gdf = parcels()
    t = TMS.tile(112.53, 33.0, 15)
    bounds = tile_bounds(t.z, t.x, t.y)
    px = clip_and_quantise(lonlat_to_tile_pixels(gdf.geometry.values, bounds, EXTENT), EXTENT, BUFFER)
    cols = ["id", "name", "use", "area_m2", "floors", "idle"]
    vals = [gdf[c].astype(object).where(gdf[c].notna(), None).tolist() for c in cols]
    ours = decode(encode_layer("parcels", px, cols, vals))["parcels"]["features"]
    ref_features = [
        {"geometry": g, "properties": {c: v[i] for c, v in zip(cols, vals) if v[i] is not None}}
        for i, g in enumerate(px) if g is not None
    ]
    ref = decode(mapbox_vector_tile.encode([{"name": "parcels", "features": ref_features}], default_options={"extents": EXTENT, "y_coord_down": True}))["parcels"]["features"]
    assert 50 < len(ours) == len(ref) < len(gdf)  # clipped to the tile: some parcels, not all
    for a, b in zip(ours, ref):
        assert a["properties"] == b["properties"]
        ga, gb = shape(a["geometry"]), shape(b["geometry"])
        assert ga.symmetric_difference(gb).area == 0, a["properties"]["id"]
        assert ga.is_valid
    # every coordinate inside the buffered tile
    coords = shapely.get_coordinates([shape(f["geometry"]) for f in ours])
    assert coords.min() >= -BUFFER and coords.max() <= EXTENT + BUFFER


def test_mercator_closed_form_matches_proj():
    from gis.crs import transformer

    pts = shapely.points([[112.4, 32.9], [112.53, 33.0], [112.7, 33.15]])
    bounds = (0.0, 0.0, EXTENT, EXTENT)  # pixels = metres / 1 with y flipped about EXTENT
    px = shapely.get_coordinates(lonlat_to_tile_pixels(pts, bounds, EXTENT))
    mx, my = transformer(4490, 3857).transform([112.4, 112.53, 112.7], [32.9, 33.0, 33.15])
    assert np.allclose(px[:, 0], mx, atol=1e-6)
    assert np.allclose(EXTENT - px[:, 1], my, atol=1e-6)


def test_geopackage_tile_matches_postgis_st_asmvt(tmp_path, pg_url):
    """Same parcels in both stores: our encoder and ST_AsMVTGeom/ST_AsMVT draw the same shapes."""
    from gis.store import open_store

    gdf = parcels(900)
    shapes = {}
    for kind, url in (("gpkg", str(tmp_path / "s.gpkg")), ("pg", pg_url)):
        store = open_store(url)
        store.init()
        store.import_features("parcels", gdf, geometry_type="MULTIPOLYGON", user="test")
        t = TMS.tile(112.53, 33.0, 15)
        cols = ["id", "use", "area_m2", "floors", "idle"]
        data, _ = tile_mvt(store, "parcels", t.z, t.x, t.y, cols, store.columns("parcels"), use_cache=False)
        feats = decode(data)["parcels"]["features"]
        shapes[kind] = {f["properties"]["id"]: (shape(f["geometry"]), f["properties"]) for f in feats}
        store.close()
    assert len(shapes["gpkg"]) > 50
    assert shapes["gpkg"].keys() == shapes["pg"].keys()
    worst = 0.0
    for fid, (g, props) in shapes["gpkg"].items():
        h, pprops = shapes["pg"][fid]
        assert props == pprops
        # PostGIS snaps and clips in another order: allow a pixel's worth of difference per edge
        worst = max(worst, g.symmetric_difference(h).area / max(h.length, 1))
    assert worst < 1.0


def test_tile_search_box_never_misses_a_feature_reaching_into_the_tile():
    gdf = parcels(900)
    t = TMS.tile(112.531, 33.001, 16)
    b = tile_bounds(t.z, t.x, t.y)
    data = encode_tile("parcels", gdf.geometry.values, ["id"], [gdf["id"].tolist()], t.z, t.x, t.y)
    drawn = {f["properties"]["id"] for f in decode(data)["parcels"]["features"]}
    merc = gdf.to_crs(3857)
    pad = (b[2] - b[0]) * BUFFER / EXTENT
    touching = set(merc.loc[merc.intersects(shapely.box(b[0] - pad, b[1] - pad, b[2] + pad, b[3] + pad)), "id"])
    assert touching and drawn <= touching
    assert len(touching - drawn) <= 2  # only slivers thinner than a pixel may vanish
    sb = shapely.box(*search_box(t.z, t.x, t.y))
    assert set(gdf.loc[gdf.intersects(sb), "id"]) >= touching


@pytest.mark.parametrize("zoom", [10, 12])
def test_low_zoom_tiles_drop_collapsed_parcels_but_stay_valid(zoom):
    gdf = parcels(400)
    t = TMS.tile(112.53, 33.0, zoom)
    data = encode_tile("parcels", gdf.geometry.values, ["id"], [gdf["id"].tolist()], t.z, t.x, t.y)
    feats = decode(data)["parcels"]["features"]
    assert 0 < len(feats) <= len(gdf)
    for f in feats:
        g = shape(f["geometry"])
        assert g.area > 0 and g.is_valid


@pytest.mark.parametrize("z,x,y", [(3, 5, 3), (7, 103, 52), (14, 13312, 6640), (16, 53251, 26562), (20, 852026, 424990)])
def test_search_box_is_projs_box(z, x, y):
    """The closed-form search box (no pyproj per thread) equals PROJ's densified transform of the
    buffered tile from EPSG:3857 to the store's EPSG:4490."""
    from gis.crs import STORE_EPSG, transformer

    x0, y0, x1, y1 = tile_bounds(z, x, y)
    pad = (x1 - x0) * BUFFER / EXTENT
    xs = np.concatenate([np.linspace(x0 - pad, x1 + pad, 9), np.full(9, x1 + pad), np.linspace(x1 + pad, x0 - pad, 9), np.full(9, x0 - pad)])
    ys = np.concatenate([np.full(9, y0 - pad), np.linspace(y0 - pad, y1 + pad, 9), np.full(9, y1 + pad), np.linspace(y1 + pad, y0 - pad, 9)])
    lon, lat = transformer(3857, STORE_EPSG).transform(xs, ys)
    expected = (lon.min(), lat.min(), lon.max(), lat.max())
    assert np.allclose(search_box(z, x, y), expected, rtol=0, atol=1e-9)
