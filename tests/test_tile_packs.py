"""`landgis tiles LAYER --out F.pmtiles` (SPEC §8.2; issue 18): the archive opens in the `pmtiles`
reader, its tiles gunzip and decode (mapbox_vector_tile, the reference decoder) with the layer's
features and attributes, only tiles over the layer's extent are in it; a pack of a non-public layer
needs an analyst key and says so; served packs answer range requests with the pack's role rule.
"""

from __future__ import annotations

import gzip

import mapbox_vector_tile
import morecantile
import pytest
from api_support import load_sample
from typer.testing import CliRunner

from api.cli import app as cli


@pytest.fixture
def sample(store):
    load_sample(store)
    return store


def _read(path):
    from pmtiles.reader import MmapSource, Reader, all_tiles

    with open(path, "rb") as f:
        reader = Reader(MmapSource(f))
        header, metadata = reader.header(), reader.metadata()
        tiles = {zxy: mapbox_vector_tile.decode(gzip.decompress(data)) for zxy, data in all_tiles(reader.get_bytes)}
    return header, metadata, tiles


def test_pack_opens_and_its_tiles_decode_with_the_layers_features(sample, tmp_path):
    from pmtiles.tile import Compression, TileType

    out = tmp_path / "reserve.pmtiles"
    r = CliRunner().invoke(cli, ["tiles", "reserve_parcels", "--out", str(out), "--minzoom", "11", "--maxzoom", "15", "--store", sample.url])
    assert r.exit_code == 0, r.output
    assert "已写出瓦片包" in r.output
    header, metadata, tiles = _read(out)
    assert header["tile_type"] == TileType.MVT and header["tile_compression"] == Compression.GZIP
    assert (header["min_zoom"], header["max_zoom"]) == (11, 15) and metadata["landgis:role"] == "anonymous"
    assert metadata["vector_layers"][0]["id"] == "reserve_parcels" and metadata["vector_layers"][0]["fields"]["area_mu"] == "Number"
    assert "示意" in metadata["attribution"]  # the sample's schematic geometry says so in the pack too

    ours = sample.read_layer("reserve_parcels").set_index("id")
    w, s, e, n = sample.extent("reserve_parcels")
    tms = morecantile.tms.get("WebMercatorQuad")
    for z in range(11, 16):
        at_zoom = {k: v for k, v in tiles.items() if k[0] == z}
        assert at_zoom, f"no tile at zoom {z}"
        over_extent = {(t.x, t.y) for t in tms.tiles(w, s, e, n, [z])}
        assert {(x, y) for _, x, y in at_zoom} <= over_extent  # only tiles over the layer's extent
        seen = {}
        for doc in at_zoom.values():
            for feat in doc["reserve_parcels"]["features"]:
                seen[feat["properties"]["id"]] = feat["properties"]
        assert set(seen) == set(ours.index), f"zoom {z}: features missing or extra"
        for fid, props in seen.items():
            assert props["use"] == ours.loc[fid, "use"] and props["area_mu"] == pytest.approx(ours.loc[fid, "area_mu"], rel=1e-6)
    # Byte for byte the store's own tile (the API's), gzip-compressed.
    (z, x, y), _ = next(iter(tiles.items()))
    from pmtiles.reader import MmapSource, Reader
    from pmtiles.tile import zxy_to_tileid  # noqa: F401 - the reader looks tiles up by z/x/y

    with open(out, "rb") as f:
        packed = gzip.decompress(Reader(MmapSource(f)).get(z, x, y))
    from gis.store.items import visible_columns
    from gis.tiles import tile_columns
    from parcels.access import hidden_for

    kinds = visible_columns(sample, "reserve_parcels", hidden_for("anonymous"))
    assert packed == sample.tile("reserve_parcels", z, x, y, tile_columns(list(kinds)), kinds)


