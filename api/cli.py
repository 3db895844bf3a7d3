"""The `landgis` command: parses arguments and calls the same functions the API calls.

Exit codes (SPEC §2): 0 ok, 1 invalid input (the message names the row/field and the fix),
2 usage. Help is bilingual: officials read the Chinese, engineers the English.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import typer
from rich.table import Table

from api.commands.common import (
    StoreOpt,
    current_user,
    err,
    fail,
    load_sample,
    open_store_cli,
    out,
    progress,
)
from gis.errors import InputError, NotFoundError

app = typer.Typer(
    help="landgis：南阳高新区土地与地块 GIS 服务 / land-use and parcel GIS of the Nanyang High-tech Zone.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
@app.command("init")
def init_cmd(
    store: str | None = StoreOpt,
    no_sample: bool = typer.Option(False, "--no-sample", help="只建库，不载入样例数据 / create the store without sample data"),
    replace: bool = typer.Option(False, "--replace-sample", help="重新载入样例数据（覆盖同名图层）/ reload sample layers"),
) -> None:
    """创建存储并载入内置样例数据 / create the store and load the bundled sample data."""
    s = open_store_cli(store)
    if no_sample:
        out.print(f"已创建存储 / store ready: {s.url}")
        return
    try:
        loaded = load_sample(s, replace=replace)
    except InputError as exc:
        fail(exc)
    table = Table("图层 layer", "要素数 features")
    for name in s.layer_names():
        table.add_row(name, str(s.count(name)))
    out.print(table)
    out.print(f"存储 / store: {s.url}；本次载入 / loaded now: {', '.join(loaded) or '无（已存在）/ none (already present)'}")
    out.print("[yellow]注意：样例数据的几何为示意位置（schematic），企业为合成数据（synthetic），详见 README。[/]")


@app.command("import")
def import_cmd(
    layer: str = typer.Argument(..., help="目标图层 / target layer, e.g. industrial_parcels"),
    file: Path = typer.Argument(..., help="任意 OGR 可读文件、CSV 或 XLSX / any OGR-readable file, CSV or XLSX"),
    crs: str | None = typer.Option(None, "--crs", help="源坐标系，如 EPSG:4546、GCJ02 / source CRS when the file has none or a wrong one"),
    encoding: str | None = typer.Option(None, "--encoding", help="属性编码，如 GBK、UTF-8（默认自动识别）/ attribute encoding (sniffed by default)"),
    mode: str = typer.Option("append", "--mode", help="append 追加 | replace 替换"),
    geometry_source: str = typer.Option("surveyed", "--geometry-source", help="几何来源 surveyed|digitized|schematic（文件中无该字段时）"),
    source_layer: str | None = typer.Option(None, "--source-layer", help="源文件中的图层名（多图层文件）/ layer inside a multi-layer file"),
    store: str | None = StoreOpt,
) -> None:
    """导入数据到图层（全部成功或全部不变）/ import a file into a layer, all-or-nothing."""
    from services.imports import import_file

    if mode not in ("append", "replace"):
        err.print("错误：--mode 只能是 append 或 replace / --mode must be append or replace")
        raise typer.Exit(2)
    try:
        s = open_store_cli(store)
        started = time.monotonic()
        with progress() as bar:
            task = bar.add_task(f"导入 / importing {file.name}", total=None)

            def rows_done(n: int) -> None:  # batched imports report rows as they land
                bar.update(task, description=f"导入 / importing {file.name}：{n:,} 行 / rows")

            report, read, warnings = import_file(
                s, layer, file, crs=crs, encoding=encoding, mode=mode, user=current_user(), geometry_source=geometry_source, source_layer=source_layer,
                progress=rows_done,
            )
            bar.update(task, total=1, completed=1)
    except (InputError, NotFoundError) as exc:
        fail(exc)
    for w in warnings:
        err.print(f"[yellow]提示：[/]{w}", highlight=False)
    out.print(
        f"已导入 / imported {report.inserted} 个要素到 {layer}（模式 {mode}，替换 {report.replaced}）；"
        f"坐标系 / CRS: {read.crs_label or '无几何'}（{read.crs_how or '-'}）；编码 / encoding: {read.encoding or '-'}；"
        f"用时 {time.monotonic() - started:.1f}s"
    )


@app.command("export")
def export_cmd(
    layer: str = typer.Argument(..., help="图层名，或 history 导出变更记录 / layer name, or 'history'"),
    file: Path = typer.Argument(..., help="输出文件，格式由后缀决定 / output; format from suffix: .gpkg .shp .geojson .fgb .parquet .csv .xlsx"),
    crs: str | None = typer.Option(None, "--crs", help="输出坐标系，默认 EPSG:4490 / output CRS (default EPSG:4490)"),
    store: str | None = StoreOpt,
) -> None:
    """导出图层 / export a layer."""
    from gis.io import write_features, write_table
    from parcels.schema import LAYERS

    s = open_store_cli(store)
    try:
        if layer == "history":
            frame = s.history()
            write_table(frame, file, labels={"feature_id": "要素编号", "action": "操作", "user": "操作人", "at": "时间", "reason": "原因", "old": "修改前", "new": "修改后", "layer": "图层"})
            out.print(f"已导出 / exported {len(frame)} 条变更记录到 {file}")
            return
        gdf = s.read_layer(layer)
        spec = LAYERS.get(layer)
        notes: list[str] = []
        write_features(gdf, file, crs=crs, layer=layer, labels=spec.labels_zh() if spec else None, warnings=notes)
    except (InputError, NotFoundError) as exc:
        fail(exc)
    for note in notes:
        err.print(f"[yellow]提示：[/]{note}", highlight=False)
    out.print(f"已导出 / exported {len(gdf)} 个要素（{layer}）到 {file}")


@app.command("serve")
def serve_cmd(
    store: str | None = StoreOpt,
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port"),
    workers: int = typer.Option(1, "--workers", min=1, max=64, help="服务进程数（作业记录在存储中，各进程共享）/ server processes (jobs are kept in the store, shared by all)"),
) -> None:
    """启动 API 与地图服务（首次运行自动生成样例库）/ serve the API and maps (builds the sample store if absent)."""
    import uvicorn

    from api.app import create_app
    from api.jobs import sweep_orphans
    from api.settings import Settings
    from gis.store import store_url
    from gis.store.jobs import JobStore

    target = store_url(store)
    s = open_store_cli(target)
    if not s.layer_names():
        out.print("存储为空，正在载入内置样例数据 / empty store: loading the bundled sample data …")
        try:
            load_sample(s)
        except InputError as exc:
            fail(exc)
    settings = Settings(store=target)
    # Once, before any worker: the job table exists, and jobs left running by a killed server
    # are reported as interrupted instead of looking alive until their heartbeat goes stale.
    table = JobStore.for_store(s, results_dir=settings.jobs_dir)
    try:
        table.ensure()
        swept = sweep_orphans(table, settings.jobs_stale_s)
    except InputError as exc:
        fail(exc)
    finally:
        table.close()
    if swept:
        out.print(f"{swept} 个作业因服务重启而中断，已标记为失败 / {swept} interrupted job(s) marked failed")
    if workers == 1:
        uvicorn.run(create_app(settings, store=s), host=host, port=port, log_level="info")
        return
    # Several processes: each worker imports `worker_app` and opens the same store from the
    # environment (LANDGIS_STORE and every other LANDGIS_* setting are inherited).
    s.close()
    os.environ["LANDGIS_STORE"] = target
    uvicorn.run("api.cli:worker_app", factory=True, workers=workers, host=host, port=port, log_level="info")


def worker_app():
    """The app factory of one `serve --workers N` process: settings and store from the environment."""
    from api.app import create_app
    from api.settings import Settings

    return create_app(Settings())


def _register_commands() -> None:
    """Each command group lives in its own file under api/commands/; registered here by name,
    so `grep "landgis score"` leads from this list to the code."""
    from api.commands import areas, keys, maps, resolve, score, standard_land, study, supervise, workflow

    for module in (workflow, resolve, score, standard_land, study, maps, keys, supervise, areas):
        module.register(app)
    from api.commands import tiles  # `landgis tiles LAYER --out F.pmtiles` (issue 18)

    tiles.register(app)
    from api.commands import intensity  # `landgis intensity` (issue 15, SPEC §11)

    intensity.register(app)


_register_commands()


def main() -> None:
    try:
        app(standalone_mode=True)
    except KeyboardInterrupt:
        err.print("已中断 / interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
