"""Readers and writers at once on both stores: no error, no lost or duplicated write (SPEC §10).

Bounded: 4 writer threads × 25 status-like updates and 4 reader threads, each with its own
connection (the stores keep one per thread, as the API's worker threads do).
"""

from __future__ import annotations

import threading
import time

import geopandas as gpd
import shapely

from gis.errors import InputError
from gis.store import open_store

WRITERS, UPDATES, READERS = 4, 25, 4


def test_concurrent_readers_and_writers(store_url, record_property):
    setup = open_store(store_url)
    n = WRITERS * 5
    gdf = gpd.GeoDataFrame(
        {"id": [f"p{i}" for i in range(n)], "counter": [0] * n},
        geometry=[shapely.MultiPolygon([shapely.box(112.5 + i * 0.001, 33.0, 112.5005 + i * 0.001, 33.0005)]) for i in range(n)],
        crs=4490,
    )
    setup.import_features("industrial_parcels", gdf, geometry_type="MULTIPOLYGON", user="seed")
    setup.close()
    errors: list[BaseException] = []
    reads = [0]
    conflicts = [0]
    stop = threading.Event()

    def writer(w: int):
        s = open_store(store_url, init=False)
        try:
            for k in range(UPDATES):
                fid = f"p{k % 5}"  # every writer hits the same five rows: real contention
                while True:
                    cur = s.get_feature("industrial_parcels", fid)["counter"]
                    try:
                        s.update_feature("industrial_parcels", fid, {"counter": cur + 1}, user=f"w{w}", expect={"counter": cur})
                        break
                    except InputError:  # another writer got there first: re-read and retry
                        conflicts[0] += 1
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            s.close()

    def reader():
        s = open_store(store_url, init=False)
        try:
            while not stop.is_set():
                frame = s.read_layer("industrial_parcels", bbox=(112.49, 32.99, 112.6, 33.01))
                assert len(frame) == n
                reads[0] += 1
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            s.close()

    readers = [threading.Thread(target=reader) for _ in range(READERS)]
    writers = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
    started = time.monotonic()
    for t in readers + writers:
        t.start()
    for t in writers:
        t.join(120)
    stop.set()
    for t in readers:
        t.join(30)
    elapsed = time.monotonic() - started
    assert not errors, errors[:3]
    check = open_store(store_url)
    frame = check.read_layer("industrial_parcels")
    assert int(frame["counter"].sum()) == WRITERS * UPDATES  # no lost write
    hist = check.history("industrial_parcels")
    assert (hist["action"] == "update").sum() == WRITERS * UPDATES  # no duplicated history
    record_property("report_line", f"soak {check.kind}: {WRITERS * UPDATES} writes, {reads[0]} reads, 0 errors, 0 lost, {conflicts[0]} optimistic retries in {elapsed:.1f}s")
    check.close()
