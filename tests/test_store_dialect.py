"""The store owns its dialect: GeoPackage and PostGIS answer the same items query alike through
`Store.features` (filters, bbox, sort, paging, output and filter CRS), build the same tiles
through `Store.tile`, and nothing outside gis/store/ asks a store for its kind or its privates.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import mapbox_vector_tile
import morecantile
import numpy as np
import pytest
import shapely

from conftest import PG_BASE, pg_schema_url
from gis.crs import STORE_XY, AxisCrs, reproject
from gis.store import open_store
from gis.store.cql2 import cql2_to_sql, parse_cql2
from gis.store.items import FilterError, ItemsQuery
from gis.tiles import search_box, tile_bounds, tile_mvt

REPO = Path(__file__).resolve().parents[1]
LAYER = "dialect_parcels"
N = 400


def _parcels(n: int = N) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(7)
    side = 20
    i = np.arange(n)
    x0 = 112.50 + (i % side) * 0.0012 + rng.uniform(0, 0.0003, n)
    y0 = 32.98 + (i // side) * 0.0012 + rng.uniform(0, 0.0003, n)
    geoms = [shapely.MultiPolygon([shapely.box(a, b, a + 0.0008, b + 0.0007)]) for a, b in zip(x0, y0)]
    names = [None if k % 37 == 0 else ["Ａbc", "ÉΔ地", "宗地", "abc", "光电%"][k % 5] + f"-{k}" for k in i]
    return gpd.GeoDataFrame(
        {
            "id": [f"D{k:04d}" for k in i],
            "name": names,
            "use": np.array(["工业", "居住", "仓储", "商业"])[rng.integers(0, 4, n)],
            "area_mu": np.round(rng.uniform(1, 40, n), 3),
            "floors": rng.integers(1, 9, n),
            "idle": rng.random(n) < 0.3,
        },
        geometry=geoms,
        crs=4490,
    )


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    import uuid

    import psycopg

    data = _parcels()
    gpkg = open_store(str(tmp_path_factory.mktemp("dialect") / "d.gpkg"))
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = psycopg.connect(PG_BASE, autocommit=True)
    admin.execute(f"CREATE SCHEMA {schema}")
    pg = open_store(pg_schema_url(schema))
    for s in (gpkg, pg):
        s.import_features(LAYER, data, geometry_type="MULTIPOLYGON", user="test")
    try:
        yield gpkg, pg
    finally:
        gpkg.close()
        pg.close()
        admin.execute(f"DROP SCHEMA {schema} CASCADE")
        admin.close()


def _decoded(features: list[str]) -> list[dict]:
    return [json.loads(f) for f in features]


def _same_features(a: list[dict], b: list[dict], tol: float) -> None:
    assert [f["id"] for f in a] == [f["id"] for f in b]
    for fa, fb in zip(a, b):
        assert fa["properties"].keys() == fb["properties"].keys(), fa["id"]
        for k, va in fa["properties"].items():
            vb = fb["properties"][k]
            if isinstance(va, float) or isinstance(vb, float):
                assert va == pytest.approx(vb), (fa["id"], k)
            else:
                assert va == vb, (fa["id"], k, va, vb)
        ga, gb = shapely.geometry.shape(fa["geometry"]), shapely.geometry.shape(fb["geometry"])
        ca, cb = shapely.get_coordinates(ga), shapely.get_coordinates(gb)
        assert ca.shape == cb.shape and np.allclose(ca, cb, atol=tol, rtol=0), fa["id"]


def _both(stores, q: ItemsQuery, tol: float = 1e-7):
    gpkg, pg = stores
    a, b = gpkg.features(LAYER, q), pg.features(LAYER, q)
    assert a.number_returned == b.number_returned and a.number_matched == b.number_matched
    _same_features(_decoded(a.features), _decoded(b.features), tol)
    return _decoded(a.features), a


FILTERS = [
    "area_mu > 20 AND use IN ('工业','仓储')",
    "floors BETWEEN 2 AND 5 OR idle = true",
    "CASEI(name) LIKE CASEI('%ａBC%')",
    "name LIKE '光电\\%%'",
    "name IS NULL",
    "NOT (use = '居住') AND area_mu <= 10.5",
    "S_INTERSECTS(geometry, POLYGON((112.505 32.985, 112.515 32.985, 112.515 32.995, 112.505 32.995, 112.505 32.985)))",
    "S_WITHIN(geometry, BBOX(112.50, 32.98, 112.51, 32.99))",
    "S_DISJOINT(geometry, BBOX(112.50, 32.98, 112.52, 33.0)) AND floors > 6",
    "S_CONTAINS(geometry, POINT(112.5004 32.9804))",
]


@pytest.mark.parametrize("text", FILTERS)
def test_cql2_filters_answer_alike(stores, text):
    feats, page = _both(stores, ItemsQuery(limit=1000, filter=parse_cql2(text, "cql2-text")))
    assert page.number_returned > 0, text  # every filter above matches something
    # the translation through each dialect is the same predicate as the tree's evaluation by the other
    gpkg, pg = stores
    where = [cql2_to_sql(gpkg, LAYER, parse_cql2(text, "cql2-text"), gpkg.columns(LAYER))]
    assert [f["id"] for f in _decoded(gpkg.features(LAYER, ItemsQuery(limit=1000, where=where)).features)] == [f["id"] for f in feats]


def test_bbox_sort_paging_and_equals_answer_alike(stores):
    bbox = (112.505, 32.985, 112.52, 33.0)
    full, page = _both(stores, ItemsQuery(limit=1000, bbox=bbox))
    assert 0 < page.number_returned < N
    _both(stores, ItemsQuery(limit=1000, equals=[("use", "工业"), ("idle", True)]))
    _both(stores, ItemsQuery(limit=1000, equals=[("floors", 3)]))
    sort = [("use", False), ("area_mu", True)]
    whole, _ = _both(stores, ItemsQuery(limit=N, sortby=sort))
    pages = []
    for offset in range(0, N, 70):
        got, p = _both(stores, ItemsQuery(limit=70, offset=offset, sortby=sort))
        assert p.number_matched == N
        pages += got
    assert [f["id"] for f in pages] == [f["id"] for f in whole]
    _both(stores, ItemsQuery(limit=10, offset=N + 5))  # past the end: empty on both
    nulls_last, _ = _both(stores, ItemsQuery(limit=N, sortby=[("name", True)], properties=["name"]))
    assert nulls_last[-1]["properties"]["name"] is None and set(nulls_last[0]["properties"]) == {"name"}
    # filtered and paged: numberMatched counted by each store alike
    _, p = _both(stores, ItemsQuery(limit=5, offset=5, bbox=bbox, filter=parse_cql2("floors >= 4", "cql2-text")))
    gpkg, pg = stores
    q = ItemsQuery(bbox=bbox, filter=parse_cql2("floors >= 4", "cql2-text"))
    assert gpkg.count_matched(LAYER, q) == pg.count_matched(LAYER, q) == p.number_matched > 5
    assert gpkg.count_matched(LAYER, ItemsQuery()) == pg.count_matched(LAYER, ItemsQuery()) == N


@pytest.mark.parametrize("crs, tol", [(AxisCrs(4490, True), 1e-7), (AxisCrs(4546, True), 2e-3), (AxisCrs(3857, False), 2e-3)])
def test_output_and_filter_crs_answer_alike(stores, crs, tol):
    feats, _ = _both(stores, ItemsQuery(limit=30, crs=crs), tol=tol)
    plain, _ = _both(stores, ItemsQuery(limit=30, crs=STORE_XY))
    first = shapely.geometry.shape(plain[0]["geometry"])
    expect = reproject(np.array([first], dtype=object), 4490, crs.epsg)[0]
    got = shapely.get_coordinates(shapely.geometry.shape(feats[0]["geometry"]))
    want = shapely.get_coordinates(expect)
    assert np.allclose(got[:, ::-1] if crs.flip else got, want, atol=tol, rtol=0)
    # a filter geometry written in `crs` (its axis order) selects what its lon/lat twin selects
    box = shapely.box(112.505, 32.985, 112.515, 32.995)
    native = reproject(np.array([box], dtype=object), 4490, crs.epsg)[0]
    if crs.flip:
        native = shapely.transform(native, lambda xy: xy[:, ::-1].copy())
    tree = parse_cql2(f"S_INTERSECTS(geometry, {shapely.to_wkt(native, rounding_precision=9)})", "cql2-text")
    lonlat = parse_cql2(f"S_INTERSECTS(geometry, {shapely.to_wkt(box, rounding_precision=12)})", "cql2-text")
    in_crs, _ = _both(stores, ItemsQuery(limit=1000, filter=tree, filter_crs=crs))
    in_lonlat, _ = _both(stores, ItemsQuery(limit=1000, filter=lonlat))
    assert [f["id"] for f in in_crs] == [f["id"] for f in in_lonlat] and in_crs


def test_one_feature_extent_and_refusals_alike(stores):
    gpkg, pg = stores
    for fid in ("D0000", "D0123"):
        _same_features([json.loads(gpkg.feature(LAYER, fid))], [json.loads(pg.feature(LAYER, fid))], 1e-7)
        hidden = frozenset({"floors"})
        assert "floors" not in json.loads(pg.feature(LAYER, fid, hidden=hidden))["properties"]
        assert json.loads(gpkg.feature(LAYER, fid, properties=["use"]))["properties"].keys() == {"use"}
    assert gpkg.feature(LAYER, "nope") is None and pg.feature(LAYER, "nope\x00") is None
    assert np.allclose(gpkg.extent(LAYER), pg.extent(LAYER), atol=1e-9)
    assert gpkg.cached_count(LAYER) == pg.cached_count(LAYER) == N
    for bad in (ItemsQuery(sortby=[("nosuch", False)]), ItemsQuery(properties=["nosuch"]), ItemsQuery(filter=parse_cql2("nosuch = 1", "cql2-text")), ItemsQuery(hidden=frozenset({"floors"}), sortby=[("floors", False)])):
        messages = []
        for s in stores:
            with pytest.raises(FilterError) as err:
                s.features(LAYER, bad)
            messages.append(str(err.value))
        assert messages[0] == messages[1]


def _tile_ids(data: bytes) -> dict[str, dict]:
    if not data:
        return {}
    return {f["properties"]["id"]: f["properties"] for f in mapbox_vector_tile.decode(data)[LAYER]["features"]}


@pytest.mark.parametrize("zoom", [12, 15, 17])
def test_store_tile_matches_the_features_and_the_other_store(stores, zoom):
    gpkg, pg = stores
    gdf = gpkg.read_layer(LAYER)
    merc = gpd.GeoSeries(reproject(np.asarray(gdf.geometry.values, dtype=object), 4490, 3857), index=gdf["id"])
    tms = morecantile.tms.get("WebMercatorQuad")
    for lon, lat in ((112.505, 32.985), (112.52, 33.0), (112.5125, 32.9999)):
        t = tms.tile(lon, lat, zoom)
        cols = ["floors", "id", "idle", "use"]
        a, b = _tile_ids(gpkg.tile(LAYER, t.z, t.x, t.y, cols)), _tile_ids(pg.tile(LAYER, t.z, t.x, t.y, cols))
        x0, y0, x1, y1 = tile_bounds(t.z, t.x, t.y)
        inside = set(merc.index[merc.intersects(shapely.box(x0, y0, x1, y1))])
        near = set(gdf["id"][gdf.intersects(shapely.box(*search_box(t.z, t.x, t.y)))])
        assert inside <= set(a) <= near and inside <= set(b) <= near, (zoom, lon, lat)
        assert a == b  # same features, same attributes (booleans as booleans on both)
        assert inside  # each tile above holds parcels
        # the cached path hands back the same bytes as the store's own tile
        for s in stores:
            assert tile_mvt(s, LAYER, t.z, t.x, t.y, cols)[0] == s.tile(LAYER, t.z, t.x, t.y, cols)
            assert tile_mvt(s, LAYER, t.z, t.x, t.y, list(reversed(cols)), use_cache=False) == tile_mvt(s, LAYER, t.z, t.x, t.y, cols)


# --- the house rules, checked on the source tree -------------------------------------------

OUTSIDE_STORE = ["api", "services", "maps", "parcels", "gis"]


def _sources(roots: list[str], skip: str | None = None) -> list[Path]:
    out = []
    for root in roots:
        for p in (REPO / root).rglob("*.py"):
            rel = p.relative_to(REPO).as_posix()
            if skip and rel.startswith(skip):
                continue
            out.append(p)
    return out


def _hits(paths: list[Path], pattern: str) -> list[str]:
    rx = re.compile(pattern)
    found = []
    for p in paths:
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
            if rx.search(line):
                found.append(f"{p.relative_to(REPO)}:{n}: {line.strip()}")
    return found


def test_no_store_kind_dispatch_outside_the_store():
    paths = _sources(OUTSIDE_STORE, skip="gis/store/")
    assert paths
    kind = r"""(\bstore\w*|\bs)\.kind\s*(==|!=)|\.kind\s*(==|!=)\s*["'](postgis|geopackage)["']|["'](postgis|geopackage)["']\s*(==|!=)\s*\w+\.kind"""
    assert _hits(paths, kind) == []


def test_no_store_private_access_outside_the_store():
    paths = _sources(OUTSIDE_STORE, skip="gis/store/")
    assert _hits(paths, r"\b\w*store\w*\._[A-Za-z]|state\.store\._") == []


def test_the_inner_packages_never_import_api():
    paths = _sources(["gis", "parcels", "maps", "services"])
    assert _hits(paths, r"^\s*(from|import)\s+api(\.|\s|$)") == []
