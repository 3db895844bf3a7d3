"""`landgis map NAME --out FILE.html|.pdf|.png`: one map of SPEC §9 as a file.

- `.html`: a self-contained interactive map (Leaflet, every plugin and the data inlined), which
  opens with no server and no internet; only a chosen basemap's tiles come from the network.
- `.pdf` / `.png`: a print sheet (附图) — 图名, the map at a nominal scale, 图例, 比例尺, 指北针,
  制图单位, 制图日期, data-source and schematic notes, CGCS2000 corner coordinates — on A4/A3,
  rendered by headless Chromium (services/map_print.py). `--feature RP-01` makes a parcel's
  sheet: the parcel, its 四至 roads emphasised, its 标准地 indicator table beside it.
"""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    from api.commands.common import StoreOpt, err, fail, open_store_cli, out

    @app.command("map")
    def map_cmd(
        name: str = typer.Argument(..., help="地图名称：parcels | efficiency | standard-land | expansion"),
        out_file: Path = typer.Option(..., "--out", "-o", help="输出文件：.html（交互地图）、.pdf 或 .png（打印图件）/ output .html, .pdf or .png"),
        basemap: str = typer.Option("none", "--basemap", help="底图 none（离线，默认）| osm | tianditu | tianditu_img | amap（GCJ-02 纠偏）| LANDGIS_BASEMAPS 中的 key"),
        indicator: str | None = typer.Option(None, "--indicator", help="亩均效益地图的分级设色指标，如 tax_per_mu / indicator for the efficiency choropleth"),
        run: str | None = typer.Option(None, "--run", help="亩均效益地图显示的评价运行编号（默认最新一次）/ the stored run the efficiency map shows"),
        include_restricted: bool = typer.Option(False, "--include-restricted", help="公开地图也保留企业经济字段（仅供内部使用）/ keep economic fields on a public map"),
        paper: str = typer.Option("A4", "--paper", help="打印纸张 A4 | A3（仅 .pdf/.png）"),
        landscape: bool = typer.Option(False, "--landscape", help="横向（仅 .pdf/.png；默认纵向）"),
        bbox: str | None = typer.Option(None, "--bbox", help="出图范围：最小经度,最小纬度,最大经度,最大纬度（CGCS2000）"),
        feature: str | None = typer.Option(None, "--feature", help="单个要素的图件，如储备地块 RP-01（含四至道路与标准地指标表）"),
        dpi: int = typer.Option(300, "--dpi", help="PNG 分辨率（默认 300 dpi；A4 横向为 3508×2480 像素）"),
        scale: int | None = typer.Option(None, "--scale", help="比例尺分母，如 10000（默认按范围自动取整）"),
        store: str | None = StoreOpt,
    ) -> None:
        """导出地图：交互 HTML 或打印图件 PDF/PNG / write one map as HTML, or as a print sheet (PDF/PNG).

        Whoever runs the CLI holds the store itself, so the analysis maps are built for an
        analyst; a public map is built for anyone (economic fields dropped, parcels/access.py)
        unless --include-restricted says the file stays inside the bureau."""
        from api.settings import Settings
        from gis.errors import InputError, NotFoundError
        from maps.assets import MapAssetsMissing
        from maps.errors import MapInputError
        from maps.basemaps import parse_bureau_basemaps
        from services.maps import MapOptions, check_page_size, get_spec, render_map

        suffix = out_file.suffix.lower()
        if suffix not in (".html", ".htm", ".pdf", ".png"):
            err.print(f"错误：输出文件 {out_file} 的后缀应为 .html、.pdf 或 .png / the output must be .html, .pdf or .png")
            raise typer.Exit(2)
        try:
            spec = get_spec(name)
        except MapInputError as exc:
            err.print(f"[bold red]错误：[/]{exc}", highlight=False)
            raise typer.Exit(2)
        s = open_store_cli(store)
        role = "analyst" if include_restricted or not spec.public else "anonymous"
        settings = Settings()
        opts = MapOptions(basemap=basemap, tianditu_key=settings.tianditu_key, mode="saved", params={k: v for k, v in {"indicator": indicator, "run": run}.items() if v}, role=role)
        try:
            opts.basemaps = parse_bureau_basemaps(getattr(settings, "basemaps", None))
            if suffix in (".pdf", ".png"):
                from services.map_print import PrintRequest, parse_bbox, print_map

                req = PrintRequest(fmt=suffix[1:], paper=paper, landscape=landscape, bbox=parse_bbox(bbox), feature=feature, dpi=dpi, scale=scale)
                check_page_size(spec.name, s, opts, settings.map_download_max_features)
                result = print_map(spec.name, s, opts, req, settings)
                out_file.parent.mkdir(parents=True, exist_ok=True)
                out_file.write_bytes(result.content)
                out.print(
                    f"已生成图件“{spec.title}”/ sheet written: {out_file}（{result.layout.paper}{'横向' if landscape else '纵向'}，"
                    f"比例尺 1:{result.view.scale:,}，{len(result.content) / 1024:.0f} KB，{result.seconds:.1f} 秒）"
                )
                return
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
