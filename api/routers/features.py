"""OGC API – Features Parts 1–3 over the store: landing page, conformance, collections, items.

Endpoints return pre-serialised JSON (`Response` with bytes) rather than pydantic models: an
items page is assembled from feature strings the query layer built, so the per-request cost is
one SQL statement plus string joins. Every parameter is validated by a dependency in
api/dependencies.py; unknown query parameters are refused (Part 1 /req/core/query-param-unknown)
unless they name a queryable, in which case they are an equality filter (Part 3
queryables-query-parameters).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import replace

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from api.auth import Principal
from api.dependencies import (
    F_QUERY,
    FormatParam,
    ItemsParams,
    items_params,
    LayerAccess,
    OutputFormat,
    ParamError,
    crs_param,
    current_principal,
    f_param,
    get_store,
    layer_access,
    layer_is_public,
    properties_param,
    visible_layers,
    wants_html,
)
from api.head import head_response, is_head
from api.ogc import html
from api.processes import CONFORMANCE as PROCESSES_CONFORMANCE
from api.ogc import schema as ogc_schema
from api.ogc import tiles as ogc_tiles
from api.ogc.crs import CRS84, STORAGE_CRS, SUPPORTED_URIS, OgcCrs
from gis.errors import NotFoundError, RowError
from gis.store import Store
from gis.store.items import ItemsQuery, encode_cursor, visible_columns
from parcels.schema import LAYERS

router = APIRouter()

GEOJSON = "application/geo+json"
JSON = "application/json"
OPENAPI_30 = "application/vnd.oai.openapi+json;version=3.0"

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/property-property",
] + ogc_tiles.CONFORMANCE
"""Only what is implemented and tested (the Tiles classes: api/ogc/tiles.py). Not declared: CQL2 temporal, array, arithmetic,
accent-insensitive comparison and custom functions (a filter using them gets a 400)."""
CONFORMANCE += PROCESSES_CONFORMANCE  # OGC API – Processes Part 1 (api/processes.py)

ITEMS_PARAMS = {"f", "limit", "offset", "cursor", "bbox", "bbox-crs", "crs", "filter", "filter-lang", "filter-crs", "properties", "sortby", "datetime"}
ITEM_PARAMS = {"f", "crs", "properties"}
KIND_SCHEMA = {"INTEGER": {"type": "integer"}, "REAL": {"type": "number"}, "BOOLEAN": {"type": "boolean"}, "TEXT": {"type": "string"}}


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _json(body: dict, media_type: str = JSON, headers: dict | None = None) -> Response:
    return Response(json.dumps(body, ensure_ascii=False).encode("utf-8"), media_type=media_type, headers=headers)


def _title(name: str) -> str:
    spec = LAYERS.get(name)
    return spec.title_zh if spec else name


def _label(layer: str, column: str) -> str:
    spec = LAYERS.get(layer)
    f = spec.field(column) if spec else None
    return f.label_zh if f else column


def _check_params(request: Request, allowed: set[str], extra: set[str] = frozenset()) -> None:
    unknown = [k for k in request.query_params.keys() if k not in allowed and k not in extra]
    if unknown:
        names = "、".join(unknown[:5])
        raise ParamError(f"未知的查询参数：{names}。", [RowError(None, k, "未知参数") for k in unknown[:20]], hint="可用参数：" + "、".join(sorted(allowed)) + "，以及可查询字段（queryables）。")


# --- landing, conformance, OpenAPI ----------------------------------------------------------

@router.get("/", summary="服务首页 / landing page")
def landing(request: Request, f: FormatParam = F_QUERY) -> Response:
    base = _base(request)
    links = [
        {"href": f"{base}/?f=json", "rel": "self", "type": JSON, "title": "本页（JSON）"},
        {"href": f"{base}/?f=html", "rel": "alternate", "type": "text/html", "title": "本页（HTML）"},
        {"href": f"{base}/api", "rel": "service-desc", "type": OPENAPI_30, "title": "OpenAPI 3.0 接口定义"},
        {"href": f"{base}/docs", "rel": "service-doc", "type": "text/html", "title": "接口文档"},
        {"href": f"{base}/conformance", "rel": "conformance", "type": JSON, "title": "符合性声明"},
        {"href": f"{base}/collections", "rel": "data", "type": JSON, "title": "图层（集合）列表"},
        {"href": f"{base}/processes", "rel": "http://www.opengis.net/def/rel/ogc/1.0/processes", "type": JSON, "title": "处理过程列表（OGC API – Processes）"},
        {"href": f"{base}/jobs", "rel": "http://www.opengis.net/def/rel/ogc/1.0/job-list", "type": JSON, "title": "作业列表"},
        {"href": f"{base}/tileMatrixSets", "rel": ogc_tiles.REL_TILING_SCHEMES, "type": JSON, "title": "瓦片矩阵集"},
    ]
    body = {
        "title": request.app.state.settings.title,
        "description": "南阳国家高新技术产业开发区土地与地块 GIS 服务：储备地块、产业园区、高新区范围、道路与地标（OGC API – Features）。",
        "links": links,
    }
    if wants_html(request, f):
        return html.page(request, body["title"], description=body["description"], links=links)
    return _json(body)


@router.get("/conformance", summary="符合性声明 / conformance classes")
def conformance(request: Request, f: FormatParam = F_QUERY) -> Response:
    if wants_html(request, f):
        return html.page(request, "符合性声明", links=[{"href": c, "rel": "conformance", "type": "", "title": c} for c in CONFORMANCE])
    return _json({"conformsTo": CONFORMANCE})


@router.get("/api", summary="OpenAPI 3.0 接口定义 / OpenAPI 3.0 document", include_in_schema=False)
def api_doc(request: Request) -> Response:
    from api.ogc.openapi import openapi30

    return _json(openapi30(request.app), media_type=OPENAPI_30)


# --- collections ----------------------------------------------------------------------------

def _collection(request: Request, store: Store, name: str) -> dict:
    base = _base(request)
    spec = LAYERS.get(name)
    ext = store.extent(name)
    doc: dict = {
        "id": name,
        "title": _title(name),
        "description": (spec.description if spec and spec.description else _title(name)) + ("" if layer_is_public(name) else "（受限图层，需分析人员权限）"),
        "itemType": "feature",
        "crs": SUPPORTED_URIS,
        "storageCrs": STORAGE_CRS,
        "links": [
            {"href": f"{base}/collections/{name}", "rel": "self", "type": JSON, "title": "本集合"},
            {"href": f"{base}/collections/{name}?f=html", "rel": "alternate", "type": "text/html", "title": "本集合（HTML）"},
            {"href": f"{base}/collections/{name}/items", "rel": "items", "type": GEOJSON, "title": "要素（GeoJSON）"},
            {"href": f"{base}/collections/{name}/items?f=html", "rel": "items", "type": "text/html", "title": "要素（HTML）"},
            {"href": f"{base}/collections/{name}/queryables", "rel": "http://www.opengis.net/def/rel/ogc/1.0/queryables", "type": "application/schema+json", "title": "可查询字段"},
            # GDAL's OAPIF driver (so QGIS) types the columns from this link (api/ogc/schema.py).
            {"href": f"{base}/collections/{name}/schemas/feature", "rel": "describedby", "type": ogc_schema.JSON_SCHEMA, "title": "要素的 JSON Schema（字段类型、中文名与单位）"},
            # The same relation (RFC 8288 compares relation types case-insensitively), spelt the
            # only way Debian 12's GDAL 3.6 (and the QGIS built on it) matches; GDAL 3.12 reads either.
            {"href": f"{base}/collections/{name}/schemas/feature", "rel": "describedBy", "type": ogc_schema.JSON_SCHEMA, "title": "要素的 JSON Schema（GDAL 3.6 兼容写法）"},
            {"href": f"{base}/collections/{name}/schema", "rel": ogc_schema.SCHEMA_REL, "type": ogc_schema.JSON_SCHEMA, "title": "要素属性的 JSON Schema（OGC API – Features 第5部分）"},
            {"href": f"{base}/collections/{name}/tiles", "rel": ogc_tiles.REL_TILESETS_VECTOR, "type": JSON, "title": "矢量瓦片集（WebMercatorQuad）"},
            {"href": f"{base}/collections/{name}/tiles/{ogc_tiles.TMS_ID}/tilejson.json", "rel": "alternate", "type": JSON, "title": "TileJSON 3.0（MapLibre 等网页地图）"},
        ],
    }
    if ext is not None:
        doc["extent"] = {"spatial": {"bbox": [list(ext)], "crs": CRS84}}
    return doc


@router.get("/collections", summary="图层列表 / collections")
def collections(request: Request, f: FormatParam = F_QUERY, principal: Principal = Depends(current_principal), store: Store = Depends(get_store)) -> Response:
    """Anonymous callers see the public layers only; `analyst` and `admin` see every layer."""
    base = _base(request)
    names = visible_layers(store, principal)
    docs = [_collection(request, store, n) for n in names]
    links = [
        {"href": f"{base}/collections", "rel": "self", "type": JSON, "title": "图层列表"},
        {"href": f"{base}/collections?f=html", "rel": "alternate", "type": "text/html", "title": "图层列表（HTML）"},
    ]
    if wants_html(request, f):
        rows = [[{"href": f"{base}/collections/{d['id']}?f=html", "text": d["id"]}, d["title"], store.cached_count(d["id"]), "公开" if layer_is_public(d["id"]) else "受限"] for d in docs]
        return html.page(request, "图层（集合）列表", headers=["编号", "名称", "要素数", "访问"], rows=rows, rows_title="图层", links=links)
    return _json({"links": links, "collections": docs})


@router.get("/collections/{collectionId}", summary="图层信息 / collection")
def collection(request: Request, access: LayerAccess = Depends(layer_access), f: FormatParam = F_QUERY, store: Store = Depends(get_store)) -> Response:
    doc = _collection(request, store, access.name)
    if wants_html(request, f):
        ext = doc.get("extent", {}).get("spatial", {}).get("bbox", [[None]])[0]
        facts = [("编号", doc["id"]), ("要素数", store.cached_count(access.name)), ("存储坐标系", STORAGE_CRS), ("范围（经纬度）", ext), ("可用坐标系", "、".join(SUPPORTED_URIS))]
        return html.page(request, doc["title"], description=doc["description"], facts=facts, links=doc["links"], breadcrumbs=[{"href": "/collections?f=html", "title": "图层列表"}])
    return _json(doc)


@router.get("/collections/{collectionId}/queryables", summary="可查询字段 / queryables")
def queryables(request: Request, access: LayerAccess = Depends(layer_access), f: FormatParam = F_QUERY, store: Store = Depends(get_store)) -> Response:
    base = _base(request)
    cols = visible_columns(store, access.name, access.hidden)
    props: dict = {"geometry": {"title": "几何", "format": "geometry-any", "x-ogc-role": "primary-geometry"}}
    for c, kind in cols.items():
        entry = {"title": _label(access.name, c), **KIND_SCHEMA.get(kind, {"type": "string"})}
        if c == "id":
            entry["x-ogc-role"] = "id"
        props[c] = entry
    body = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{base}/collections/{access.name}/queryables",
        "type": "object",
        "title": _title(access.name),
        "properties": props,
        "additionalProperties": False,
    }
    if wants_html(request, f):
        rows = [[k, v.get("title", ""), v.get("type", v.get("format", ""))] for k, v in props.items()]
        return html.page(request, f"{_title(access.name)} · 可查询字段", headers=["字段", "中文名", "类型"], rows=rows, rows_title="可查询字段")
    return _json(body, media_type="application/schema+json")


@router.get("/collections/{collectionId}/schema", summary="要素属性的 JSON Schema / feature schema (OGC API – Features Part 5)")
def collection_schema(request: Request, access: LayerAccess = Depends(layer_access), store: Store = Depends(get_store)) -> Response:
    """Restricted fields are not in it for a caller below `analyst` (the access rule: `access.hidden`)."""
    cols = visible_columns(store, access.name, access.hidden)
    body = ogc_schema.returnables_schema(access.name, cols, f"{_base(request)}/collections/{access.name}/schema")
    return _json(body, media_type=ogc_schema.JSON_SCHEMA, headers={"Vary": "Authorization"})


@router.get("/collections/{collectionId}/schemas/feature", summary="GeoJSON 要素的 JSON Schema / GeoJSON feature schema (describedby)")
def feature_schema(request: Request, access: LayerAccess = Depends(layer_access), store: Store = Depends(get_store)) -> Response:
    cols = visible_columns(store, access.name, access.hidden)
    body = ogc_schema.feature_schema(access.name, cols, f"{_base(request)}/collections/{access.name}/schemas/feature")
    return _json(body, media_type=ogc_schema.JSON_SCHEMA, headers={"Vary": "Authorization"})


# --- items ----------------------------------------------------------------------------------

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
MAX_PROPERTY_FILTERS = 20


def _property_filters(request: Request, columns: dict[str, str]) -> list[tuple[str, object]]:
    """`?use=工业` style equality filters on queryables (Part 3 queryables-query-parameters), as
    (column, typed value) pairs for `ItemsQuery.equals`; the store writes the SQL.

    Values are checked against what both stores can hold before they reach the store, so the
    same request gets the same 400 on either: integers within int64 (SQLite's INTEGER,
    PostgreSQL's bigint; Python's sqlite3 raised OverflowError → 500), finite numbers, and no NUL
    in text (PostgreSQL text cannot hold it; psycopg raised DataError → 500)."""
    out: list[tuple[str, object]] = []
    for key, value in request.query_params.multi_items():
        if key in ITEMS_PARAMS:
            continue
        kind = columns[key]
        if "\x00" in value:
            raise ParamError(f"参数 {key} 的值含有空字符（NUL，%00），任何字段都不会含有它。", [RowError(None, key, "含空字符")], hint="请去掉值中的 %00。")
        try:
            if kind == "INTEGER":
                v: object = int(value)
            elif kind == "REAL":
                v = float(value)
                if not math.isfinite(v):
                    raise ValueError
            elif kind == "BOOLEAN":
                if value.lower() not in ("true", "false", "1", "0"):
                    raise ValueError
                v = value.lower() in ("true", "1")
            else:
                v = value
        except ValueError:
            raise ParamError(f"参数 {key} 的值“{value[:40]}”与字段类型不符。", [RowError(None, key, "类型不符")]) from None
        if kind == "INTEGER" and not INT64_MIN <= v <= INT64_MAX:
            raise ParamError(
                f"参数 {key} 的值“{value[:40]}”超出整数范围（{INT64_MIN} 到 {INT64_MAX}）。",
                [RowError(None, key, "超出整数范围")],
                hint=f"字段 {key} 是整数字段，请给出范围内的整数。",
            )
        out.append((key, v))
    if len(out) > MAX_PROPERTY_FILTERS:
        raise ParamError(f"字段等值过滤参数过多（{len(out)} 个，上限 {MAX_PROPERTY_FILTERS} 个）。", hint="请改用 filter 参数（CQL2，可用 IN 列表）。")
    return out


@router.get("/collections/{collectionId}/items", summary="要素查询 / features")
async def items(
    request: Request,
    access: LayerAccess = Depends(layer_access),
    params: ItemsParams = Depends(items_params),
    store: Store = Depends(get_store),
) -> Response:
    if is_head(request):
        # HEAD: the request is checked the GET way (parameters, filter, columns) on a one-feature
        # page, and no page of up to 10 000 features is built for headers (api/head.py).
        answer = await on_store(store, _items, request, store, access, replace(params, limit=1, f="json"), heavy=_costly_page(request, params))
        headers = {"Content-Crs": answer.headers["content-crs"]} if "content-crs" in answer.headers else None
        return head_response("text/html; charset=utf-8" if params.f == "html" else GEOJSON, headers)
    return await on_store(store, _items, request, store, access, params, heavy=_costly_page(request, params))


HEAVY_PAGE = 1000
"""Pages above this many features leave the GeoPackage event loop (see on_store)."""
HEAVY_OFFSET = 10_000
"""SQLite walks every skipped row: an offset beyond this costs more than the page itself."""


def _costly_page(request: Request, params: ItemsParams) -> bool:
    """Whether an items request may cost more than a few milliseconds on GeoPackage, decided
    from the request alone (no store access). Cheap: a plain page (optionally with bbox, which
    the R-tree answers) of ≤ HEAVY_PAGE features at a small offset. Costly: a CQL2 filter (an
    unindexed scan), sortby (a sort of the whole match), `?field=value` filters (unindexed), a
    large offset, HTML output (the page is re-parsed and rendered), a big page."""
    deep = params.offset > HEAVY_OFFSET and params.cursor is None and (params.sortby or params.filter is not None)
    if params.limit > HEAVY_PAGE or deep or params.filter is not None or params.sortby:
        return True
    if any(k not in ITEMS_PARAMS for k in request.query_params.keys()):
        return True
    return params.f == "html"


async def on_store(store: Store, fn, *args, heavy: bool = False):
    """Run a store call: inline for cheap work on a store that does not wait on I/O, in the
    thread pool for a store whose reads wait on a server (`store.blocking_io`: PostGIS) and for
    costly work.

    A small GeoPackage page is CPU work under the GIL (SQLite, shapely, JSON); spreading it over
    threads only adds GIL convoying, so it runs on the event loop (2–3× the throughput measured
    with 8 clients). But anything costly — a filtered or sorted scan, a big page, a cold map tile
    (up to 0.9 s) — would hold the loop for all that time, and every request behind it, /health
    included, would wait: the caller says so with `heavy` (see _costly_page, and the tiles
    router, which serves cached tiles inline), and such work runs in a thread, where the
    interpreter switches back to the loop every few milliseconds. A PostGIS call mostly waits
    for the database, so threads overlap that wait.
    """
    if heavy or store.blocking_io:
        from starlette.concurrency import run_in_threadpool

        return await run_in_threadpool(fn, *args)
    return fn(*args)


def _items(request: Request, store: Store, access: LayerAccess, params: ItemsParams) -> Response:
    name = access.name
    columns = visible_columns(store, name, access.hidden)
    _check_params(request, ITEMS_PARAMS, set(columns))
    q = ItemsQuery(
        limit=params.limit,
        offset=params.offset,
        bbox=params.bbox,
        equals=_property_filters(request, columns),
        **({"filter": params.filter.tree, "filter_crs": params.filter.crs} if params.filter is not None else {}),
        properties=params.properties,
        sortby=params.sortby,
        crs=params.crs,
        hidden=access.hidden,
        after=params.cursor,
    )
    page = store.features(name, q)
    limit, offset = params.limit, params.offset
    base = _base(request)
    url = request.url
    links = [
        {"href": str(url), "rel": "self", "type": GEOJSON, "title": "本页"},
        {"href": str(url.include_query_params(f="html")), "rel": "alternate", "type": "text/html", "title": "本页（HTML）"},
        {"href": f"{base}/collections/{name}", "rel": "collection", "type": JSON, "title": _title(name)},
    ]
    more = page.number_returned == limit and (page.number_matched is None or offset + limit < page.number_matched)
    if more:
        # keyset: the next page seeks past this page's last fid instead of walking `offset` rows
        nxt = {"offset": offset + limit, "limit": limit}
        if q.keyset and page.last_fid is not None:
            nxt["cursor"] = encode_cursor(page.last_fid)
        links.append({"href": str(url.include_query_params(**nxt)), "rel": "next", "type": GEOJSON, "title": "下一页"})
    if offset > 0:
        links.append({"href": str(url.remove_query_params("cursor").include_query_params(offset=max(0, offset - limit), limit=limit)), "rel": "prev", "type": GEOJSON, "title": "上一页"})
    if params.f == "html":
        return _items_html(request, name, page, links, offset)
    head = {
        "type": "FeatureCollection",
        "numberReturned": page.number_returned,
        "timeStamp": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "links": links,
    }
    if page.number_matched is not None:
        head["numberMatched"] = page.number_matched
    text = json.dumps(head, ensure_ascii=False)[:-1] + ',"features":[' + ",".join(page.features) + "]}"
    return Response(text.encode("utf-8"), media_type=GEOJSON, headers={"Content-Crs": f"<{params.crs.uri}>"})


def _items_html(request: Request, name: str, page, links: list[dict], offset: int) -> Response:
    feats = [json.loads(f) for f in page.features]
    cols: list[str] = []
    for feat in feats[:1]:
        cols = [c for c in feat["properties"] if c != "id"][:10]
    base = _base(request)
    rows = [[{"href": f"{base}/collections/{name}/items/{ft['id']}?f=html", "text": ft["id"]}] + [ft["properties"].get(c) for c in cols] for ft in feats]
    pager = [{"href": l["href"].replace("f=html", "") + ("&" if "?" in l["href"] else "?") + "f=html", "title": l["title"]} for l in links if l["rel"] in ("prev", "next")]
    matched = page.number_matched if page.number_matched is not None else "（未统计）"
    return html.page(
        request,
        f"{_title(name)} · 要素",
        facts=[("本页要素数", page.number_returned), ("匹配总数", matched), ("起始位置", offset)],
        headers=["编号"] + [_label(name, c) for c in cols],
        rows=rows,
        rows_title="要素",
        pager=pager,
        breadcrumbs=[{"href": "/collections?f=html", "title": "图层列表"}, {"href": f"/collections/{name}?f=html", "title": _title(name)}],
        note="几何来源为 schematic 的要素为示意位置，并非测绘成果。",
    )


@router.get("/collections/{collectionId}/items/{featureId}", summary="单个要素 / one feature")
async def item(
    request: Request,
    featureId: str,
    access: LayerAccess = Depends(layer_access),
    crs: OgcCrs = Depends(crs_param),
    properties: list[str] | None = Depends(properties_param),
    f: OutputFormat = Depends(f_param),
    store: Store = Depends(get_store),
) -> Response:
    return await on_store(store, _item, request, store, featureId, access, crs, properties, f)


def _item(request: Request, store: Store, featureId: str, access: LayerAccess, crs: OgcCrs, properties: list[str] | None, f: OutputFormat) -> Response:
    _check_params(request, ITEM_PARAMS)
    html_out = f == "html"
    text = store.feature(access.name, featureId, crs=crs, hidden=access.hidden, properties=properties)
    if text is None:
        raise NotFoundError(f"图层 {access.name} 中没有编号为“{featureId}”的要素。")
    base = _base(request)
    links = [
        {"href": f"{base}/collections/{access.name}/items/{featureId}", "rel": "self", "type": GEOJSON, "title": "本要素"},
        {"href": f"{base}/collections/{access.name}/items/{featureId}?f=html", "rel": "alternate", "type": "text/html", "title": "本要素（HTML）"},
        {"href": f"{base}/collections/{access.name}", "rel": "collection", "type": JSON, "title": _title(access.name)},
    ]
    if html_out:
        feat = json.loads(text)
        facts = [(_label(access.name, k), v) for k, v in feat["properties"].items()]
        return html.page(request, f"{_title(access.name)} · {featureId}", facts=facts, links=links, breadcrumbs=[{"href": f"/collections/{access.name}/items?f=html", "title": _title(access.name)}])
    out = text[:-1] + ',"links":' + json.dumps(links, ensure_ascii=False) + "}"
    return Response(out.encode("utf-8"), media_type=GEOJSON, headers={"Content-Crs": f"<{crs.uri}>"})
