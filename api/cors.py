"""Cross-origin use (SPEC §8.1): a web map on another origin — a bureau's 一张图 portal, a
park's own site, an OpenLayers dashboard, MapLibre GL JS — may read landgis.

`LANDGIS_CORS_ORIGINS` is `*` (the default) or a comma-separated list of origins
(`https://yzt.example.gov.cn,http://10.1.2.3:8080`). Preflights (`OPTIONS` with
`Access-Control-Request-Method`) are answered for every route and allow the `Authorization`
header, so a page can send its key as Bearer or Basic.

Credentials (cookies, the browser's remembered Basic login): never with `*`. Browsers refuse
`*` together with `Access-Control-Allow-Credentials`, and the usual workaround — echoing any
Origin with credentials allowed — would let every website on the internet read analyst data
through a login the official's browser remembers. landgis uses no cookies; a page sends the key
itself in `Authorization`, which needs no credentials mode. Only origins listed explicitly (the
bureau's own portals) get `Access-Control-Allow-Credentials: true`.

Why this sits outside everything else (`wrap_outermost`): Starlette answers an unforeseen error
(500) from its outermost layer, so a CORS middleware added the usual way would send that answer
without `Access-Control-Allow-Origin`, and the page would see a network error instead of the
problem+json.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response

from api.head import HeadAsGet

ALLOW_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
ALLOW_HEADERS = ("Authorization", "Content-Type", "Accept", "Accept-Language", "Prefer", "If-None-Match", "If-Match", "X-Requested-With")
EXPOSE_HEADERS = ("ETag", "Content-Crs", "Content-Disposition", "Link", "Location", "Preference-Applied", "Retry-After", "WWW-Authenticate", "X-Map-Scale")
MAX_AGE_S = 3600


def parse_origins(text: str | None) -> list[str]:
    """`*` or a comma-separated list of origins (scheme://host[:port], no path, no trailing /)."""
    items = [o.strip().rstrip("/") for o in (text or "*").split(",") if o.strip()]
    return ["*"] if not items or "*" in items else items


class LandgisCORS(CORSMiddleware):
    """Starlette's CORS middleware; a refused preflight answers problem+json in Chinese."""

    def preflight_response(self, request_headers) -> Response:
        from api.errors import problem

        resp = super().preflight_response(request_headers)
        if resp.status_code == 200:
            return resp
        refused = resp.body.decode("utf-8", "replace").removeprefix("Disallowed CORS ")
        what = {"origin": f"来源 {request_headers.get('origin', '')[:80]} 未被允许（LANDGIS_CORS_ORIGINS）", "method": "请求方法不被允许", "headers": "请求头不被允许", "private-network": "不允许从公网页面访问内网服务"}
        detail = "跨域预检未通过：" + "；".join(what.get(p.strip(), p.strip()) for p in refused.split(",")) + "。"
        headers = {k: v for k, v in resp.headers.items() if k.lower().startswith(("access-control", "vary"))}
        return problem(400, detail, hint="允许的请求头：" + "、".join(ALLOW_HEADERS) + "。", headers=headers)


def wrap_outermost(app: FastAPI, cors_origins: str | None) -> None:
    """CORS and HEAD around the whole app, outside Starlette's error layer (see the module doc)."""
    origins = parse_origins(cors_origins)
    explicit = origins != ["*"]
    build = app.build_middleware_stack

    def build_with_edges():
        inner = HeadAsGet(build())
        return LandgisCORS(inner, allow_origins=origins, allow_methods=ALLOW_METHODS, allow_headers=ALLOW_HEADERS, allow_credentials=explicit, expose_headers=EXPOSE_HEADERS, max_age=MAX_AGE_S)

    app.build_middleware_stack = build_with_edges
