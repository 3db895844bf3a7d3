"""Analysis over HTTP (SPEC §8.3): 亩均 scoring runs and 标准地 checks and sheets.

Routers only move bytes: they call the same `services` functions as the CLI, which call the
pure analysis in `parcels`; no score or verdict is computed here.
"""

from __future__ import annotations

import io

import pandas as pd
from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, Response

from services import scoring, standard_land
from api.auth import Principal
from api.bodies import json_object, parse_json_object
from api.dependencies import get_store, requires
from api.reports import XLSX
from gis.errors import InputError
from gis.store import Store

router = APIRouter(tags=["分析 / analysis"])


async def _upload(request: Request, store: Store) -> tuple[pd.DataFrame, bytes, str, dict]:
    """The enterprise table of a request: a multipart `file` (CSV/XLSX/OGR) or JSON `rows`."""
    import tempfile
    from pathlib import Path

    cap = request.app.state.settings.max_upload_mb * 1024 * 1024
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > cap:
        raise InputError(f"上传内容超过 {cap // 1024 // 1024} MB 上限。", hint="请拆分文件或联系管理员调整上限。")
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if upload is None or not hasattr(upload, "read"):
            raise InputError("缺少上传文件字段 file。", hint="请以 multipart/form-data 上传，字段名为 file。")
        data = await upload.read()
        if len(data) > cap:
            raise InputError(f"上传文件超过 {cap // 1024 // 1024} MB 上限。")
        # The client's file name is never a path here ("..", "/", "." were IsADirectoryError):
        # only its suffix is kept, so the reader picks the right format.
        suffix = Path((upload.filename or "").replace("\\", "/").rsplit("/", 1)[-1]).suffix.lower()
        if not suffix or not suffix[1:].isalnum():
            raise InputError(f"无法从文件名“{(upload.filename or '')[:60]}”判断文件类型。", hint="请上传 .csv、.xlsx 或 .gpkg 等带扩展名的文件。")
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"upload{suffix}"
            path.write_bytes(data)
            frame, _, label = await run_in_threadpool(scoring.load_enterprise_source, store, str(path), encoding=form.get("encoding") or None)
        shown = Path((upload.filename or "").replace("\\", "/")).name
        label = shown if shown not in ("", ".", "..") else label  # recorded with the run: the name the official knows
        options = {k: form.get(k) for k in ("policy",) if form.get(k)}
        return frame, data, label, options
    raw = await request.body()
    if len(raw) > cap:
        raise InputError(f"请求内容超过 {cap // 1024 // 1024} MB 上限。")
    body = parse_json_object(raw) if raw.strip() else {}
    if not isinstance(body, dict) or not isinstance(body.get("rows"), list) or not body["rows"]:
        raise InputError("请求体应为 {\"rows\": [{...}, ...], \"policy\": \"henan_2019\"}，且 rows 不能为空。")
    if not all(isinstance(r, dict) for r in body["rows"]):
        raise InputError("rows 中的每一项都应为对象（企业的一行数据）。")
    frame = pd.DataFrame(body["rows"]).astype(object)
    return frame, raw, "JSON 请求", {k: body[k] for k in ("policy",) if body.get(k)}


def _bundled_policy(name: str | None) -> str | None:
    """Only bundled policies by name over HTTP: a path would read the server's files."""
    from parcels.efficiency import bundled_policies

    if name is None:
        return None
    if name not in bundled_policies():
        raise InputError(f"评价办法“{name}”不存在。", hint=f"可用：{'、'.join(bundled_policies())}。")
    return name


@router.post("/scoring/efficiency", summary="亩均效益评价 / run a 亩均 evaluation")
async def score(request: Request, store: Store = Depends(get_store), principal: Principal = Depends(requires("analyst", "亩均效益评价"))) -> JSONResponse:
    frame, data, label, options = await _upload(request, store)
    policy = _bundled_policy(options.get("policy"))
    run_id, result = await run_in_threadpool(scoring.run_scoring, store, frame, data, policy=policy, user=principal.name or "api", label=label)
    body = scoring.response_document(run_id, result)
    return JSONResponse(body, status_code=201)


