"""Maps over HTTP (SPEC §8.3, §9): `GET /maps`, `GET /maps/{name}` and the vendored map assets.

Served maps link Leaflet and its plugins from `/static/maps/...` (this router serves them from
maps/assets/, installed by scripts/fetch-map-assets.sh), so a browser on the intranet never
asks a CDN. `?download=1` returns the self-contained file that `landgis map` writes.
Access (SPEC §8.4): public maps for everyone; maps of enterprise data need `analyst`.
"""

from __future__ import annotations

import html
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from api.auth import require
from api.dependencies import get_principal, get_store
from api.errors import problem
from api.head import head_response, is_head
from gis.store import Store
from maps.assets import STATIC_PREFIX, MapAssetsMissing, resolve_static
from maps.basemaps import BASEMAPS
from maps.errors import MapConfigError, MapInputError
from maps.basemaps import parse_bureau_basemaps
from services.maps import MAPS, MapForbidden, MapOptions, MapTooLarge, MapUnavailable, check_page_size, get_spec, render_page

router = APIRouter(tags=["maps"])


def _root(request: Request) -> str:
    return request.scope.get("root_path", "").rstrip("/")


def _wants_json(request: Request, f: str | None) -> bool:
    if f:
        return f.lower() == "json"
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def _role(request: Request, public: bool, title: str) -> str:
    """The caller's role; a map of economic data needs `analyst` (AuthError → 401/403 problem).

    Which map is asked for is in the path, so the check cannot be a fixed route dependency."""
    principal = get_principal(request)
    if not public:
        require(principal, "analyst", f"地图“{title}”")
    return principal.role


MAP_STATUS: tuple[tuple[type | tuple[type, ...], int], ...] = (
    (MapTooLarge, 413),
    (MapForbidden, 403),
    (MapUnavailable, 409),
    ((MapAssetsMissing, MapConfigError), 503),
    (MapInputError, 400),
)
"""What each map error answers, most specific first (MapInputError is the base of the first three)."""
MAP_ERRORS = (MapInputError, MapAssetsMissing, MapConfigError)


async def _spec_and_role(request: Request, name: str):
    """The map asked for (MapInputError when there is none: 404) and the caller's role, checked
    against it (AuthError: 401/403) — the same rule for the page and its print sheet."""
    spec = get_spec(name)
    role = await run_in_threadpool(_role, request, spec.public, spec.title)
    return spec, role


def _map_problem(exc: Exception, path: str, hint: str | None = None) -> Response:
    status = next(code for kinds, code in MAP_STATUS if isinstance(exc, kinds))
    return problem(status, str(exc), hint=hint, instance=path)


@router.get("/maps", summary="地图列表 / list of maps")
def list_maps(request: Request, f: str | None = Query(None, description="json | html")) -> Response:
    root = _root(request)
    items = [
        {"name": s.name, "title": s.title, "description": s.description, "public": s.public, "href": f"{root}/maps/{s.name}", "download": f"{root}/maps/{s.name}?download=1", "print": f"{root}/maps/{s.name}/print?format=pdf&paper=A4&landscape=true"}
        for s in MAPS.values()
    ]
    basemaps = [{"key": b.key, "title": b.title} for b in BASEMAPS.values()]
    if f is not None and f.lower() not in ("json", "html"):
        return problem(400, f"参数 f=“{f}”无效：只能是 json 或 html。", instance=str(request.url.path))
    if _wants_json(request, f):
        return JSONResponse({"maps": items, "basemaps": basemaps, "links": [{"rel": "self", "href": f"{root}/maps?f=json", "type": "application/json"}]})
    rows = "".join(
        f'<li><a href="{html.escape(i["href"])}">{html.escape(i["title"])}</a>（{html.escape(i["name"])}）'
        f'{"" if i["public"] else "（需分析人员权限）"}：{html.escape(i["description"])} '
        + " ".join(f'<a href="{html.escape(i["href"])}?basemap={b["key"]}">{html.escape(b["title"])}</a>' for b in basemaps if b["key"] != "none")
        + f' · <a href="{html.escape(i["download"])}">下载单文件</a> · <a href="{html.escape(i["print"])}">打印图件（A4 PDF）</a></li>'
        for i in items
    )
    page = (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>landgis 地图</title></head>'
        f"<body><h1>南阳高新区 landgis 地图</h1><ul>{rows}</ul>"
        "<p>默认无底图（内网离线可用）；可选底图需能访问互联网，天地图需配置密钥。</p></body></html>"
    )
    return HTMLResponse(page)


