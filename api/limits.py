"""Request-body cap enforced while the body streams in (SPEC §8.4: uploads capped).

Why a middleware: the routes check `Content-Length`, but a chunked upload has none, and
Starlette spools a multipart body to disk before the route sees a byte — so without this a
client could make the service write gigabytes before the route's own 413. Counting the bytes
as `receive()` hands them over stops such a request at the cap, whatever the route.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gis.errors import InputError

FRAMING_ALLOWANCE = 64 * 1024
"""Multipart boundaries and form fields on top of the file itself."""


class UploadTooLarge(InputError):
    """413: the upload is over `max_upload_mb`; nothing was read into the store."""

    status_code = 413


def too_large(cap_mb: int) -> UploadTooLarge:
    return UploadTooLarge(f"上传文件超过 {cap_mb} MB 上限，已拒绝。", hint="请拆分文件分批导入，或请管理员调整上限（LANDGIS_MAX_UPLOAD_MB）。")


class BodyLimit:
    """Answer 413 (problem+json) once a body passes `cap_mb`, whatever the route does with it.

    A declared `Content-Length` over the cap is refused before the app runs. A chunked body is
    counted as it streams; past the cap `receive()` raises UploadTooLarge. A route that reads the
    body itself turns that into its 413, but FastAPI's typed-body parsing catches any error while
    reading and answers 400 ("error parsing the body"), so once the cap is passed the app's own
    response is replaced by the 413 here.
    """

    def __init__(self, app: ASGIApp, cap_mb: int):
        self.app = app
        self.cap_mb = cap_mb
        self.limit = cap_mb * 1024 * 1024 + FRAMING_ALLOWANCE

    async def _refuse(self, send: Send) -> None:
        from api.errors import problem_bytes

        body = problem_bytes(413, too_large(self.cap_mb).detail, hint=too_large(self.cap_mb).hint)
        await send({"type": "http.response.start", "status": 413, "headers": [(b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode()), (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                if value.isdigit() and int(value) > self.limit:
                    await self._refuse(send)
                    return
                break
        seen = 0
        over = False
        replaced = False

        async def counted() -> Message:
            nonlocal seen, over
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    over = True
                    raise too_large(self.cap_mb)
            return message

        async def guarded(message: Message) -> None:
            nonlocal replaced
            if not over:
                await send(message)
            elif message["type"] == "http.response.start" and not replaced:
                replaced = True
                await self._refuse(send)

        await self.app(scope, counted, guarded)
