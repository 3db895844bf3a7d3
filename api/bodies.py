"""JSON request bodies read only after the caller's role is known, capped, parsed into a model.

Why not FastAPI's typed `Body` parameter: FastAPI reads and parses a declared body before it
solves any dependency, so an anonymous client could make the service parse a 40 MB JSON document
only to be told 401 afterwards. Here the role is a dependency (`requires`) declared before the
body dependency (`json_body`), dependencies run in declaration order, and the body dependency
reads at most `max_bytes` before parsing — so a refused caller costs nothing, and an oversized
body is a 413 before `json.loads`.
"""

from __future__ import annotations

import json
from typing import Callable, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from gis.errors import InputError, RowError

Model = TypeVar("Model", bound=BaseModel)

class BodyTooLarge(InputError):
    status_code = 413


class BadBody(InputError):
    """Not JSON, or not an object: the request itself is malformed."""

    status_code = 400


class BodyInvalid(InputError):
    """Well-formed JSON whose fields are wrong (unknown, missing, of the wrong type)."""

    status_code = 422


def json_body(model: type[Model], *, max_bytes: int = 256 * 1024, optional: bool = True) -> Callable:
    """A dependency that reads at most `max_bytes` of JSON and validates it into `model`.

    Declare it after `requires(...)`. Errors are Chinese 400/413 naming the field."""

    async def dependency(request: Request) -> Model:
        raw = await _read_capped(request, max_bytes)
        if not raw.strip():
            if optional:
                return model()
            raise BadBody("缺少请求体。", hint="请以 JSON 对象提交，Content-Type: application/json。")
        data = parse_json_object(raw)
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            from api.errors import PYDANTIC_MESSAGES

            rows = [RowError(None, ".".join(str(p) for p in e["loc"]) or "body", PYDANTIC_MESSAGES.get(e["type"], "取值无效")) for e in exc.errors()[:20]]
            named = "；".join(f"{r.field}：{r.message}" for r in rows[:5])
            allowed = "、".join(model.model_fields)
            raise BodyInvalid(f"请求体有误：{named}。", rows, hint=f"可用字段：{allowed}。") from None

    dependency.__name__ = f"json_body_{model.__name__}"
    return dependency


def json_object(*, max_bytes: int = 256 * 1024) -> Callable:
    """A dependency for a free-form JSON object (a project's indicator values): capped, parsed, a dict.

    The fields are checked by the domain (it names each bad one in Chinese); here only size and shape."""

    async def dependency(request: Request) -> dict:
        raw = await _read_capped(request, max_bytes)
        return parse_json_object(raw) if raw.strip() else {}

    dependency.__name__ = "json_object"
    return dependency


async def _read_capped(request: Request, max_bytes: int) -> bytes:
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > max_bytes:
        raise _too_large(max_bytes)
    chunks, seen = [], 0
    async for chunk in request.stream():
        seen += len(chunk)
        if seen > max_bytes:
            raise _too_large(max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json_object(raw: bytes) -> dict:
    """JSON text → dict, or a Chinese 400: malformed, not an object, or nested past Python's
    recursion limit (RecursionError was a 500 for `[[[[…` bodies)."""
    try:
        data = json.loads(raw)
    except RecursionError:
        raise BadBody("请求体 JSON 嵌套层数过深，已拒绝。", hint="请求体应为扁平的 JSON 对象，嵌套不超过数十层。") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadBody(f"请求体不是有效的 JSON：{str(exc)[:120]}", hint="请检查引号、逗号与括号是否配对。") from None
    if not isinstance(data, dict):
        raise BadBody("请求体应为 JSON 对象（{…}）。")
    return data


def _too_large(max_bytes: int) -> BodyTooLarge:
    return BodyTooLarge(f"请求体超过 {max_bytes // 1024} KB 上限，已拒绝。", hint="此接口只接收参数性质的小型 JSON；批量数据请以文件上传。")


def body_schema(model: type[BaseModel]) -> dict:
    """`openapi_extra` that documents the body a `json_body` dependency reads (FastAPI cannot see it)."""
    return {"requestBody": {"required": False, "content": {"application/json": {"schema": model.model_json_schema()}}}}


__all__ = ["json_body", "json_object", "parse_json_object", "body_schema"]
