"""Typed FastAPI dependencies: the store, the caller's role, one per OGC query parameter.

Dependencies are `async def` on purpose: they only parse text, and FastAPI runs a plain `def`
dependency in the thread pool, which costs a thread hop per parameter per request.

In tipg's style each query parameter is parsed and validated by its own small dependency, so
the endpoints read like the OGC specification and every bad value turns into a 400
problem+json that names the parameter, never a 500.

Access policy (SPEC §8.4, decided here):
- Layers whose schema says `public=True` (reserve parcels, park zones, boundary, roads,
  landmarks) are open to anonymous callers.
- Non-public layers (`enterprises`, `industrial_parcels`) and layers that are not in
  parcels/schema.py (imports of unknown content) need `analyst`: anonymous callers do not see
  them in /collections, and a direct request gets 401.
- Whatever the layer, a field named like one of the schema's restricted economic fields (tax,
  revenue, energy_tce, ...) is stripped from every response, queryable, filter and sort of a
  caller below `analyst`, as a second line of defence.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Literal

from fastapi import Depends, Query, Request

from api.auth import ANONYMOUS, AuthError, Principal, principal_from_header, require
from api.ogc.crs import OgcCrs, bbox_to_store, parse_crs
from gis.errors import InputError, NotFoundError
from gis.store import Store
from gis.store.items import sortby_keys
from parcels.access import hidden_for
from parcels.schema import LAYERS

MAX_OFFSET = 10**9


class ParamError(InputError):
    status_code = 400


async def get_store(request: Request) -> Store:
    return request.app.state.store


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_principal(request: Request) -> Principal:
    """The caller's principal. Plain function: other routers call it directly or `Depends` on it."""
    header = request.headers.get("authorization")
    if not header:
        return ANONYMOUS
    if request.method not in SAFE_METHODS and header[:6].lower() == "basic " and cross_site(request):
        raise AuthError(
            403,
            "跨站提交的写操作不接受 HTTP Basic 认证（浏览器会自动附带记住的登录，可被其他网站冒用）。"
            "网页请改用 Authorization: Bearer <API 密钥>；GIS 软件与脚本不受影响。",
        )
    return principal_from_header(request.app.state.store, header)


def cross_site(request: Request) -> bool:
    """Whether a browser sent this request from another site's page (not a listed CORS origin).

    Why it matters for Basic only: a browser remembers a Basic login and attaches it to any
    request to this host — a form another website posts (an import, a status change) included,
    and a form needs no CORS preflight. A Bearer key is never attached by the browser itself.
    GIS clients and scripts send neither `Sec-Fetch-Site` nor `Origin`, so they are unaffected."""
    from api.cors import parse_origins

    origin = request.headers.get("origin")
    listed = parse_origins(request.app.state.settings.cors_origins)
    if request.headers.get("sec-fetch-site") in ("cross-site", "same-site"):
        return origin not in listed
    if not origin:
        return False
    return origin != f"{request.url.scheme}://{request.headers.get('host', '')}" and origin not in listed


async def current_principal(request: Request) -> Principal:
    """Same as get_principal, as an async dependency (no thread-pool hop on the hot path)."""
    return get_principal(request)


def requires(role: str, action: str):
    """A route dependency: the caller's principal, or 401/403 before anything else runs.

    Declared first in a route's signature, it runs before any body dependency reads a byte, so a
    refused caller costs nothing (FastAPI solves dependencies in declaration order)."""

    async def dependency(principal: Principal = Depends(get_principal)) -> Principal:
        require(principal, role, action)
        return principal

    dependency.__name__ = f"requires_{role}"
    return dependency


def layer_is_public(name: str) -> bool:
    spec = LAYERS.get(name)
    return bool(spec and spec.public)


def hidden_fields(principal: Principal) -> frozenset[str]:
    """The fields this caller must not receive: parcels.access decides, for every path out."""
    return hidden_for(principal.role)


class LayerCatalog:
    """The store's layer names, re-read at most every `ttl` seconds (one query per request is too many)."""

    ttl = 3.0
    _cache: dict[str, tuple[float, list[str]]] = {}

    @classmethod
    def names(cls, store: Store) -> list[str]:
        now = time.monotonic()
        hit = cls._cache.get(store.url)
        if hit is None or now - hit[0] > cls.ttl:
            hit = (now, store.layer_names())
            cls._cache[store.url] = hit
        return hit[1]

    @classmethod
    def invalidate(cls) -> None:
        cls._cache.clear()


