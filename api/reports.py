"""A report document answered as JSON, an XLSX workbook or an HTML page (`f=json|xlsx|html`).

One edge helper for the routes that hand out the same document three ways (supervision,
达产复核, 集约利用评价): the format is checked before any store read, and the workbook or page is
built in the thread pool — openpyxl over a 10^5-row 台账 is seconds of CPU that must not hold the
event loop (and every request behind it).
"""

from __future__ import annotations

import json
from typing import Callable

from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, Response

from gis.errors import InputError

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REPORT_FORMATS = ("json", "xlsx", "html")


def report_format(f: str) -> str:
    """`f` checked before anything is read: json, xlsx or html."""
    if f not in REPORT_FORMATS:
        raise InputError(f"不支持的格式 f={f}。", hint="f 可取 json、xlsx、html。")
    return f


async def report_response(doc: dict, f: str, workbook: Callable[[dict], bytes], page: Callable[[dict], str], filename: str) -> Response:
    """`doc` as JSON, or rendered by `workbook` (XLSX bytes) / `page` (HTML) off the event loop."""
    if f == "xlsx":
        body = await run_in_threadpool(workbook, doc)
        return Response(body, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{filename}.xlsx"'})
    if f == "html":
        return HTMLResponse(await run_in_threadpool(page, doc))
    return JSONResponse(json.loads(json.dumps(doc, ensure_ascii=False, default=str)))
