"""RFC 9457 problem+json for every error, with Chinese `detail` for officials (SPEC §8.5).

Every way a request can fail ends here: domain input errors, 404s, parameter and body
validation (FastAPI's English messages translated), framework errors (405, body parse errors)
and anything unforeseen (a 500 that names no internals: the traceback goes to the log only).
"""

from __future__ import annotations

import json
import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from gis.errors import InputError, NotFoundError

PROBLEM = "application/problem+json"
TITLES = {
    400: "请求有误", 401: "未认证", 403: "无权限", 404: "未找到", 405: "方法不允许", 406: "无法提供所需格式",
    409: "数据冲突", 413: "请求内容过大", 415: "不支持的内容类型", 422: "输入数据有误", 423: "资源已锁定",
    429: "请求过多", 500: "服务器内部错误", 503: "服务暂时不可用",
}
FRAMEWORK_DETAILS = {
    405: "该地址不支持此请求方法（如只读地址收到了 POST）。",
    "There was an error parsing the body": "请求体无法解析：请检查 JSON 或表单格式。",
}
"""Starlette/FastAPI's own English details, replaced by Chinese ones."""

PYDANTIC_MESSAGES = {
    "missing": "缺少必填项",
    "extra_forbidden": "不允许的字段",
    "json_invalid": "不是有效的 JSON",
    "json_type": "应为 JSON",
    "dict_type": "应为对象",
    "model_type": "应为对象",
    "list_type": "应为数组",
    "string_type": "应为文本",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "float_type": "应为数字",
    "float_parsing": "应为数字",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "literal_error": "取值不在允许范围内",
    "enum": "取值不在允许范围内",
    "greater_than_equal": "取值过小",
    "less_than_equal": "取值过大",
    "string_too_long": "文本过长",
    "too_long": "项数过多",
}
log = logging.getLogger("landgis.errors")


def problem_body(status: int, detail: str, *, errors: list | None = None, hint: str | None = None, instance: str | None = None) -> dict:
    body = {"type": "about:blank", "title": TITLES.get(status, "错误"), "status": status, "detail": detail}
    if errors:
        body["errors"] = errors
    if hint:
        body["hint"] = hint
    if instance:
        body["instance"] = instance
    return body


def problem_bytes(status: int, detail: str, **kw) -> bytes:
    """The same document as bytes, for ASGI middleware that answers before the app runs."""
    return json.dumps(problem_body(status, detail, **kw), ensure_ascii=False).encode("utf-8")


def problem(status: int, detail: str, *, errors: list | None = None, hint: str | None = None, instance: str | None = None, headers: dict | None = None) -> JSONResponse:
    return JSONResponse(problem_body(status, detail, errors=errors, hint=hint, instance=instance), status_code=status, media_type=PROBLEM, headers=headers)


def _validation_errors(exc: RequestValidationError) -> list[dict]:
    out = []
    for e in exc.errors():
        loc = [str(p) for p in e.get("loc", ())]
        where = ".".join(loc[1:] if len(loc) > 1 and loc[0] in ("body", "query", "path", "header") else loc)
        out.append({"field": where or "body", "message": PYDANTIC_MESSAGES.get(e.get("type", ""), "取值无效")})
    return out


def install(app: FastAPI) -> None:
    from api.auth import AuthError

    @app.exception_handler(AuthError)
    async def _auth(request: Request, exc: AuthError):
        resp = problem(exc.status, exc.detail, instance=str(request.url.path))
        exc.add_challenges(resp.headers)
        return resp

    @app.exception_handler(InputError)
    async def _input(request: Request, exc: InputError):
        # `headers`: e.g. Retry-After of gis.errors.StoreBusy (a lock wait ran out: 503, retry).
        return problem(getattr(exc, "status_code", 422), exc.detail, errors=exc.error_dicts(), hint=exc.hint, instance=str(request.url.path), headers=getattr(exc, "headers", None))

    @app.exception_handler(NotFoundError)
    async def _not_found(request: Request, exc: NotFoundError):
        return problem(404, exc.detail, instance=str(request.url.path))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        errors = _validation_errors(exc)
        named = "；".join(f"{e['field']}：{e['message']}" for e in errors[:5])
        return problem(400, f"请求参数或请求体有误：{named}。" if named else "请求参数有误。", errors=errors, instance=str(request.url.path))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else ""
        if exc.status_code == 404 and not _is_chinese(detail):
            detail = "请求的地址不存在。请从 / 或 /collections 开始浏览。"
        elif detail in FRAMEWORK_DETAILS:
            detail = FRAMEWORK_DETAILS[detail]
        elif not _is_chinese(detail):
            detail = FRAMEWORK_DETAILS.get(exc.status_code) or TITLES.get(exc.status_code, "错误")
        return problem(exc.status_code, detail, instance=str(request.url.path), headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unforeseen(request: Request, exc: Exception):
        # Starlette's ServerErrorMiddleware calls this for anything unhandled (and re-raises it
        # afterwards for the server log); the caller learns nothing about the internals.
        log.error("unhandled error on %s %s: %r", request.method, request.url.path, exc)
        return problem(500, "服务器处理请求时出错，已记录。请稍后重试；如反复出现，请联系管理员并提供请求时间。", instance=str(request.url.path))


def _is_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text or "")
