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
        sm = result.summary
        out.print(f"情景：{sc.name}")
        out.print("用地需求（多种方法并列，★ 为决定净需求的口径）：")
        for e in result.balance.demand:
            mark = {"sample": "（示例值）", "unverified": "（未核实）"}.get(e.status, "")
            out.print(f"  {'★' if e.deciding else '　'} {e.label}：{e.mu:,.0f} 亩{mark}", highlight=False)
        out.print(f"工业用地需求 {v['demand_mu']:,.0f} 亩；存量与储备供给 {v['planned_supply_mu']:,.0f} 亩（储备 {v['reserve_supply_mu']:,.0f}、"
                  f"中关村 {v['zhongguancun_supply_mu']:,.0f}、低效盘活 {v['recycled_supply_mu']:,.0f}；储备地块与现状工业用地重叠 "
                  f"{v['reserve_overlap_industrial_mu']:,.0f} 亩只计一次）；净需求 {v['expansion_need_mu']:,.0f} 亩，毛面积 {v['expansion_need_gross_mu']:,.0f} 亩。",
                  highlight=False)
        if sm.get("recommended_mu") and sm.get("share_in_plan_expansion") is not None:
            out.print(f"推荐扩区用地 {sm['recommended_mu']:,.0f} 亩（{sm['recommended_km2']:.2f} km²，规划扩区 {sm['plan_expansion_target_km2']:g} km² 的 "
                      f"{sm['recommended_vs_plan_target'] * 100:.1f}%），位于规划南区扩区范围内 {sm['share_in_plan_expansion'] * 100:.1f}%；"
                      f"不含永久基本农田与生态保护红线。", highlight=False)
        if sm.get("schematic_note"):
            out.print(f"[yellow]注意：[/]{sm['schematic_note']}", highlight=False)
        for note in result.notes:
            out.print(f"[yellow]提示：[/]{note}", highlight=False)
        out.print("成果包 / package:")
        for p in paths.values():
            out.print(f"  {p}")
