"""`landgis study`: the expansion-planning study package (SPEC §7).

`study_from_store` is the edge where the study meets files: it reads the store's layers and the
rasters (generating the schematic sample rasters on first use), runs the pure
`parcels.study.package.run_study`, and the caller writes the package. The HTTP router calls the
same function, so the command and `GET /study/package` produce the same files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import typer

STUDY_LAYERS = ("zone_boundary", "park_zones", "roads", "reserve_parcels", "industrial_parcels", "enterprises")


def study_from_store(
    store,
    scenario,
    *,
    rasters_dir: str | Path | None = None,
    dem_path: str | Path | None = None,
    landcover_path: str | Path | None = None,
    step: Callable[[str], None] = lambda _msg: None,
):
    """Read everything the study needs from `store` and the rasters, and run it."""
    from gis.errors import InputError
    from gis.raster import read_raster
    from parcels.sample.rasters import SCHEMATIC_NOTE, ensure_sample_rasters
    from parcels.study.package import inefficient_from_layers, run_study

    step("读取图层 / reading layers")
    layers = {}
    for name in STUDY_LAYERS:
        if not store.layer_exists(name):
            raise InputError(f"存储中缺少图层 {name}，无法运行扩区研究。", hint="先运行 landgis init 载入样例数据，或用 landgis import 导入该图层。")
        layers[name] = store.read_layer(name)
    step("低效用地筛查 / screening inefficient land")
    notes: list[str] = []
    try:
        inefficient = inefficient_from_layers(layers["industrial_parcels"], layers["enterprises"], scenario.assumptions.inefficient_policy)
    except Exception as exc:  # noqa: BLE001 - the balance still stands without it, and says so
        # The 低效用地 screen is one supply line of the balance: when it cannot run (module
        # missing, enterprise data it refuses) the study goes on with none and prints why.
        inefficient = None
        detail = getattr(exc, "detail", None) or str(exc)
        notes.append(f"低效用地筛查未能完成，低效用地按 0 计：{detail}")
    step("准备栅格 / preparing rasters")
    if dem_path is None or landcover_path is None:
        generated = ensure_sample_rasters(rasters_dir)
        dem_path = dem_path or generated["dem"]
        landcover_path = landcover_path or generated["landcover"]
        note = SCHEMATIC_NOTE
    else:
        note = f"用户提供：{Path(dem_path).name}、{Path(landcover_path).name}"
    dem, dem_grid, _ = read_raster(dem_path)
    lc, lc_grid, _ = read_raster(landcover_path)
    step("适宜性分析与用地平衡 / suitability and land balance")
    return run_study(scenario, layers, dem=(dem, dem_grid), landcover=(lc, lc_grid), inefficient=inefficient, raster_note=note, notes=notes)


def register(app: typer.Typer) -> None:
    from api.cli import StoreOpt, fail, open_store_cli, out, progress

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
