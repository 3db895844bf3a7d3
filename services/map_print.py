"""Print-ready map sheets (附图): `landgis map NAME --out F.pdf|F.png` and `GET /maps/{name}/print`.

Why headless Chromium (playwright driving Debian's `chromium`) rather than matplotlib:
- the sheet *is* the map the official sees on screen — the same builders, styles, road and
  parcel labels (maps/labels.py), legend and basemaps — laid out on the page in millimetres
  (maps/sheet.py); a matplotlib plot would be a second renderer of every style and label rule,
  and the two would drift apart;
- Chromium's print-to-PDF writes real text (pdftotext reads the 图名, 图例 and indicators) in the
  installed CJK font (Debian's fonts-noto-cjk) and vector lines for the parcels; its screenshot
  at a device scale of dpi/96 gives the exact A4/A3 pixel size;
- nothing new to install: the tests already run Debian's chromium through the PyPI
  `playwright` package, and matplotlib is not installed here.
The cost is a browser start per sheet (≈0.4 s) and ~150 MB while it runs, so renders run off
the event loop and at most `LANDGIS_PRINT_CONCURRENCY` at once per process; a request that
finds no free slot within `LANDGIS_PRINT_WAIT_S` is told so (503, Retry-After). Without
/usr/bin/chromium (LANDGIS_CHROMIUM) the sheet is refused with a Chinese 503 that says what to
install; the interactive maps do not need it.
"""

from __future__ import annotations

import re
import struct
import threading
import time
import zlib
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import geopandas as gpd

from maps.base import add_layer, render_html
from maps.basemaps import Basemap
from maps.errors import MapForbidden, MapInputError, MapUnavailable
from maps.sheet import SheetInfo, SheetLayout, SheetView, apply_sheet, fit_view, focus_style, sheet_layout
from parcels.access import hidden_for, may_see_economic, redact_mapping
from services.maps import MapOptions, get_spec

FORMATS = {"pdf": "application/pdf", "png": "image/png"}
STATUS_ZH = {"confirmed": "已确认", "sample": "示例值", "unverified": "未核实"}
LAYER_TITLES = {"reserve_parcels": "储备地块", "park_zones": "产业园区", "zone_boundary": "高新区范围", "roads": "道路", "enterprises": "企业", "industrial_parcels": "工业用地宗地"}
MAX_PIXELS = 40_000_000


class PanelOverflow(MapInputError):
    """The legend, tables and notes do not fit the sheet's panel even in its smallest type."""