@router.get("/scoring/efficiency", summary="评价运行列表 / the stored runs")
def list_runs(store: Store = Depends(get_store), principal: Principal = Depends(requires("analyst", "查看亩均评价结果"))) -> JSONResponse:
    """Every stored 亩均 run, oldest first: run_id, year, policy, time, user, source (what `?run=` of
    the efficiency map and the profile choose from)."""
    keep = ("run_id", "year", "policy", "policy_id", "created_at", "user", "source", "rows")
    runs = [{k: m.get(k) for k in keep} for m in scoring.efficiency_runs(store)]
    return JSONResponse({"runs": runs, "links": {"self": "/scoring/efficiency"}})


@router.get("/scoring/efficiency/{run_id}", summary="评价结果 / a stored run")
def get_run(run_id: str, store: Store = Depends(get_store), f: str = "json", principal: Principal = Depends(requires("analyst", "查看亩均评价结果"))) -> Response:
    from gis.io import neutralize_formulas, write_workbook

    meta, table = store.get_run(run_id)
    if meta.get("kind") != "efficiency":
        raise InputError(f"{run_id} 不是亩均评价的运行记录。")
    if f == "public":  # 公示名单 (SPEC §5.5): class, name, code; no economic figure
        from parcels.efficiency.report import public_html

        return HTMLResponse(public_html(table, str(meta.get("policy") or "")))
    if f == "csv":
        buf = io.StringIO()
        neutralize_formulas(table).to_csv(buf, index=False)
        return Response(("\ufeff" + buf.getvalue()).encode("utf-8"), media_type="text/csv; charset=utf-8", headers={"Content-Disposition": f'attachment; filename="{run_id}.csv"'})
    if f == "xlsx":
        import tempfile
        from pathlib import Path

        from parcels.efficiency import bundled_policies, load_policy
        from parcels.efficiency.indicators import INDICATORS
        from parcels.efficiency.report import measures_sheet, result_labels_zh, rounded

        keys = [c for c in table.columns if c in INDICATORS]
        sheets = {"评价结果": rounded(table).rename(columns=result_labels_zh(keys))}
        if meta.get("policy_id") in bundled_policies():
            sheets["差别化措施"] = measures_sheet(load_policy(meta["policy_id"]))
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "r.xlsx"
            write_workbook(sheets, path)
            data = path.read_bytes()
        return Response(data, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{run_id}.xlsx"'})
    if f != "json":
        raise InputError(f"不支持的格式 f={f}。", hint="f 可取 json、csv、xlsx、public（公示名单）。")
    return JSONResponse(scoring.run_document(store, run_id))


@router.post("/standard-land/check", summary="标准地指标审查 / check a proposed project")
async def check(
    store: Store = Depends(get_store),
    rules: str | None = None,
    f: str = "json",
    principal: Principal = Depends(requires("analyst", "标准地审查")),
    project: dict = Depends(json_object()),
) -> Response:
    """Body: the project as a JSON object, e.g. {"land_area_mu": 100, "industry_code": "27", ...}."""
    _bundled_rules(rules)
    result = await run_in_threadpool(standard_land.standard_land_check, store, project, rules=rules)
    if f == "html":
        return HTMLResponse(result.to_html())
    return JSONResponse(result.to_dict())


def _bundled_rules(rules: str | None) -> None:
    from parcels.standard_land import bundled_rule_sets

    for name in (rules or "").split(","):
        if name.strip() and name.strip() not in bundled_rule_sets():
            raise InputError(f"规则集“{name.strip()}”不存在。", hint=f"可用：{'、'.join(bundled_rule_sets())}。")


@router.get("/standard-land/sheets/{parcel_id}", summary="储备地块标准地指标清单 / indicator sheet")
def sheet(parcel_id: str, store: Store = Depends(get_store), f: str = "json", rules: str | None = None, industry: str | None = None) -> Response:
    """Public: the sheet is what the land-supply announcement publishes (明标供地)."""
    _bundled_rules(rules)
    result = standard_land.parcel_indicator_sheet(store, parcel_id, rules=rules, industry_code=industry)
    if f == "html":
        return HTMLResponse(result.to_html())
    if f == "xlsx":
        buf = io.BytesIO()
        result.to_workbook().save(buf)
        return Response(buf.getvalue(), media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{parcel_id}.xlsx"'})
    if f != "json":
        raise InputError(f"不支持的格式 f={f}。", hint="f 可取 json、html、xlsx。")
    return JSONResponse(result.to_dict())