def visible_layers(store: Store, principal: Principal) -> list[str]:
    return [n for n in LayerCatalog.names(store) if principal.has("analyst") or layer_is_public(n)]


@dataclass(frozen=True)
class LayerAccess:
    name: str
    principal: Principal
    hidden: frozenset[str]


async def layer_access(collectionId: str, store: Store = Depends(get_store), principal: Principal = Depends(current_principal)) -> LayerAccess:
    names = LayerCatalog.names(store)
    if collectionId not in names:
        LayerCatalog.invalidate()
        if collectionId not in LayerCatalog.names(store):
            raise NotFoundError(f"图层（集合）“{collectionId}”不存在。请访问 /collections 查看可用图层。")
    if not layer_is_public(collectionId):
        spec = LAYERS.get(collectionId)
        require(principal, "analyst", f"图层“{spec.title_zh if spec else collectionId}”")
    return LayerAccess(collectionId, principal, hidden_fields(principal))


# --- query parameters -----------------------------------------------------------------------

def _param_error(param: str, detail: str, hint: str | None) -> ParamError:
    from gis.errors import RowError

    return ParamError(detail, [RowError(None, param, detail)], hint=hint)


async def limit_param(
    request: Request,
    limit: int | None = Query(None, ge=1, description="每页要素数 / page size (1–10000, default 100; larger values are served as the maximum)"),
) -> int:
    """`limit` (OGC API – Features /req/core/fc-limit-definition): an integer ≥ 1; above the
    maximum the maximum is served, not an error (/req/core/fc-limit-response-1). The OpenAPI
    document states the configured maximum and default (api/ogc/openapi.py)."""
    settings = request.app.state.settings
    if limit is None:
        return settings.default_limit
    return min(limit, settings.max_limit)


async def offset_param(offset: int | None = Query(None, ge=0, le=MAX_OFFSET, description="跳过的要素数 / features to skip")) -> int:
    return offset or 0


async def cursor_param(cursor: str | None = Query(None, max_length=40, description="分页游标（取自 rel=next 链接，不透明）/ opaque keyset cursor from a next link")) -> int | None:
    """The fid a `next` link's cursor continues after (gis/store/items.py: keyset paging)."""
    if cursor is None or cursor == "":
        return None
    from gis.store.items import FilterError, decode_cursor

    try:
        return decode_cursor(cursor)
    except FilterError as e:
        raise _param_error("cursor", e.detail, e.hint) from None


async def crs_param(crs: str | None = Query(None, description="输出坐标系 / output CRS (CRS84, EPSG:4490, EPSG:4546, EPSG:3857)")) -> OgcCrs:
    return parse_crs(crs, param="crs")


async def bbox_param(
    bbox: str | None = Query(None, description="范围 / bbox minx,miny,maxx,maxy (axis order of bbox-crs)"),
    bbox_crs: str | None = Query(None, alias="bbox-crs", description="bbox 的坐标系 / CRS of bbox"),
) -> tuple[float, float, float, float] | None:
    crs = parse_crs(bbox_crs, param="bbox-crs")
    if bbox is None or bbox == "":
        return None
    parts = bbox.split(",")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise _param_error("bbox", f"bbox 应为 4 个（或 6 个）用逗号分隔的数字，收到“{bbox[:80]}”。", "例如 bbox=112.5,32.9,112.7,33.1。") from None
    if len(values) not in (4, 6) or not all(math.isfinite(v) for v in values):
        raise _param_error("bbox", "bbox 应为 4 个（或 6 个）有限数字。", "例如 bbox=112.5,32.9,112.7,33.1。")
    half = len(values) // 2
    if any(values[i] > values[i + half] for i in range(half)):
        raise _param_error("bbox", "bbox 的下界大于上界。", "顺序为 最小x,最小y,最大x,最大y（按 bbox-crs 的轴顺序）。")
    if crs.epsg == 4490 and not all(-180 <= v <= 180 for v in values):
        raise _param_error("bbox", "经纬度 bbox 超出取值范围。", None)
    return bbox_to_store(values, crs)


async def filter_crs_param(filter_crs: str | None = Query(None, alias="filter-crs", description="过滤条件中几何的坐标系 / CRS of geometries in the filter")) -> OgcCrs:
    return parse_crs(filter_crs, param="filter-crs")


