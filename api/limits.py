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
    """Raise UploadTooLarge (rendered as problem+json 413) once a body passes `cap_mb`."""

    def __init__(self, app: ASGIApp, cap_mb: int):
        self.app = app
        self.cap_mb = cap_mb
        self.limit = cap_mb * 1024 * 1024 + FRAMING_ALLOWANCE

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise too_large(self.cap_mb)
            return message

        await self.app(scope, counted, send)
