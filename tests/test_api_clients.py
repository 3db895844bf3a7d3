"""Real clients against a live server (uvicorn on 127.0.0.1, a free port): GDAL's OAPIF driver
(through pyogrio) lists and reads every public collection; OWSLib reads items with bbox and CQL2;
Debian's `ogrinfo` (GDAL 3.6, what stock QGIS on Debian 12 is built on) with
`GDAL_HTTP_USERPWD=x:KEY` lists the analyst layers and types the empty 标准地 `sl_*` columns from
the collection's JSON Schema; OWSLib with HTTP Basic reads enterprise data. Both stores."""

from __future__ import annotations

import os
import shutil
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


def ensure_ogrinfo() -> str:
    """Debian's gdal-bin (the GDAL stock QGIS uses), installed like scripts/ensure-test-services.sh does."""
    if shutil.which("ogrinfo") is None:
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "gdal-bin"], check=True, env={"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
    return shutil.which("ogrinfo")


def ogrinfo(url: str, *args: str, userpwd: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GDAL_", "CPL_"))}
    if userpwd is not None:
        env["GDAL_HTTP_USERPWD"] = userpwd
    return subprocess.run([ensure_ogrinfo(), "-ro", "-so", f"OAPIF:{url}", *args], capture_output=True, text=True, env=env, timeout=120)


def _field_types(text: str) -> dict[str, str]:
    """`name: Type (w.p)` lines of `ogrinfo -so LAYER` → {name: Type}."""
    out = {}
    for line in text.splitlines():
        name, sep, rest = line.partition(": ")
        if sep and rest.split(" ")[0] in ("String", "Real", "Integer", "Integer64", "Date", "DateTime") and " " not in name:
            out[name] = rest.split(" ")[0]
    return out


def test_ogrinfo_with_basic_auth_lists_analyst_layers_and_types_empty_columns(live):
    url, store, key = live
    reserve = store.read_layer("reserve_parcels")
    assert reserve["sl_tax_per_mu"].isna().all()  # empty in the data: only the schema can type it

    anonymous = ogrinfo(url)
    assert anonymous.returncode == 0, anonymous.stderr
    assert "reserve_parcels" in anonymous.stdout and "enterprises" not in anonymous.stdout

    listed = ogrinfo(url, userpwd=f"x:{key}")
    assert listed.returncode == 0, listed.stderr
    names = {line.split(":", 1)[1].strip().split(" ")[0] for line in listed.stdout.splitlines() if line[:1].isdigit()}
    assert {"enterprises", "industrial_parcels", "reserve_parcels", "park_zones"} <= names, listed.stdout

    fields = _field_types(ogrinfo(url, "reserve_parcels", userpwd=f"x:{key}").stdout)
    assert fields["sl_tax_per_mu"] == "Real" and fields["sl_investment_intensity"] == "Real" and fields["sl_floor_area_ratio"] == "Real", fields
    assert fields["seq"] == "Integer" and fields["sl_rules"] == "String" and list(fields).count("id") == 1, fields
    ent = _field_types(ogrinfo(url, "enterprises", userpwd=f"x:{key}").stdout)
    assert ent["tax"] == "Real" and ent["employees"] == "Integer", ent

    refused = ogrinfo(url, "enterprises", userpwd="x:lgk_not-a-key")
    assert refused.returncode != 0 or "tax" not in refused.stdout


def test_owslib_features_with_basic_auth(live):
    from owslib.ogcapi.features import Features
    from owslib.util import Authentication

    url, store, key = live
    api = Features(url, auth=Authentication("zhang.san", key))
    assert {"enterprises", "industrial_parcels"} <= {c["id"] for c in api.collections()["collections"]}
    ent = api.collection_items("enterprises", limit=5)
    assert len(ent["features"]) == 5 and "tax" in ent["features"][0]["properties"]
    schema = api.collection("enterprises")
    described = [link for link in schema["links"] if link["rel"] == "describedby"]
    assert described and described[0]["type"] == "application/schema+json"
