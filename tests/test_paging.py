"""Deep pages (SPEC §10, §12; issue 19): keyset cursors behind `next` links, and the seek path of
a plain deep `offset`, on both stores.

The expected order is the store's fid order read independently (`read_layer`, ordered by fid),
on a layer whose fids have gaps (rows deleted by an outside editor, as QGIS would), so a seek
that assumed fid = offset + 1 would return the wrong rows.
"""

from __future__ import annotations

import sqlite3
from urllib.parse import parse_qs, urlsplit

import geopandas as gpd
import numpy as np
import psycopg
import pytest
import shapely
from api_support import sample_api

N = 2600
LAYER = "cadastre_test"


@pytest.fixture(scope="module", params=["geopackage", "postgis"])
def env(request, tmp_path_factory):
    for store, client, keys in sample_api(request.param, tmp_path_factory.mktemp("paging")):
        i = np.arange(N)
        x0 = 112.50 + (i % 50) * 0.001
        y0 = 32.98 + (i // 50) * 0.001
        gdf = gpd.GeoDataFrame(
            {"id": [f"Z{j:05d}" for j in i], "name": [f"宗地{j}" for j in i], "area_mu": (i % 17).astype(float)},
            geometry=shapely.box(x0, y0, x0 + 0.0008, y0 + 0.0008),
            crs="EPSG:4490",
        )
        store.import_features(LAYER, gdf, mode="replace", user="test", geometry_type="POLYGON", title="测试宗地")
        # an outside editor deletes every 7th row: fids now have gaps
        if store.kind == "geopackage":
            with sqlite3.connect(store.path) as conn:
                conn.execute(f"DELETE FROM {LAYER} WHERE fid % 7 = 0")
        else:
            with psycopg.connect(store.url, autocommit=True) as conn:
                conn.execute(f"DELETE FROM {LAYER} WHERE fid % 7 = 0")
        expected = list(store.read_layer(LAYER)["id"])
        assert len(expected) < N  # gaps exist
        yield store, client, {"Authorization": f"Bearer {keys['analyst']}"}, expected


def _next(body) -> str | None:
    return next((link["href"] for link in body["links"] if link["rel"] == "next"), None)


def test_plain_deep_offset_returns_the_rows_at_that_position(env):
    _, c, auth, expected = env
    for offset in (0, 999, 1000, 1777, len(expected) - 50, len(expected) + 10):
        body = c.get(f"/collections/{LAYER}/items", params={"limit": 100, "offset": offset}, headers=auth).json()
        assert [f["id"] for f in body["features"]] == expected[offset : offset + 100], offset
        assert body["numberMatched"] == len(expected)


def test_following_next_links_visits_every_feature_once_through_cursors(env):
    _, c, auth, expected = env
    url, seen, cursors = f"/collections/{LAYER}/items?limit=400", [], 0
    while url:
        body = c.get(url, headers=auth).json()
        seen += [f["id"] for f in body["features"]]
        url = _next(body)
        if url:
            q = parse_qs(urlsplit(url).query)
            cursors += "cursor" in q
            assert int(q["offset"][0]) == len(seen)  # offset still numbers the page
    assert seen == expected
    assert cursors == len(expected) // 400


def test_cursor_keeps_filters(env):
    _, c, auth, expected = env
    full = c.get(f"/collections/{LAYER}/items", params={"limit": 10000, "bbox": "112.50,32.98,112.52,33.01"}, headers=auth).json()
    want = [f["id"] for f in full["features"]]
    assert 100 < len(want) < len(expected)
    url, seen = f"/collections/{LAYER}/items?limit=37&bbox=112.50,32.98,112.52,33.01", []
    while url:
        body = c.get(url, headers=auth).json()
        seen += [f["id"] for f in body["features"]]
        url = _next(body)
    assert seen == want


def test_sorted_pages_page_by_offset(env):
    _, c, auth, expected = env
    body = c.get(f"/collections/{LAYER}/items", params={"limit": 50, "sortby": "-name"}, headers=auth).json()
    nxt = _next(body)
    assert nxt and "cursor" not in parse_qs(urlsplit(nxt).query)
    second = c.get(nxt, headers=auth).json()
    names = sorted((f"宗地{int(i[1:])}" for i in expected), reverse=True)
    assert [f["properties"]["name"] for f in second["features"]] == names[50:100]


@pytest.mark.parametrize("cursor", ["nonsense", "k1.!!!", "k1." + "A" * 60, "k1.LTE", "k1.MTJhYg"])
def test_bad_cursor_is_a_400_naming_it(env, cursor):
    _, c, auth, _ = env
    r = c.get(f"/collections/{LAYER}/items", params={"cursor": cursor}, headers=auth)
    assert r.status_code == 400, r.text
    body = r.json()
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "cursor" in body["detail"] or any(e.get("field") == "cursor" for e in body.get("errors", []))


def test_cursor_with_sortby_is_refused(env):
    _, c, auth, _ = env
    first = c.get(f"/collections/{LAYER}/items", params={"limit": 10}, headers=auth).json()
    cursor = parse_qs(urlsplit(_next(first)).query)["cursor"][0]
    r = c.get(f"/collections/{LAYER}/items", params={"cursor": cursor, "sortby": "name"}, headers=auth)
    assert r.status_code == 400 and "sortby" in r.json()["detail"]


def test_geopackage_layers_get_their_seek_index_on_open(tmp_path):
    from gis.store import open_store

    path = tmp_path / "old.gpkg"
    store = open_store(str(path))
    gdf = gpd.GeoDataFrame({"id": ["A", "B"]}, geometry=[shapely.box(112.5, 33, 112.51, 33.01)] * 2, crs="EPSG:4490")
    store.import_features("old_layer", gdf, mode="replace", user="t", geometry_type="POLYGON", title="t")
    store.close()
    with sqlite3.connect(path) as conn:  # a store made before the index existed
        conn.execute('DROP INDEX "old_layer_fid_seek"')
    open_store(str(path)).close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'old_layer_fid_seek'").fetchone()[0] == 1
