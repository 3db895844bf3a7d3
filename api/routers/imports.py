"""`POST /collections/{id}/import` (SPEC §8.3): an admin uploads a file into a layer, all-or-nothing.

The upload is written to a private temp dir under a fixed name (only the suffix of the client's
file name is kept, so a hostile name such as `../../etc/x.csv` cannot steer the write), capped at
`settings.max_upload_mb` (413), zip archives are vetted by `gis.io.check_zip` (path traversal,
bombs) before GDAL opens them, and then the very same `services.imports.import_file` the CLI uses runs,
so HTTP and `landgis import` accept and refuse the same files with the same Chinese messages.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from services import imports
from api.auth import Principal
from api.dependencies import LayerCatalog, get_store, requires
from api.limits import UploadTooLarge, too_large
from gis.store import Store
from gis.errors import InputError
from gis.io import check_zip
from gis.store.base import check_layer_name

router = APIRouter(tags=["导入 / import"])

UPLOAD_SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm", ".zip", ".gpkg", ".geojson", ".json", ".fgb", ".parquet", ".kml", ".gml")
CHUNK = 1024 * 1024


class BadRequest(InputError):
    status_code = 400


def _suffix(filename: str | None) -> str:
    """The upload's suffix, checked against the formats landgis reads; the name itself is never used as a path."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    suffix = Path(name).suffix.lower()
    if suffix == ".shp":
        raise BadRequest("shapefile 需要连同 .shx/.dbf/.prj 一起上传。", hint="请把同名的 .shp/.shx/.dbf/.prj/.cpg 打包成一个 .zip 后上传。")
    if suffix not in UPLOAD_SUFFIXES:
        raise BadRequest(
            f"不支持的文件类型“{suffix or name or '（无扩展名）'}”。",
            hint=f"可导入：{'、'.join(UPLOAD_SUFFIXES)}（shapefile 请打包为 .zip）。",
        )
    return suffix


def _form_text(form, key: str, default: str | None = None) -> str | None:
    value = form.get(key)
    if value is None or hasattr(value, "read"):
        return default
    value = str(value).strip()
    return value or default


@router.post("/collections/{collectionId}/import", summary="导入文件到图层（管理员）/ import a file into a layer (admin)")
async def import_layer(collectionId: str, request: Request, store: Store = Depends(get_store), principal: Principal = Depends(requires("admin", "导入数据"))) -> JSONResponse:
    """Multipart `file`, optional `mode` (append|replace), `crs`, `encoding`, `geometry_source`, `layer`.

    All-or-nothing: any bad row refuses the whole file with 4xx problem+json and the store
    (features and history) is unchanged.
    """
    check_layer_name(collectionId)
    settings = request.app.state.settings
    cap_mb = int(settings.max_upload_mb)
    cap = cap_mb * 1024 * 1024
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > cap + 64 * 1024:
        raise too_large(cap_mb)
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise BadRequest("请以 multipart/form-data 上传文件，字段名为 file。", hint="如 curl -F file=@地块.gpkg -F mode=append …")
    try:
        form = await request.form()
    except UploadTooLarge:
        raise
    except Exception as exc:  # malformed multipart body
        raise BadRequest(f"上传内容格式有误：{str(exc)[:200]}", hint="请以 multipart/form-data 上传，字段名为 file。") from exc
    upload = form.get("file")
    if upload is None or not hasattr(upload, "read"):
        raise BadRequest("缺少上传文件字段 file。", hint="请以 multipart/form-data 上传，字段名为 file。")
    mode = _form_text(form, "mode", "append")
    if mode not in ("append", "replace"):
        raise BadRequest(f"导入模式“{mode}”不合法。", hint="mode 只能是 append（追加）或 replace（替换）。")
    suffix = _suffix(upload.filename)
    with tempfile.TemporaryDirectory(prefix="landgis-import-") as tmp:
        path = Path(tmp) / f"upload{suffix}"
        size = 0
        with open(path, "wb") as fh:
            while chunk := await upload.read(CHUNK):
                size += len(chunk)
                if size > cap:
                    raise too_large(cap_mb)
                fh.write(chunk)
        if size == 0:
            raise BadRequest(f"上传的文件是空的：{upload.filename}", hint="请检查导出步骤是否成功。")
        if suffix == ".zip":
            check_zip(path)
        label = Path((upload.filename or path.name).replace("\\", "/")).name
        report, read, warnings = await run_in_threadpool(
            imports.import_file,
            store,
            collectionId,
            path,
            crs=_form_text(form, "crs"),
            encoding=_form_text(form, "encoding"),
            mode=mode,
            user=principal.name or "api",
            geometry_source=_form_text(form, "geometry_source", "surveyed"),
            source_layer=_form_text(form, "layer"),
            label=label,
        )
    LayerCatalog.invalidate()
    return JSONResponse(
        {
            "collection": collectionId,
            "mode": mode,
            "inserted": report.inserted,
            "replaced": report.replaced,
            "crs": read.crs_label,
            "crs_how": read.crs_how,
            "encoding": read.encoding,
            "warnings": list(warnings),
        }
    )