@router.get("/maps/{name}", summary="打开地图 / one map as HTML", response_class=HTMLResponse)
async def get_map(
    request: Request,
    name: str,
    store: Store = Depends(get_store),
    basemap: str = Query("none", description="none | osm | tianditu | tianditu_img | amap | 内网底图的 key（LANDGIS_BASEMAPS）"),
    indicator: str | None = Query(None, description="亩均效益地图的分级设色指标，如 tax_per_mu"),
    as_of: str | None = Query(None, description="土地供应监管地图的统计截止日期 YYYY-MM-DD（默认今天）"),
    run: str | None = Query(None, description="亩均效益地图显示的评价运行编号（默认最新一次）"),
    download: bool = Query(False, description="下载自包含的单个 HTML 文件"),
    f: str | None = Query(None, description="html"),
) -> Response:
    path = str(request.url.path)
    if f is not None and f.lower() != "html":
        return problem(400, f"地图只提供 HTML 格式（f=html），不支持 f=“{f}”。", instance=path)
    try:
        spec, role = await _spec_and_role(request, name)
    except MapInputError as exc:
        return problem(404, str(exc), instance=path)
    settings = request.app.state.settings
    root = _root(request)
    opts = MapOptions(
        basemap=basemap,
        tianditu_key=getattr(settings, "tianditu_key", None),
        mode="saved" if download else "served",
        prefix=f"{root}{STATIC_PREFIX}",
        api_root=root,
        large_threshold=settings.map_large_threshold,
        params={k: v for k, v in {"indicator": indicator, "as_of": as_of, "run": run}.items() if v},
        role=role,
    )
    try:
        opts.basemaps = parse_bureau_basemaps(getattr(settings, "basemaps", None))
        await run_in_threadpool(check_page_size, name, store, opts, settings.map_download_max_features)
        page = None if is_head(request) else await run_in_threadpool(render_page, name, store, opts)
    except MAP_ERRORS as exc:
        hint = f"在线地图：{root}/maps/{name}（矢量瓦片，不受此上限约束）" if isinstance(exc, MapTooLarge) else None
        return _map_problem(exc, path, hint)
    headers = {}
    if download:
        headers["Content-Disposition"] = f"attachment; filename=\"landgis-{name}.html\"; filename*=UTF-8''{quote(f'landgis-{name}.html')}"
    if page is None:  # HEAD: the checks ran, the page is not built (api/head.py)
        return head_response("text/html; charset=utf-8", headers)
    return HTMLResponse(page, headers=headers)


@router.get("/maps/{name}/print", summary="打印图件 / a map as a print sheet (PDF or PNG)")
async def print_map_sheet(
    request: Request,
    name: str,
    store: Store = Depends(get_store),
    format: str = Query("pdf", description="pdf | png"),
    paper: str = Query("A4", description="A4 | A3"),
    landscape: bool = Query(False, description="横向"),
    bbox: str | None = Query(None, description="出图范围：最小经度,最小纬度,最大经度,最大纬度（CGCS2000）"),
    feature: str | None = Query(None, description="单个要素的图件，如储备地块 RP-01"),
    dpi: int = Query(300, description="PNG 分辨率（72–600）"),
    scale: int | None = Query(None, description="比例尺分母，如 10000（默认按范围自动取整）"),
    basemap: str = Query("none", description="底图（同 /maps/{name}）"),
    indicator: str | None = Query(None, description="亩均效益地图的分级设色指标"),
    run: str | None = Query(None, description="亩均效益地图显示的评价运行编号（默认最新一次）"),
) -> Response:
    """The sheet (附图) of a map: same role rule as the map (economic maps need `analyst`, restricted
    fields never on an anonymous sheet); rendered by headless Chromium off the event loop, at most
    LANDGIS_PRINT_CONCURRENCY at once (503 + Retry-After when busy or when Chromium is absent)."""
    from services.map_print import PrintRequest, PrintUnavailable, parse_bbox, print_map

    path = str(request.url.path)
    try:
        spec, role = await _spec_and_role(request, name)
    except MapInputError as exc:
        return problem(404, str(exc), instance=path)
    settings = request.app.state.settings
    opts = MapOptions(basemap=basemap, tianditu_key=getattr(settings, "tianditu_key", None), mode="saved", large_threshold=settings.map_large_threshold, params={k: v for k, v in {"indicator": indicator, "run": run}.items() if v}, role=role)
    try:
        opts.basemaps = parse_bureau_basemaps(getattr(settings, "basemaps", None))
        req = PrintRequest(fmt=format, paper=paper, landscape=landscape, bbox=parse_bbox(bbox), feature=feature, dpi=dpi, scale=scale)
        req.check()
        await run_in_threadpool(check_page_size, name, store, opts, settings.map_download_max_features)
        if is_head(request):  # HEAD: no Chromium render for headers (api/head.py)
            return head_response("application/pdf" if req.fmt == "pdf" else "image/png", {"Cache-Control": "no-store"})
        result = await run_in_threadpool(print_map, name, store, opts, req, settings)
    except PrintUnavailable as exc:
        resp = problem(503, str(exc), instance=path)
        if exc.retry_after:
            resp.headers["Retry-After"] = str(exc.retry_after)
        return resp
    except MAP_ERRORS as exc:
        return _map_problem(exc, path)
    headers = {
        "Content-Disposition": f"inline; filename=\"{result.filename}\"; filename*=UTF-8''{quote(result.filename)}",
        "X-Map-Scale": f"1:{result.view.scale}",
        "Cache-Control": "no-store",
    }
    return Response(result.content, media_type=result.media_type, headers=headers)


@router.get(STATIC_PREFIX + "/{path:path}", include_in_schema=False)
def map_asset(path: str) -> Response:
    """Leaflet, its plugins and landgis' map JS/CSS, from maps/assets/ (never a CDN)."""
    file = resolve_static(path)
    if file is None:
        return problem(404, f"地图资源 {path} 不存在。若为 Leaflet 等前端库，请运行 bash scripts/fetch-map-assets.sh。")
    return FileResponse(file, headers={"Cache-Control": "public, max-age=86400"})
