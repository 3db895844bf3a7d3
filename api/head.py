"""`HEAD` on every `GET` route (SPEC §8.1): the GET's status and headers, no body.

Why a layer in front of the router rather than `HEAD` in each route's methods: FastAPI writes
every method of a route into the OpenAPI document, which would double every operation there
(and in the schemathesis run), and a route added later by anyone would miss it. Here a HEAD
request is routed as the GET it stands for — same dependencies, same access rule, same errors —
and the body is dropped on the way out; `Content-Length` stays what the GET would send.

Handlers whose body is costly to make (a map page, a print sheet rendered by Chromium, a big
items page) ask `is_head(request)` and answer the headers without making it.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEAD_FLAG = "landgis.head"


def is_head(request: Request) -> bool:
    """True when the client sent HEAD (the route sees GET)."""
    return bool(request.scope.get(HEAD_FLAG))


def head_response(media_type: str, headers: dict | None = None, status_code: int = 200) -> Response:
    """The answer to a HEAD whose GET body was not made: its status and headers, and no
    `Content-Length` (RFC 9110 §9.3.2 lets a HEAD omit what is only known once the body exists;
    a `0` would be a lie)."""
    resp = Response(status_code=status_code, media_type=media_type, headers=headers)
    del resp.headers["content-length"]
    return resp


class HeadAsGet:
    """Pure ASGI middleware: HEAD → the GET route, body dropped."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        scope = {**scope, "method": "GET", HEAD_FLAG: True}

        async def headers_only(message: Message) -> None:
            if message["type"] in ("http.response.body", "http.response.pathsend"):
                if not message.get("more_body", False):
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                return
            await send(message)

        await self.app(scope, receive, headers_only)
