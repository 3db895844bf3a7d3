"""RFC 9457 problem+json for every error, with Chinese `detail` for officials (SPEC §8.5)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from gis.errors import InputError, NotFoundError

PROBLEM = "application/problem+json"
TITLES = {400: "请求有误", 401: "未认证", 403: "无权限", 404: "未找到", 405: "方法不允许", 413: "上传文件过大", 422: "输入数据有误", 500: "服务器内部错误"}


def problem(status: int, detail: str, *, errors: list | None = None, hint: str | None = None, instance: str | None = None) -> JSONResponse:
    body = {"type": "about:blank", "title": TITLES.get(status, "错误"), "status": status, "detail": detail}
    if errors:
        body["errors"] = errors
    if hint:
        body["hint"] = hint
    if instance:
        body["instance"] = instance
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def install(app: FastAPI) -> None:
    @app.exception_handler(InputError)
    async def _input(request: Request, exc: InputError):
        return problem(getattr(exc, "status_code", 422), exc.detail, errors=exc.error_dicts(), hint=exc.hint, instance=str(request.url.path))

    @app.exception_handler(NotFoundError)
    async def _not_found(request: Request, exc: NotFoundError):
        return problem(404, exc.detail, instance=str(request.url.path))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        errors = [{"field": ".".join(str(p) for p in e.get("loc", [])), "message": e.get("msg", "")} for e in exc.errors()]
        return problem(400, "请求参数有误。", errors=errors, instance=str(request.url.path))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) and exc.status_code != 404 else TITLES.get(exc.status_code, "错误")
        return problem(exc.status_code, detail, instance=str(request.url.path))