def test_restricted_pack_needs_an_analyst_key_and_is_served_only_to_analysts(sample, tmp_path, monkeypatch):
    from fastapi.testclient import TestClient
    from pmtiles.tile import deserialize_header

    from api.app import create_app
    from api.auth import add_key
    from api.settings import Settings

    packs = tmp_path / "packs"
    out = packs / "enterprises.pmtiles"
    monkeypatch.delenv("LANDGIS_KEY", raising=False)
    r = CliRunner().invoke(cli, ["tiles", "enterprises", "--out", str(out), "--store", sample.url])
    assert r.exit_code == 1 and "分析人员" in r.output and "--key" in r.output and not out.exists()
    admin_less = add_key(sample, "packer", "analyst", user="test")
    r = CliRunner().invoke(cli, ["tiles", "enterprises", "--out", str(out), "--store", sample.url, "--key", "lgk_wrong"])
    assert r.exit_code == 1 and not out.exists()
    r = CliRunner().invoke(cli, ["tiles", "enterprises", "--out", str(out), "--minzoom", "12", "--maxzoom", "14", "--store", sample.url, "--key", admin_less])
    assert r.exit_code == 0 and "内部资料" in r.output, r.output
    _, metadata, tiles = _read(out)
    from parcels.access import RESTRICTED_FIELDS

    assert metadata["landgis:role"] == "analyst" and "内部资料" in metadata["description"]
    assert set(metadata["vector_layers"][0]["fields"]) & RESTRICTED_FIELDS  # the analyst's pack keeps economic fields
    assert tiles
    r = CliRunner().invoke(cli, ["tiles", "reserve_parcels", "--out", str(packs / "reserve.pmtiles"), "--minzoom", "12", "--maxzoom", "13", "--store", sample.url])
    assert r.exit_code == 0
    r = CliRunner().invoke(cli, ["tiles", "reserve_parcels", "--out", str(packs / "x.pmtiles"), "--minzoom", "9", "--maxzoom", "30", "--store", sample.url])
    assert r.exit_code == 1 and "maxzoom" in r.output

    client = TestClient(create_app(Settings(store=sample.url, tile_packs=str(packs)), store=sample))
    analyst = {"Authorization": f"Bearer {admin_less}"}
    assert [p["name"] for p in client.get("/tile-packs").json()["packs"]] == ["reserve.pmtiles"]
    assert {p["name"] for p in client.get("/tile-packs", headers=analyst).json()["packs"]} == {"enterprises.pmtiles", "reserve.pmtiles"}
    assert client.get("/tile-packs/enterprises.pmtiles").status_code == 401
    part = client.get("/tile-packs/reserve.pmtiles", headers={"Range": "bytes=0-126"})
    assert part.status_code == 206 and len(part.content) == 127 and part.headers["accept-ranges"] == "bytes"
    assert deserialize_header(part.content)["min_zoom"] == 12
    whole = client.get("/tile-packs/enterprises.pmtiles", headers=analyst)
    assert whole.status_code == 200 and whole.content == out.read_bytes()
    assert client.get("/tile-packs/..%2Fstore.gpkg").status_code == 404


def test_served_map_draws_the_pack_in_headless_chromium(tmp_path):
    """A field laptop's map: the pack drawn by landgis.packLayer from range requests, no tile
    server request, nothing from the internet; screenshot kept as a test artefact."""
    from browser_support import ARTIFACTS, Watch, chromium_browser, live_server
    from test_maps_tiled import screen_pixels

    from api.app import create_app
    from api.settings import Settings
    from gis.store import open_store

    store = open_store(str(tmp_path / "field.gpkg"))
    load_sample(store)
    packs = tmp_path / "packs"
    r = CliRunner().invoke(cli, ["tiles", "reserve_parcels", "--out", str(packs / "reserve.pmtiles"), "--minzoom", "11", "--maxzoom", "16", "--store", store.url])
    assert r.exit_code == 0, r.output
    parcels = store.read_layer("reserve_parcels")
    app = create_app(Settings(store=store.url, tile_packs=str(packs)), store=store)
    browser = chromium_browser()
    b = next(browser)
    try:
        with live_server(app) as base:
            page = b.new_context(viewport={"width": 1100, "height": 800}).new_page()
            watch = Watch(page)
            seen = []
            page.on("response", lambda resp: seen.append((resp.url, resp.status)))
            page.goto(f"{base}/tile-packs/reserve.pmtiles/map", wait_until="load")
            page.wait_for_function("window.landgis && window.landgis.packTiles > 0", timeout=30000)
            page.wait_for_timeout(800)
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            shot = page.screenshot(path=str(ARTIFACTS / "tile_pack_map.png"))
            points = page.evaluate(
                """(pts) => { const m = window.landgis.layers.reserve_parcels.layer._map;
                    return pts.map(p => { const c = m.latLngToContainerPoint([p[1], p[0]]); return [c.x, c.y]; }); }""",
                [[p.x, p.y] for p in parcels.geometry.representative_point()],
            )
            inside_view = [(x, y) for x, y in points if 5 < x < 1095 and 5 < y < 795]
            inside = screen_pixels(page, shot, inside_view)
            watch.assert_clean()
    finally:
        try:
            next(browser)
        except StopIteration:
            pass
        store.close()
    packed = [(u, s) for u, s in seen if u.endswith("/tile-packs/reserve.pmtiles")]
    assert packed and all(s == 206 for _, s in packed), packed  # range requests only, never the whole file
    assert not [u for u, _ in seen if "/tiles/WebMercatorQuad/" in u]  # no tile server involved
    assert inside, "no parcel in view"
    painted = [px for px in inside if px[2] - px[0] > 40]  # the pack's blue fill over the background
    assert len(painted) >= 0.8 * len(inside), (len(painted), len(inside), inside[:5])
