"""Print-ready map sheets (issue 20, SPEC §9): `landgis map NAME --out F.pdf|F.png` and
`GET /maps/{name}/print`, rendered by Debian's headless chromium (services/map_print.py).

What an official puts in a 报批 file must hold: one page; 图名, 图例 entries, 比例尺, 指北针,
制图单位, 制图日期 and the schematic note as text (pdftotext, Debian poppler-utils, installed by
scripts/ensure-test-services.sh); the PNG at A4 300 dpi is 3508 × 2480 px landscape; the map is
really at the printed nominal scale (a parcel's outline measured in the PNG); a parcel's sheet
carries its 标准地 indicators; no restricted field reaches an anonymous sheet; renders are
bounded (503 when busy or without Chromium) and do not block the server.
"""

from __future__ import annotations

import math
import shutil
import struct
import statistics
import subprocess
import threading
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from browser_support import ARTIFACTS, ensure_assets, ensure_chromium, live_server

PLANTED_TAX = 98765.4321


def _tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} 未安装：请运行 bash scripts/ensure-test-services.sh（安装 Debian poppler-utils）"
    return path


def pdf_text(path) -> str:
    return subprocess.run([_tool("pdftotext"), "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def pdf_pages(path) -> tuple[int, str]:
    info = subprocess.run([_tool("pdfinfo"), str(path)], capture_output=True, text=True, check=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    size = next(line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("Page size:"))
    return pages, size


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    ensure_chromium()
    ensure_assets()
    from gis.store import open_store
    from parcels.layers import prepare_features
    from parcels.sample import sample_layers
    from parcels.schema import LAYERS

    s = open_store(str(tmp_path_factory.mktemp("print") / "s.gpkg"))
    for name, gdf in sample_layers().items():
        ready, _ = prepare_features(name, gdf)
        s.import_features(name, ready, mode="replace", user="test", geometry_type=LAYERS[name].geometry_type, title=LAYERS[name].title_zh, reason="test")
    yield s
    s.close()


def _cli(args: list[str]):
    from typer.testing import CliRunner

    from api.cli import app

    return CliRunner().invoke(app, args)


def test_cli_pdf_is_one_page_with_the_sheet_text(store, tmp_path):
    out = tmp_path / "x.pdf"
    t0 = time.perf_counter()
    r = _cli(["map", "parcels", "--out", str(out), "--store", store.url])
    seconds = time.perf_counter() - t0
    assert r.exit_code == 0, r.output
    pages, size = pdf_pages(out)
    assert pages == 1 and "A4" in size, size
    text = pdf_text(out)
    today = datetime.now(ZoneInfo("Asia/Shanghai"))
    for needle in (
        "南阳高新区储备地块、产业园区与范围",  # 图名
        "图例", "储备地块用途（填充色）", "工业（工业用地）", "计划报批", "道路（示意走向）", "高新区现状范围", "产业园区",  # 图例 entries
        "比例尺 1:", "单位：千米",  # scale bar and nominal scale
        "北",  # 指北针
        "制图单位：南阳高新技术产业开发区管理委员会", f"制图日期：{today.year}年{today.month}月{today.day}日",
        "示意位置（schematic）", "非实测界线",  # the schematic note
        "数据来源", "CGCS2000",
        "信臣路",  # road labels on the map
    ):
        assert needle in text, f"PDF lacks {needle!r}"
    roads = set(store.read_layer("roads")["name"])
    # (pdftotext reads the upright labels of north-south roads as split glyphs: count the east-west ones)
    assert len({r for r in roads if r in text}) >= 6, "the road names written on the map"
    assert "°" in text and "″E" in text and "″N" in text  # corner coordinates
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(out, ARTIFACTS / "print-parcels-A4.pdf")
    print(f"\nprint: parcels A4 PDF via CLI in {seconds:.2f} s")


def test_png_a4_landscape_300dpi_is_3508_by_2480(store, tmp_path):
    out = tmp_path / "x.png"
    r = _cli(["map", "parcels", "--out", str(out), "--paper", "A4", "--landscape", "--store", store.url])
    assert r.exit_code == 0, r.output
    data = out.read_bytes()
    assert png_size(data) == (3508, 2480)
    i = data.index(b"pHYs")
    assert struct.unpack(">IIB", data[i + 4:i + 13]) == (11811, 11811, 1)  # 300 dpi, so it prints at A4
    shutil.copy(out, ARTIFACTS / "print-parcels-A4-landscape.png")
    r = _cli(["map", "parcels", "--out", str(tmp_path / "a3.png"), "--paper", "A3", "--dpi", "150", "--store", store.url])
    assert r.exit_code == 0, r.output
    assert png_size((tmp_path / "a3.png").read_bytes()) == (1754, 2480)  # A3 portrait at 150 dpi


def test_parcel_sheet_shows_its_indicators_and_sizhi_roads(store, tmp_path):
    out = tmp_path / "rp01.pdf"
    r = _cli(["map", "parcels", "--feature", "RP-01", "--landscape", "--out", str(out), "--store", store.url])
    assert r.exit_code == 0, r.output
    assert pdf_pages(out)[0] == 1
    text = pdf_text(out)
    from services.standard_land import parcel_indicator_sheet

    sheet = parcel_indicator_sheet(store, "RP-01")
    assert sheet.indicators
    for ind in sheet.indicators:  # every indicator of the sheet of SPEC §6, with its limit
        assert ind["name"][:6] in text, ind["name"]
        parts = ind["requirement"].split(" ")  # "≥ 30 %" → "30"; "按行业确定" as is
        assert (parts[1] if len(parts) > 1 else parts[0]) in text, ind["requirement"]
    for needle in ("RP-01", "工业储备地 (防爆 2 个)", "地块概况", "标准地控制指标", "信臣路以南、热电厂以西", "四至道路", "信臣路", "示意位置（schematic）", "制图日期"):
        assert needle in text, needle
    shutil.copy(out, ARTIFACTS / "print-RP-01-A4-landscape.pdf")
    r = _cli(["map", "parcels", "--feature", "RP-99", "--out", str(out), "--store", store.url])
    assert r.exit_code == 1 and "RP-99" in r.output
    r = _cli(["map", "parcels", "--feature", "RP-01", "--bbox", "112.4,32.9,112.5,33.0", "--out", str(out), "--store", store.url])
    assert r.exit_code == 1


def test_map_is_at_its_nominal_scale(store, tmp_path):
    """The focus outline of RP-01 measured in the 300-dpi PNG is as wide as the parcel is on the
    ground divided by the printed scale (a wrong zoom by 0.1 would be 7 % off)."""
    import numpy as np
    import rasterio
    from pyproj import Geod

    from api.settings import Settings
    from services.maps import MapOptions
    from services.map_print import PrintRequest, print_map

    res = print_map("parcels", store, MapOptions(), PrintRequest(fmt="png", feature="RP-01", landscape=True, scale=10000), Settings(store=store.url))
    assert res.view.scale == 10000
    path = tmp_path / "rp01.png"
    path.write_bytes(res.content)
    with rasterio.open(path) as ds:
        rgb = ds.read([1, 2, 3]).astype(int)
    red = (abs(rgb[0] - 0xD5) < 20) & (rgb[1] < 30) & (rgb[2] < 30)  # the #D50000 outline
    ys, xs = np.nonzero(red)
    assert len(xs) > 1000
    px_per_mm = 300 / 25.4
    stroke_mm = 4 * 25.4 / 96  # 4 CSS px
    got_w = (xs.max() - xs.min() + 1) / px_per_mm - stroke_mm
    got_h = (ys.max() - ys.min() + 1) / px_per_mm - stroke_mm
    minx, miny, maxx, maxy = store.read_layer("reserve_parcels").set_index("id").loc[["RP-01"]].total_bounds
    geod = Geod(ellps="GRS80")
    mid = (miny + maxy) / 2
    want_w = geod.inv(minx, mid, maxx, mid)[2] / 10000 * 1000
    want_h = geod.inv(minx, miny, minx, maxy)[2] / 10000 * 1000
    assert abs(got_w - want_w) < 0.02 * want_w + 0.3, (got_w, want_w)
    assert abs(got_h - want_h) < 0.02 * want_h + 0.3, (got_h, want_h)


def test_fit_view_nice_scale_and_corners():
    from pyproj import Geod

    from maps.errors import MapInputError
    from maps.sheet import NICE_SCALES, fit_view, scale_bar, sheet_layout

    layout = sheet_layout("A4", True)
    view = fit_view((112.45, 32.95, 112.55, 33.05), layout.map_box)
    assert view.scale in NICE_SCALES
    geod = Geod(ellps="GRS80")
    lat = view.center[1]
    ground_w = geod.inv(view.corners["sw"][0], lat, view.corners["se"][0], lat)[2]
    assert abs(ground_w / (layout.map_box.w / 1000) - view.scale) / view.scale < 0.002
    assert view.corners["nw"][0] < 112.45 and view.corners["se"][0] > 112.55 and view.corners["se"][1] < 32.95 and view.corners["nw"][1] > 33.05
    length, mm = scale_bar(10000)
    assert (length, round(mm, 6)) == (200.0, 20.0) or (length / 10000 * 1000 == mm and mm <= 45)
    with pytest.raises(MapInputError, match="纸张"):
        sheet_layout("B5")
    with pytest.raises(MapInputError, match="出图范围"):
        fit_view((33.0, 112.4, 33.1, 112.5), layout.map_box)  # lat/lon swapped


# --- over HTTP ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(store):
    from fastapi import FastAPI

    from api import errors
    from api.auth import add_key
    from api.routers import maps
    from api.settings import Settings

    app = FastAPI()
    app.state.settings = Settings(store=store.url, print_concurrency=1, print_wait_s=0.3)
    app.state.store = store
    errors.install(app)
    app.include_router(maps.router)

    @app.get("/ping")
    async def ping():
        return {"ok": True}

    key = add_key(store, "print-analyst", "analyst", user="test")
    with live_server(app) as base:
        yield {"base": base, "app": app, "key": key}


def test_print_route_pdf_png_and_roles(server):
    import httpx

    base = server["base"]
    r = httpx.get(f"{base}/maps/parcels/print?format=png&paper=A4&landscape=true", timeout=60)
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert png_size(r.content) == (3508, 2480) and r.headers["x-map-scale"].startswith("1:")
    r = httpx.get(f"{base}/maps/parcels/print?format=pdf&feature=RP-01", timeout=60)
    assert r.status_code == 200 and r.content[:5] == b"%PDF-"
    # Same role rule as the map: an economic map needs an analyst key.
    assert httpx.get(f"{base}/maps/efficiency/print", timeout=60).status_code == 401
    r = httpx.get(f"{base}/maps/efficiency/print?format=pdf", headers={"Authorization": f"Bearer {server['key']}"}, timeout=90)
    assert r.status_code == 200 and r.content[:5] == b"%PDF-"
    for bad in ("format=svg", "paper=B5", "dpi=5000", "bbox=1,2,3", "feature=RP-01&bbox=112.4,32.9,112.5,33.0"):
        r = httpx.get(f"{base}/maps/parcels/print?{bad}", timeout=30)
        assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json"), (bad, r.text[:200])
    assert httpx.get(f"{base}/maps/nope/print", timeout=30).status_code == 404


def test_restricted_fields_never_on_an_anonymous_sheet(store):
    from services.maps import MapOptions
    from services.map_print import PrintRequest, sheet_page

    store.update_feature("reserve_parcels", "RP-02", {"tax": PLANTED_TAX}, user="test", reason="测试：写入受限字段")
    try:
        analyst, *_ = sheet_page("parcels", store, MapOptions(role="analyst"), PrintRequest(feature="RP-02"), producer="x")
        assert str(PLANTED_TAX) in analyst  # else this test proves nothing
        for req in (PrintRequest(feature="RP-02"), PrintRequest()):
            page, *_ = sheet_page("parcels", store, MapOptions(), req, producer="x")
            assert str(PLANTED_TAX) not in page and "98765" not in page
    finally:
        store.update_feature("reserve_parcels", "RP-02", {"tax": None}, user="test", reason="测试：清除")


def test_busy_and_missing_chromium_are_chinese_503s(server):
    import httpx

    from services.map_print import _slot

    settings = server["app"].state.settings
    slot = _slot(settings.print_concurrency)
    assert slot.acquire(timeout=30)
    try:
        r = httpx.get(f"{server['base']}/maps/parcels/print", timeout=30)
    finally:
        slot.release()
    assert r.status_code == 503 and "繁忙" in r.json()["detail"] and int(r.headers["retry-after"]) >= 1
    old = settings.chromium
    settings.chromium = "/nonexistent/chromium"
    try:
        r = httpx.get(f"{server['base']}/maps/parcels/print", timeout=30)
    finally:
        settings.chromium = old
    assert r.status_code == 503 and "未安装 Chromium" in r.json()["detail"] and "apt-get install chromium" in r.json()["detail"]


def test_render_runs_off_the_event_loop(server):
    """While a sheet renders (~2 s), the same server answers other requests at once."""
    import httpx

    done: dict = {}

    def render():
        t0 = time.perf_counter()
        done["status"] = httpx.get(f"{server['base']}/maps/parcels/print?format=png&landscape=true", timeout=60).status_code
        done["seconds"] = time.perf_counter() - t0

    t = threading.Thread(target=render)
    t.start()
    time.sleep(0.4)
    waits = []
    while t.is_alive() and len(waits) < 20:
        t0 = time.perf_counter()
        assert httpx.get(f"{server['base']}/ping", timeout=10).status_code == 200
        waits.append(time.perf_counter() - t0)
        time.sleep(0.05)
    t.join(60)
    assert done.get("status") == 200
    # A loop blocked by the render would hold the first ping until the sheet is done (≥ 1.5 s of
    # its ≈2 s); a ping delayed once by the 2-core machine's other work is not that (one was
    # 0.52 s in a full run, between pings of 40 ms), so the bar is 1 s, and the typical ping fast.
    assert waits and max(waits) < 1.0 and statistics.median(waits) < 0.2, waits
    print(f"\nprint: A4 landscape PNG over HTTP in {done['seconds']:.2f} s; /ping during it max {max(waits) * 1000:.0f} ms ({len(waits)} pings)")


def test_scale_bar_length_is_true():
    from maps.sheet import scale_bar

    for n in (2000, 10000, 15000, 50000, 150000):
        length, mm = scale_bar(n)
        assert math.isclose(mm, length / n * 1000) and 10 <= mm <= 45, (n, length, mm)


def test_long_legend_gets_a_wider_panel_not_a_cut_one(store, tmp_path):
    """The expansion study's legend carries a 28-row balance table: on A4 landscape the sheet
    widens its panel to two columns rather than cutting text off (the renderer checks it fits)."""
    out = tmp_path / "expansion.pdf"
    r = _cli(["map", "expansion", "--landscape", "--out", str(out), "--store", store.url])
    assert r.exit_code == 0, r.output
    assert pdf_pages(out)[0] == 1
    text = pdf_text(out)
    for needle in ("用地供需平衡", "供需差额", "用地适宜性", "制图日期", "示意位置（schematic）"):
        assert needle in text, needle


def test_parcel_sheet_on_both_stores(store_url, tmp_path):
    """The same parcel sheet from a GeoPackage and from PostGIS (its 四至 roads, its indicators)."""
    ensure_chromium()
    assert _cli(["init", "--store", store_url]).exit_code == 0
    out = tmp_path / "rp05.pdf"
    r = _cli(["map", "parcels", "--feature", "RP-05", "--out", str(out), "--store", store_url])
    assert r.exit_code == 0, r.output
    text = pdf_text(out)
    # the sheet's default indicators are the confirmed ones (SPEC §6): 建筑系数 ≥ 30 %, no sample 投资强度
    for needle in ("光电产业园剩余地块（RP-05）", "经十路以西、纬七路以南", "四至道路（橙色加粗）：纬七路、经十路", "建筑系数", "制图日期"):
        assert needle in text, needle
    assert "投资强度" not in text
