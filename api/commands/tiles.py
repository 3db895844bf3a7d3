"""`landgis tiles LAYER --out F.pmtiles [--minzoom --maxzoom]`: a layer as a PMTiles pack (SPEC §8.2).

Access (parcels/access.py, SPEC §8.4): a pack is a file that leaves the service. A public layer is
packed with the public columns for anyone who runs the command. A pack that would hold what only an
analyst may see — a non-public layer (enterprises, industrial parcels), or `--include-restricted`
economic fields — needs an analyst's (or admin's) API key (`--key`, or LANDGIS_KEY), checked
against the store's key ring like an HTTP request; the command says so when it is missing.
"""

from __future__ import annotations

import os
from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    from api.commands.common import StoreOpt, err, fail, open_store_cli, out, progress

    @app.command("tiles")
    def tiles_cmd(
        layer: str = typer.Argument(..., help="图层名，如 reserve_parcels / layer name"),
        out_file: Path = typer.Option(..., "--out", "-o", help="输出文件 .pmtiles / output PMTiles archive"),
        minzoom: int = typer.Option(10, "--minzoom", help="最小缩放级别（默认 10）/ lowest zoom"),
        maxzoom: int = typer.Option(16, "--maxzoom", help="最大缩放级别（默认 16，上限 18）/ highest zoom"),
        include_restricted: bool = typer.Option(False, "--include-restricted", help="保留企业经济字段（需分析人员密钥）/ keep economic fields (analyst key)"),
        key: str | None = typer.Option(None, "--key", help="分析人员 API 密钥（或环境变量 LANDGIS_KEY）/ analyst API key", envvar="LANDGIS_KEY"),
        store: str | None = StoreOpt,
    ) -> None:
        """把图层打包为 PMTiles 瓦片包（离线、内网、CDN 使用）/ pack a layer as a PMTiles archive of vector tiles."""
        from api.auth import AuthError, principal_from_header, require
        from gis.errors import InputError, NotFoundError
        from services.tile_packs import pack_role, write_pack

        if out_file.suffix.lower() != ".pmtiles":
            err.print(f"错误：--out 应为 .pmtiles 文件（收到 {out_file.name}）/ the output must be a .pmtiles file")
            raise typer.Exit(2)
        s = open_store_cli(store)
        role = pack_role(layer, include_restricted=include_restricted)
        if role != "anonymous":
            why = "保留企业经济字段" if include_restricted else f"图层 {layer} 不是公开图层"
            if not key:
                err.print(
                    f"[bold red]错误：[/]{why}，瓦片包会含只有分析人员（analyst）可见的数据，打包需要分析人员权限。\n"
                    "修改建议：用 --key 提供分析人员或管理员的 API 密钥（或设置环境变量 LANDGIS_KEY；密钥由管理员用 landgis keys add 创建）"
                    + ("；或去掉 --include-restricted，只打包公开字段。" if include_restricted else "。"),
                    highlight=False,
                )
                raise typer.Exit(1)
            try:
                require(principal_from_header(s, f"Bearer {key.strip()}"), "analyst", f"打包{why}的瓦片")
            except AuthError as exc:
                err.print(f"[bold red]错误：[/]{exc.detail}", highlight=False)
                raise typer.Exit(1)
        try:
            with progress() as bar:
                task = bar.add_task(f"打包 / packing {layer}", total=None)

                def on_zoom(z: int, n: int) -> None:
                    bar.update(task, description=f"打包 / packing {layer} 第 {z} 级", total=n, completed=0)

                report = write_pack(s, layer, out_file, minzoom=minzoom, maxzoom=maxzoom, role=role, on_zoom=on_zoom, on_tile=lambda: bar.advance(task))
        except (InputError, NotFoundError) as exc:
            fail(exc)
        note = "（内部资料：含仅分析人员可见的数据，请勿外传）" if report.role != "anonymous" else "（公开字段）"
        out.print(
            f"已写出瓦片包 / pack written: {report.path}：{report.tiles} 个瓦片（检查 {report.visited} 个），"
            f"{report.zooms[0]}–{report.zooms[1]} 级，{report.bytes / 1024:.0f} KB，字段 {len(report.columns)} 个{note}",
            highlight=False,
        )
        if os.environ.get("LANDGIS_TILE_PACKS"):
            out.print(f"提示：放入 {os.environ['LANDGIS_TILE_PACKS']} 后，landgis serve 在 /tile-packs/{report.path.name} 提供它。", highlight=False)
