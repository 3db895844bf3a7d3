"""GeoPackage tiles rendered in worker processes (gis/tile_workers.py): the same bytes as the
in-thread renderer, and a worker that is killed, hangs or fails costs time, never a wrong tile
or an error."""

from __future__ import annotations

import os
import signal

import morecantile
import pytest
from api_support import sample_api

import gis.tile_workers as tw


@pytest.fixture
def gpkg(tmp_path):
    gen = sample_api("geopackage", tmp_path)
    store, client, keys = next(gen)
    yield store
    gen.close()


@pytest.fixture
def pool(monkeypatch):
    p = tw.TilePool(1)
    monkeypatch.setattr(tw, "POOL", p)
    yield p
    p.close()


def _tiles(store) -> list[tuple[int, int, int]]:
    gdf = store.read_layer("reserve_parcels")
    tms = morecantile.tms.get("WebMercatorQuad")
    out = []
    for p in gdf.geometry.representative_point()[:4]:
        for z in (13, 15):
            t = tms.tile(p.x, p.y, z)
            out.append((t.z, t.x, t.y))
    return out


def _in_thread(store, monkeypatch, z, x, y, cols) -> bytes:
    with monkeypatch.context() as m:
        m.setattr(tw, "POOL", tw.TilePool(0))
        return store.tile("reserve_parcels", z, x, y, cols)


def test_worker_tiles_equal_in_thread_tiles(gpkg, pool, monkeypatch):
    cols = sorted(gpkg.columns("reserve_parcels"))
    for z, x, y in _tiles(gpkg):
        direct = _in_thread(gpkg, monkeypatch, z, x, y, cols)
        served = gpkg.tile("reserve_parcels", z, x, y, cols)
        assert served == direct and direct
    assert pool.idle and pool.lost == 0 and pool.failed == 0  # the worker really rendered them


def test_killed_worker_is_replaced_and_the_tile_still_right(gpkg, pool, monkeypatch):
    cols = sorted(gpkg.columns("reserve_parcels"))
    (z, x, y), *_ = _tiles(gpkg)
    expected = _in_thread(gpkg, monkeypatch, z, x, y, cols)
    assert gpkg.tile("reserve_parcels", z, x, y, cols) == expected
    first = pool.idle[0].proc.pid
    os.kill(first, signal.SIGKILL)
    pool.idle[0].proc.wait()
    assert gpkg.tile("reserve_parcels", z, x, y, cols) == expected
    assert pool.idle[0].proc.pid != first  # a fresh worker answered


def test_worker_dying_mid_request_falls_back(gpkg, pool, monkeypatch):
    cols = sorted(gpkg.columns("reserve_parcels"))
    (z, x, y), *_ = _tiles(gpkg)
    expected = _in_thread(gpkg, monkeypatch, z, x, y, cols)
    gpkg.tile("reserve_parcels", z, x, y, cols)
    worker = pool.idle[0]
    os.kill(worker.proc.pid, signal.SIGSTOP)  # hung: it will never answer
    monkeypatch.setattr(tw, "TILE_TIMEOUT_S", 0.5)
    try:
        assert gpkg.tile("reserve_parcels", z, x, y, cols) == expected  # rendered in-thread instead
    finally:
        try:
            os.kill(worker.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert pool.lost == 1 and worker.proc.poll() is not None  # the hung worker was killed
    assert gpkg.tile("reserve_parcels", z, x, y, cols) == expected  # and replaced


def test_worker_error_is_reported_not_raised(tmp_path, pool):
    bad = tmp_path / "not_a_geopackage.gpkg"
    bad.write_bytes(b"not sqlite at all" * 100)
    assert pool.render(str(bad), "SELECT 1", [], "x", [], {}, 0, 0, 0) is None
    assert pool.failed == 1 and pool.lost == 0  # the worker lives on
    assert pool.idle and pool.idle[0].proc.poll() is None