async def properties_param(properties: str | None = Query(None, description="返回的字段，逗号分隔 / fields to return")) -> list[str] | None:
    if properties is None:
        return None
    return [p.strip() for p in properties.split(",") if p.strip()]


@dataclass(frozen=True)
class Cql2Filter:
    """A parsed `filter`: the standard CQL2-JSON tree and the CRS of its geometry literals."""

    tree: dict
    crs: OgcCrs


async def filter_param(
    filter: str | None = Query(None, description="CQL2 过滤条件 / CQL2 filter (text or JSON)"),
    filter_lang: Literal["cql2-text", "cql2-json"] | None = Query(None, alias="filter-lang", description="cql2-text（默认）| cql2-json"),
    filter_crs: OgcCrs = Depends(filter_crs_param),
) -> Cql2Filter | None:
    """`filter` + `filter-lang` + `filter-crs` → the parsed filter, or None. The parse (prescan,
    then a parser process bounded by a timeout: gis/store/cql2.py) runs in a thread, never on
    the event loop; the store translates the tree against the layer's columns."""
    if filter is not None and filter.strip():
        from starlette.concurrency import run_in_threadpool

        from gis.store.cql2 import parse_cql2

        return Cql2Filter(await run_in_threadpool(parse_cql2, filter, filter_lang), filter_crs)
    return None


async def sortby_param(sortby: str | None = Query(None, description="排序字段，如 -area_mu / sort keys")) -> list[tuple[str, bool]]:
    """`sortby=name,-area_mu` → [(column, descending)]; the store refuses unknown columns."""
    return sortby_keys(sortby)


async def datetime_param(
    datetime: str | None = Query(None, description="时间过滤（本服务的图层无时间属性，忽略）/ ignored: layers have no temporal extent"),
) -> str | None:
    return datetime


OutputFormat = Literal["json", "html"]
FormatParam = Literal["json", "html"] | None
"""`f` as the OpenAPI document states it; absent → the Accept header decides (`wants_html`)."""
F_QUERY = Query(None, description="输出格式 / output format: json | html（缺省按 Accept 请求头）")


async def f_param(request: Request, f: FormatParam = F_QUERY) -> OutputFormat:
    """`f=json|html` (also geojson / application/(geo+)json), else the Accept header."""
    return "html" if wants_html(request, f) else "json"


@dataclass(frozen=True)
class ItemsParams:
    """Every query parameter of `/collections/{id}/items`, each parsed by its own dependency."""

    limit: int
    offset: int
    bbox: tuple[float, float, float, float] | None
    crs: OgcCrs
    properties: list[str] | None
    filter: Cql2Filter | None
    sortby: list[tuple[str, bool]]
    datetime: str | None
    f: OutputFormat
    cursor: int | None = None


async def items_params(
    limit: int = Depends(limit_param),
    offset: int = Depends(offset_param),
    bbox: tuple[float, float, float, float] | None = Depends(bbox_param),
    crs: OgcCrs = Depends(crs_param),
    properties: list[str] | None = Depends(properties_param),
    filter: Cql2Filter | None = Depends(filter_param),
    sortby: list[tuple[str, bool]] = Depends(sortby_param),
    datetime: str | None = Depends(datetime_param),
    f: OutputFormat = Depends(f_param),
    cursor: int | None = Depends(cursor_param),
) -> ItemsParams:
    """The items parameters as one value. An `async def`, not the dataclass itself as the
    dependency: FastAPI calls a class (a plain callable) in the thread pool, and that hop per
    request cost ≈10 % of PostGIS items throughput in the bench."""
    return ItemsParams(limit, offset, bbox, crs, properties, filter, sortby, datetime, f, cursor)


def wants_html(request: Request, f: str | None) -> bool:
    if f:
        fl = f.lower()
        if fl == "html":
            return True
        if fl in ("json", "geojson", "application/json", "application/geo+json"):
            return False
        raise _param_error("f", f"不支持的输出格式 f={f[:20]}。", "可用：f=json、f=html。")
    accept = request.headers.get("accept", "")
    if "text/html" not in accept:
        return False
    h = accept.find("text/html")
    j = accept.find("json")
    return j < 0 or h < j


def auth_error_response(exc: AuthError):
    from api.errors import problem

    resp = problem(exc.status, exc.detail)
    exc.add_challenges(resp.headers)
    return resp