class PrintUnavailable(MapInputError):
    """The sheet cannot be rendered on this server now (no Chromium, or every slot busy): 503."""

    def __init__(self, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.retry_after = retry_after


@dataclass
class PrintRequest:
    fmt: str = "pdf"
    paper: str = "A4"
    landscape: bool = False
    bbox: tuple[float, float, float, float] | None = None
    feature: str | None = None
    dpi: int = 300
    scale: int | None = None

    def check(self) -> None:
        self.fmt = (self.fmt or "pdf").strip().lower()
        if self.fmt not in FORMATS:
            raise MapInputError(f"出图格式“{self.fmt}”不支持：只能是 pdf 或 png。")
        if not 72 <= int(self.dpi) <= 600:
            raise MapInputError(f"分辨率 {self.dpi} dpi 超出范围：应在 72–600 之间（常用 300）。")
        if self.bbox is not None and self.feature:
            raise MapInputError("--bbox 与 --feature 只能指定其一。")
        if self.scale is not None and not 100 <= int(self.scale) <= 10_000_000:
            raise MapInputError(f"比例尺分母 {self.scale} 超出范围（100–10 000 000）。")


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    """`minlon,minlat,maxlon,maxlat` (CGCS2000) → tuple, or a Chinese MapInputError."""
    if text is None or not str(text).strip():
        return None
    try:
        parts = tuple(float(v) for v in str(text).replace("，", ",").split(","))
    except ValueError:
        parts = ()
    if len(parts) != 4:
        raise MapInputError(f"出图范围“{text}”无效：应为 最小经度,最小纬度,最大经度,最大纬度，如 112.43,32.97,112.52,33.03。")
    return parts  # type: ignore[return-value]


def today_text(now: datetime | None = None) -> str:
    d = now or datetime.now(ZoneInfo("Asia/Shanghai"))
    return f"{d.year}年{d.month}月{d.day}日"


# --- the sheet's HTML --------------------------------------------------------------------------


def _find_feature(store, layers: tuple[str, ...], fid: str, opts: MapOptions) -> tuple[str, dict]:
    for layer in layers:
        if store.layer_exists(layer):
            feat = store.get_feature(layer, fid)
            if feat is not None:
                return layer, redact_mapping(feat, hidden_for(opts.role)) or {}
    raise MapUnavailable(f"要素“{fid}”不在该地图的图层（{'、'.join(LAYER_TITLES.get(x, x) for x in layers)}）中：请核对编号，如储备地块 RP-01。")


def _sizhi_roads(store, text: str | None) -> tuple[str, ...]:
    """The roads a 四至 text names (by name or alias), as stored names."""
    if not text or not store.layer_exists("roads"):
        return ()
    cols = [c for c in ("name", "alias") if c in store.columns("roads")]
    if "name" not in cols:
        return ()
    found = []
    for row in store.value_counts("roads", cols):
        name, alias = row[0], (row[1] if len(cols) > 1 else None)
        if (name and str(name) in text) or (alias and str(alias) in text):
            found.append(str(name))
    return tuple(sorted(set(found)))


def _sources_and_notes(store, layers: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """One 数据来源 line (the documents the layers cite, and the layers drawn) and the notes on
    schematic geometry and synthetic data, from the store's `data_source`/`geometry_source`."""
    docs: list[str] = []
    drawn: list[str] = []
    schematic = synthetic = 0
    for layer in layers:
        if not store.layer_exists(layer):
            continue
        drawn.append(LAYER_TITLES.get(layer, layer))
        cols = store.columns(layer)
        if "data_source" in cols:
            for value, n in store.value_counts(layer, ["data_source"]):
                text = str(value or "")
                for doc in re.findall(r"《[^》]{2,60}》", text):
                    if doc not in docs:
                        docs.append(doc)
                if "合成" in text or "synthetic" in text:
                    synthetic += int(n)
        if "geometry_source" in cols:
            schematic += sum(int(r[-1]) for r in store.value_counts(layer, ["geometry_source"]) if r[0] == "schematic")
    sources = [f"{'、'.join(docs[:3]) or '各图层 data_source 字段'}；landgis 数据库图层：{'、'.join(drawn)}。"]
    notes = []
    if schematic:
        notes.append(f"注意：图中 {schematic} 个要素的几何为示意位置（schematic），依规划文本绘制，非实测界线，不得用于确权、计量或报批面积。")
    else:
        notes.append("几何来源：实测或数字化数据（无示意几何）。")
    if synthetic:
        notes.append(f"注意：{synthetic} 条企业数据为合成样例（synthetic），仅供演示。")
    return sources, notes


def _parcel_tables(store, parcel: dict) -> tuple[list, list[str]]:
    """(tables, notes) of a reserve parcel's sheet: its facts and its 标准地 indicator sheet (SPEC §6)."""
    from services.standard_land import parcel_indicator_sheet

    def val(k: str, unit: str = "") -> str:
        v = parcel.get(k)
        if v is None or v == "":
            return "—"
        if isinstance(v, float):
            return f"{v:,.2f}{unit}"
        return f"{v}{unit}"

    facts = [["编号", val("id")], ["序号（表2）", val("seq")], ["项目名称", val("name")], ["辖区", val("district")], ["位置（四至）", val("location")],
             ["用途", val("use")], ["面积", f"{val('area_mu', ' 亩')}（示意几何量算）" if parcel.get("geometry_source") == "schematic" else val("area_mu", " 亩")], ["报批状态", val("status")]]
    tables = [("地块概况", ["项目", "内容"], facts)]
    notes: list[str] = []
    sheet = parcel_indicator_sheet(store, str(parcel["id"]))
    if not sheet.applicable:
        notes.append(f"标准地指标：{sheet.message or '该地块用途不适用标准地控制指标。'}")
        return tables, notes
    rows = [[i["name"], i["requirement"], "、".join(i.get("phase") or []), STATUS_ZH.get(i.get("status"), str(i.get("status")))] for i in sheet.indicators]
    tables.append(("标准地控制指标（指标清单）", ["指标", "控制值", "适用阶段", "依据"], rows))
    if sheet.to_dict()["area_schematic"]:
        notes.append("面积取自示意几何（schematic），非实测或登记的宗地面积。")
    notes.append("指标仅列已核实规则（未核实、示例值规则须点名后才列出，见 landgis sheet --rules）；行业分档见指标清单全文（landgis sheet " + str(parcel["id"]) + "）。")
    return tables, notes


def panel_sizes(req: PrintRequest) -> list[float]:
    """The panel sizes (mm) tried in turn: the usual one, then a wider (landscape, two columns)
    or taller (portrait) one for a legend with a long table (the expansion study's balance)."""
    if req.landscape:
        return [104.0, 150.0] if req.feature else [78.0, 150.0]
    return [112.0, 150.0] if req.feature else [78.0, 130.0]


def sheet_page(name: str, store, opts: MapOptions, req: PrintRequest, *, producer: str, now: datetime | None = None, panel_mm: float | None = None) -> tuple[str, SheetLayout, SheetView, Basemap]:
    """The sheet's self-contained HTML (the map built saved, then framed by maps/sheet.py)."""
    req.check()
    spec = get_spec(name)
    if not spec.public and not may_see_economic(opts.role):
        raise MapForbidden(f"地图“{spec.title}”含企业经济数据，需分析人员（analyst）权限。")
    # A parcel sheet's panel holds the 地块概况 and indicator tables too: larger (panel_sizes).
    layout = sheet_layout(req.paper, req.landscape, panel_mm if panel_mm is not None else panel_sizes(req)[0])
    w, h = layout.pixels(req.dpi)
    if req.fmt == "png" and w * h > MAX_PIXELS:
        raise MapInputError(f"{layout.paper} 在 {req.dpi} dpi 下为 {w}×{h} 像素，超过上限 {MAX_PIXELS // 1_000_000} 百万像素：请降低分辨率或改用 PDF。")
    opts.mode = "saved"
    focus = None
    title_extra: dict = {}
    if req.feature:
        layer, focus = _find_feature(store, spec.layers, req.feature.strip(), opts)
        roads = _sizhi_roads(store, focus.get("location"))
        if roads:
            opts.params = {**opts.params, "_sizhi": roads}
        title_extra = {"layer": layer, "roads": roads}
    m, ctx = spec.build(store, opts)
    tables: list = []
    extra_notes: list[str] = []
    if focus is not None:
        geom = focus["geometry"]
        one = gpd.GeoDataFrame({"id": [focus.get("id")]}, geometry=[geom], crs=4490)
        # Not in the layer control: it was rendered before this layer existed (and is hidden on paper).
        add_layer(m, ctx, one, key="sheet_focus", title="本图地块", style=focus_style()).control = False
        minx, miny, maxx, maxy = geom.bounds
        pad = max(maxx - minx, maxy - miny) * 0.9 + 0.002
        bbox = (minx - pad, miny - pad, maxx + pad, maxy + pad)
        label = f"{focus.get('name') or ''}（{focus.get('id')}）".strip()
        title = f"{label}位置图" if title_extra["layer"] != "reserve_parcels" else f"{label}位置及标准地指标图"
        subtitle_bits = ["南阳高新区", f"表2 序号 {focus.get('seq')}" if focus.get("seq") is not None else "", str(focus.get("location") or "")]
        subtitle = " · ".join(b for b in subtitle_bits if b)
        if title_extra["roads"]:
            extra_notes.append(f"四至道路（橙色加粗）：{'、'.join(title_extra['roads'])}。")
        if title_extra["layer"] == "reserve_parcels":
            tables, more = _parcel_tables(store, focus)
            extra_notes += more
    else:
        bbox = req.bbox or (tuple(ctx.bounds) if ctx.bounds else None)
        if bbox is None:
            raise MapUnavailable("地图中没有可出图的要素：请用 --bbox 指定出图范围。")
        title = ctx.title
        subtitle = ""
    view = fit_view(bbox, layout.map_box, scale=req.scale)
    sources, notes = _sources_and_notes(store, spec.layers)
    if ctx.basemap.url:
        sources.append(f"底图——{ctx.basemap.title}（{ctx.basemap.attribution}）")
    info = SheetInfo(title=title, producer=producer, date=today_text(now), sources=sources, notes=notes + extra_notes, tables=tables, subtitle=subtitle)
    legend = ctx.legend
    if legend is not None:
        # The sheet states the schematic-geometry note itself (with every layer counted).
        legend = replace(legend, notes=[n for n in legend.notes if not (n.startswith("注意") and "示意" in n)])
    apply_sheet(m, legend, layout, view, info, gcj02=ctx.gcj02)
    return render_html(m, ctx), layout, view, ctx.basemap


# --- rendering ---------------------------------------------------------------------------------

_slots: dict[int, threading.BoundedSemaphore] = {}
_slots_lock = threading.Lock()


def _slot(n: int) -> threading.BoundedSemaphore:
    with _slots_lock:
        if n not in _slots:
            _slots[n] = threading.BoundedSemaphore(max(1, n))
        return _slots[n]


def _allowed_request(basemap: Basemap, tianditu_key: str | None):
    """Only the sheet's own basemap tiles may be fetched while it renders (no other request)."""
    patterns = []
    for url in (basemap.tile_url(tianditu_key), basemap.overlay_tile_url(tianditu_key)):
        if url:
            rx = re.escape(url)
            for ph in ("{s}", "{z}", "{x}", "{y}", "{-y}", "{r}"):
                rx = rx.replace(re.escape(ph), r"[^/?&]*")
            patterns.append(re.compile("^" + rx + "$"))

    def allowed(url: str) -> bool:
        return url.startswith(("data:", "about:", "blob:")) or any(p.match(url) for p in patterns)

    return allowed


def _png_dpi(png: bytes, dpi: int) -> bytes:
    """The PNG with a pHYs chunk saying `dpi`, so it prints at the sheet's size (and scale)."""
    ppm = round(dpi / 0.0254)
    data = struct.pack(">IIB", ppm, ppm, 1)
    chunk = struct.pack(">I", len(data)) + b"pHYs" + data + struct.pack(">I", zlib.crc32(b"pHYs" + data) & 0xFFFFFFFF)
    end_ihdr = 8 + 8 + 13 + 4
    return png[:end_ihdr] + chunk + png[end_ihdr:]


def _viewport_for(layout: SheetLayout, dpi: int) -> tuple[int, int, float]:
    """CSS viewport and device scale whose screenshot is exactly the paper's pixels at `dpi`."""
    tw, th = layout.pixels(dpi)
    cw, ch = layout.width_mm / 25.4 * 96, layout.height_mm / 25.4 * 96
    best = None
    for vw in (int(cw), int(cw) + 1):
        for vh in (int(ch), int(ch) + 1):
            for scale in (tw / vw, th / vh):
                err = abs(round(vw * scale) - tw) + abs(round(vh * scale) - th)
                if best is None or err < best[0]:
                    best = (err, vw, vh, scale)
    _, vw, vh, scale = best
    return vw, vh, scale


def render_sheet(page_html: str, layout: SheetLayout, fmt: str, dpi: int, basemap: Basemap, *, chromium: str = "/usr/bin/chromium", tianditu_key: str | None = None,
                 concurrency: int = 2, wait_s: float = 10.0, timeout_s: float = 60.0) -> bytes:
    """PDF or PNG bytes of the sheet, rendered by headless Chromium; blocking (run it off the event loop)."""
    if not Path(chromium).exists():
        raise PrintUnavailable(f"服务器未安装 Chromium（{chromium}），无法生成 PDF/PNG 图件。请管理员执行 `apt-get install chromium fonts-noto-cjk`（或设置 LANDGIS_CHROMIUM），交互地图不受影响。")
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        raise PrintUnavailable("服务器缺少 Python 包 playwright，无法驱动 Chromium 出图：请执行 `pip install playwright`（无需下载其浏览器，使用系统 Chromium）。") from exc
    slot = _slot(concurrency)
    if not slot.acquire(timeout=max(0.0, wait_s)):
        raise PrintUnavailable(f"出图任务繁忙（同时最多 {concurrency} 张），请 {int(wait_s) or 5} 秒后重试。", retry_after=max(1, int(wait_s) or 5))
    try:
        allowed = _allowed_request(basemap, tianditu_key)
        vw, vh, scale = _viewport_for(layout, dpi)
        with sync_playwright() as p:
            try:
                browser = p.chromium.launch(executable_path=chromium, args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"])
            except PlaywrightError as exc:
                raise PrintUnavailable(f"Chromium（{chromium}）无法启动：{str(exc).splitlines()[0][:200]}。请检查其安装。") from exc
            try:
                ctx = browser.new_context(viewport={"width": vw, "height": vh}, device_scale_factor=scale if fmt == "png" else 1)
                page = ctx.new_page()
                page.route("**/*", lambda route: route.continue_() if allowed(route.request.url) else route.abort())
                page.set_default_timeout(timeout_s * 1000)
                page.set_content(page_html, wait_until="load")
                page.wait_for_function("window.landgisSheet && window.landgisSheet.ready === true")
                if not page.evaluate("window.landgisSheet.panelFits"):
                    raise PanelOverflow("图例与说明在该纸张上放不下：请改用 A3" + ("。" if layout.landscape else " 或横向（--landscape）。"))
                if fmt == "pdf":
                    return page.pdf(width=f"{layout.width_mm}mm", height=f"{layout.height_mm}mm", print_background=True, prefer_css_page_size=True, margin={"top": "0", "right": "0", "bottom": "0", "left": "0"})
                return _png_dpi(page.screenshot(type="png"), dpi)
            finally:
                browser.close()
    finally:
        slot.release()


@dataclass
class PrintResult:
    content: bytes
    media_type: str
    filename: str
    view: SheetView
    layout: SheetLayout
    seconds: float


def print_map(name: str, store, opts: MapOptions, req: PrintRequest, settings) -> PrintResult:
    """Build and render one sheet (blocking). `settings`: api.settings.Settings."""
    t0 = time.perf_counter()
    sizes = panel_sizes(req)
    for i, panel_mm in enumerate(sizes):
        page_html, layout, view, basemap = sheet_page(name, store, replace(opts, params=dict(opts.params)), req, producer=settings.map_producer, panel_mm=panel_mm)
        try:
            content = render_sheet(
                page_html, layout, req.fmt, req.dpi, basemap, chromium=settings.chromium, tianditu_key=opts.tianditu_key,
                concurrency=settings.print_concurrency, wait_s=settings.print_wait_s,
            )
            break
        except PanelOverflow:
            if i == len(sizes) - 1:
                raise
    stem = f"landgis-{name}" + (f"-{req.feature}" if req.feature else "") + f"-{layout.paper}"
    return PrintResult(content, FORMATS[req.fmt], f"{stem}.{req.fmt}", view, layout, time.perf_counter() - t0)
