"""`landgis study`: the expansion-planning study package (SPEC §7).

The study itself is `services.study.study_from_store`, which `GET /study/package`, the jobs and
the expansion map also call, so the command and the API produce the same files.
"""

from __future__ import annotations

from pathlib import Path

import typer

def register(app: typer.Typer) -> None:
    from api.commands.common import StoreOpt, fail, open_store_cli, out, progress

    @app.command("study")
    def study_cmd(
        out_dir: Path = typer.Option(..., "--out", help="输出目录 / output directory of the package"),
        scenario: str | None = typer.Option(None, "--scenario", help="情景文件（TOML），默认内置 default_2025 / scenario TOML (default: bundled default_2025)"),
        dem: Path | None = typer.Option(None, "--dem", help="高程栅格（GeoTIFF），默认示意栅格 / DEM raster (default: schematic sample)"),
        landcover: Path | None = typer.Option(None, "--landcover", help="土地覆盖栅格，编码见数据字典 / land-cover raster"),
        rasters: Path | None = typer.Option(None, "--rasters", help="示意栅格缓存目录，默认 data/rasters / cache of the generated sample rasters"),
        store: str | None = StoreOpt,
    ) -> None:
        """扩区研究：用地供需平衡、适宜性分析、候选地块与成果包 / expansion-planning study package."""
        from gis.errors import InputError, NotFoundError
        from parcels.study.package import write_package
        from parcels.study.scenario import load_scenario
        from services.study import study_from_store

        if (dem is None) != (landcover is None):
            out.print("[red]错误：--dem 与 --landcover 须同时给出 / give both --dem and --landcover[/]")
            raise typer.Exit(2)
        try:
            sc = load_scenario(scenario)
            s = open_store_cli(store)
            with progress() as bar:
                task = bar.add_task("扩区研究 / study", total=5)

                def step(msg: str) -> None:
                    bar.update(task, advance=1, description=msg)

                result = study_from_store(s, sc, rasters_dir=rasters, dem_path=dem, landcover_path=landcover, step=step)
                bar.update(task, description="写出成果包 / writing the package")
                paths = write_package(out_dir, result)
                bar.update(task, completed=5)
        except (InputError, NotFoundError, ValueError) as exc:
            fail(exc)
        v = result.balance.values
        out.print(f"情景：{sc.name}")
        out.print(f"工业用地需求 {v['demand_mu']:,.0f} 亩；储备与盘活供给 {v['planned_supply_mu']:,.0f} 亩；需由扩区解决 {v['expansion_need_mu']:,.0f} 亩。")
        if "selected_area_mu" in v:
            out.print(f"推荐扩区地块 {v['selected_area_mu']:,.0f} 亩（{v['selected_area_mu'] / 1500:.2f} km²）；供需差额 {v['balance_mu']:,.0f} 亩。")
        for note in result.notes:
            out.print(f"[yellow]提示：[/]{note}", highlight=False)
        out.print("成果包 / package:")
        for p in paths.values():
            out.print(f"  {p}")
