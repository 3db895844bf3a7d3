"""Real clients against a live server (uvicorn on 127.0.0.1, a free port): GDAL's OAPIF driver
(through pyogrio) lists and reads every public collection; OWSLib reads items with bbox and CQL2.
Both stores."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import numpy as np
import pyogrio
import pytest
import shapely
from api_support import load_sample, make_store

from parcels.schema import PUBLIC_LAYERS


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module", params=["geopackage", "postgis"])
def live(request, tmp_path_factory):
    import httpx

    from api.auth import add_key

    store, pg = make_store(request.param, tmp_path_factory.mktemp("live"))
    load_sample(store)
    key = add_key(store, "gdal", "analyst", user="test")
    port = free_port()
    # A separate process: pyogrio holds the GIL while GDAL waits for HTTP, so an in-process
    # server thread would deadlock. This also exercises the real `landgis serve` command.
    proc = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--store", store.url, "--host", "127.0.0.1", "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("landgis serve did not start: " + proc.stderr.read().decode(errors="replace")[-2000:])
    yield url, store, key
    proc.terminate()
    proc.wait(timeout=10)
    store.close()
    if pg:
        pg.drop()


def test_gdal_oapif_lists_and_reads_every_public_collection(live):
    url, store, _ = live
    listed = {name for name, _ in pyogrio.list_layers(f"OAPIF:{url}")}
    public = {n for n in store.layer_names() if n in PUBLIC_LAYERS}
    assert public == listed  # and restricted layers are not offered to an anonymous client
    for name in sorted(public):
        gdf = pyogrio.read_dataframe(f"OAPIF:{url}", layer=name)
        ours = store.read_layer(name)
        assert len(gdf) == len(ours), name
        assert sorted(gdf["id"]) == sorted(ours["id"])
        joined = ours.set_index("id").geometry
        got = gdf.set_index("id").geometry
        # GDAL picks the storage CRS (EPSG:4490, lat/lon on the wire) and restores GIS order
        assert gdf.crs.to_epsg() in (4490, 4326), gdf.crs
        for fid in ours["id"][:5]:
            assert np.abs(shapely.get_coordinates(got[fid]) - shapely.get_coordinates(joined[fid])).max() < 1e-6, (name, fid)


def test_gdal_reads_with_spatial_and_attribute_filter(live):
    url, store, _ = live
    ours = store.read_layer("reserve_parcels")
    x0, y0, x1, y1 = ours.total_bounds
    box = (x0, y0, (x0 + x1) / 2, (y0 + y1) / 2)
    gdf = pyogrio.read_dataframe(f"OAPIF:{url}", layer="reserve_parcels", bbox=box, where="use = '工业'")
    expected = ours[ours.intersects(shapely.box(*box)) & (ours["use"] == "工业")]["id"]
    assert sorted(gdf["id"]) == sorted(expected)


def test_owslib_features_bbox_and_cql2(live):
    from owslib.ogcapi.features import Features

    url, store, key = live
    api = Features(url)
    assert {"reserve_parcels", "park_zones"} <= {c["id"] for c in api.collections()["collections"]}
    ours = store.read_layer("park_zones")
    x0, y0, x1, y1 = ours.total_bounds
    box = [x0, y0, (x0 + x1) / 2, (y0 + y1) / 2]
    got = api.collection_items("park_zones", bbox=box, limit=1000)
    assert sorted(f["id"] for f in got["features"]) == sorted(ours[ours.intersects(shapely.box(*box))]["id"])
    flt = api.collection_items("park_zones", filter="planned_area_mu > 250 AND name LIKE '%产业园%'", limit=1000)
    pick = ours[(ours["planned_area_mu"] > 250) & ours["name"].str.contains("产业园")]
    assert sorted(f["id"] for f in flt["features"]) == sorted(pick["id"]) and len(pick) > 0
    js = api.collection_items("park_zones", **{"filter": '{"op":"isNull","args":[{"property":"planned_area_mu"}]}', "filter-lang": "cql2-json", "limit": 1000})
    assert sorted(f["id"] for f in js["features"]) == sorted(ours[ours["planned_area_mu"].isna()]["id"])
    import owslib.ogcapi

    try:
        secured = Features(url, headers={"Authorization": f"Bearer {key}"})
        ent = secured.collection_items("enterprises", limit=5)
        assert len(ent["features"]) == 5 and "tax" in ent["features"][0]["properties"]
    finally:
        # OWSLib 0.35 merges `headers` into its module-global REQUEST_HEADERS: undo it
        owslib.ogcapi.REQUEST_HEADERS.pop("Authorization", None)
