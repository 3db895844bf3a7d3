"""`landgis map NAME --out FILE.html`: one map of SPEC §9 as a self-contained HTML file.

The file inlines Leaflet, every plugin and the data, so it opens with no server and no
internet and can be sent to anyone; only a chosen basemap's tiles come from the network.
"""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    from api.commands.common import StoreOpt, err, fail, open_store_cli, out

    @app.command("map")
    def map_cmd(
        name: str = typer.Argument(..., help="地图名称：parcels | efficiency | standard-land | expansion"),
        out_file: Path = typer.Option(..., "--out", "-o", help="输出的 HTML 文件 / output .html file"),
        basemap: str = typer.Option("none", "--basemap", help="底图 none（离线，默认）| osm | tianditu | amap（GCJ-02 纠偏）"),
        indicator: str | None = typer.Option(None, "--indicator", help="亩均效益地图的分级设色指标，如 tax_per_mu / indicator for the efficiency choropleth"),
        include_restricted: bool = typer.Option(False, "--include-restricted", help="公开地图也保留企业经济字段（仅供内部使用）/ keep economic fields on a public map"),
        store: str | None = StoreOpt,
    ) -> None:
        """导出自包含的单文件交互地图 / write one map as a self-contained HTML file.

        Whoever runs the CLI holds the store itself, so the analysis maps are built for an
        analyst; a public map is built for anyone (economic fields dropped, parcels/access.py)
        unless --include-restricted says the file stays inside the bureau."""
        from api.settings import Settings
        from gis.errors import InputError, NotFoundError
        from maps.assets import MapAssetsMissing
        from maps.base import MapInputError
        from maps.basemaps import parse_bureau_basemaps
        from services.maps import MapOptions, get_spec, render_map

        if out_file.suffix.lower() not in (".html", ".htm"):
            err.print(f"错误：输出文件 {out_file} 的后缀应为 .html / the output must be an .html file")
            raise typer.Exit(2)
        try:
            spec = get_spec(name)
        except MapInputError as exc:
            err.print(f"[bold red]错误：[/]{exc}", highlight=False)
            raise typer.Exit(2)
        s = open_store_cli(store)
        role = "analyst" if include_restricted or not spec.public else "anonymous"
        settings = Settings()
        opts = MapOptions(basemap=basemap, tianditu_key=settings.tianditu_key, mode="saved", params={k: v for k, v in {"indicator": indicator}.items() if v}, role=role)
        try:
            opts.basemaps = parse_bureau_basemaps(getattr(settings, "basemaps", None))
            page = render_map(spec.name, s, opts)
        except MapAssetsMissing as exc:
            err.print(f"[bold red]错误：[/]{exc}", highlight=False)
            raise typer.Exit(1)
        except (MapInputError, InputError, NotFoundError) as exc:
            fail(exc)
        except ValueError as exc:  # an analysis refused its input (Chinese message, names the row)
            fail(exc)
        out_file.parent.mkdir(parents=True, exist_ok=True)
        out_file.write_text(page, encoding="utf-8")
        out.print(f"已生成地图“{spec.title}”/ map written: {out_file}（{len(page.encode('utf-8')) / 1024:.0f} KB，自包含，可离线打开）")
