"""A process SIGKILLed in the middle of an import leaves the store as before (SPEC §10).

The child process really runs `Store.import_features`; it is held inside the transaction (rows
and index entries written, nothing committed) by a patched import-history writer, then killed with
SIGKILL. The next opener must find the old content, a consistent spatial index, and be able to
write again.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import geopandas as gpd
import shapely

from gis.store import open_store

CHILD = textwrap.dedent(
    """
    import sys, time, pathlib
    import geopandas as gpd, shapely
    from gis.store import open_store
    url, marker = sys.argv[1], pathlib.Path(sys.argv[2])
    store = open_store(url)
    original = type(store)._insert_import_history
    def hold(self, cur, *args):
        original(self, cur, *args)
        marker.write_text("inside")
        time.sleep(120)
    type(store)._insert_import_history = hold
    n = 5000
    geoms = [shapely.MultiPolygon([shapely.box(112.50 + (i % 100) * 0.0005, 33.0 + (i // 100) * 0.0005,
             112.5004 + (i % 100) * 0.0005, 33.0004 + (i // 100) * 0.0005)]) for i in range(n)]
    gdf = gpd.GeoDataFrame({"id": [f"new{i}" for i in range(n)], "name": ["新宗地"] * n}, geometry=geoms, crs=4490)
    store.import_features("industrial_parcels", gdf, mode="replace", user="killed")
    """
)


def seed(store):
    gdf = gpd.GeoDataFrame({"id": ["a", "b", "c"], "name": ["甲", "乙", "丙"]}, geometry=[shapely.MultiPolygon([shapely.box(112.55 + i * 0.01, 33.03, 112.555 + i * 0.01, 33.035)]) for i in range(3)], crs=4490)
    store.import_features("industrial_parcels", gdf, geometry_type="MULTIPOLYGON", user="seed")


def test_sigkill_during_import(store_url, tmp_path, record_property):
    store = open_store(store_url)
    seed(store)
    before = store.read_layer("industrial_parcels")
    hist_before = len(store.history())
    store.close()

    marker = tmp_path / "marker"
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    child = subprocess.Popen([sys.executable, "-c", CHILD, store_url, str(marker)], env=env)
    deadline = time.monotonic() + 90
    while not marker.exists():
        assert child.poll() is None, "child exited before reaching the transaction"
        assert time.monotonic() < deadline, "child never reached the transaction"
        time.sleep(0.1)
    child.send_signal(signal.SIGKILL)
    child.wait(10)

    after_store = open_store(store_url)
    after = after_store.read_layer("industrial_parcels")
    assert after["id"].tolist() == before["id"].tolist()
    assert after["name"].tolist() == before["name"].tolist()
    assert len(after_store.history()) == hist_before
    if after_store.kind == "geopackage":
        conn = after_store.connection()
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        n_index = conn.execute('SELECT COUNT(*) FROM "rtree_industrial_parcels_geom"').fetchone()[0]
        assert n_index == 3
    # the store is writable again (no stale lock)
    gdf = gpd.GeoDataFrame({"id": ["d"], "name": ["丁"]}, geometry=[shapely.MultiPolygon([shapely.box(112.6, 33.03, 112.605, 33.035)])], crs=4490)
    after_store.import_features("industrial_parcels", gdf, user="after")
    assert after_store.count("industrial_parcels") == 4
    hit = after_store.read_layer("industrial_parcels", bbox=(112.599, 33.02, 112.61, 33.04))
    assert hit["id"].tolist() == ["d"]
    record_property("report_line", f"crash {after_store.kind}: SIGKILL inside an import of 5000 rows → store as before, index consistent, writable")
    after_store.close()
