"""The expansion-planning study (SPEC §7) from a store: the one way CLI, HTTP, jobs and maps run it.

`study_from_store` reads the layers and the rasters (generating the schematic sample rasters
on first use) and runs the pure `parcels.study.package.run_study`; `land_balance_from_store`
answers a quick "what if" without the rasters; `study_package_zip` is the downloadable package.
The 低效用地 screen and its fallback live here once (`screen_inefficient`).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Callable

from gis.errors import InputError

STUDY_LAYERS = ("zone_boundary", "park_zones", "roads", "reserve_parcels", "industrial_parcels", "enterprises")
CONSTRAINT_LAYERS = ("permanent_farmland", "ecological_redline", "urban_boundary", "admin_units")
"""Read when the store has them; the study refuses to recommend land without the two hard ones."""

Step = Callable[[str], None]


def _quiet(_msg: str) -> None:
    return None


def bundled_scenario_name(name: str | None) -> str | None:
    """Only bundled scenarios by name over HTTP: a path would read the server's files."""
    from parcels.study.scenario import SCENARIO_DIR, ScenarioError

    if name is None:
        return None
    if not name.replace("_", "").replace("-", "").isalnum() or not (SCENARIO_DIR / f"{name}.toml").is_file():
        raise ScenarioError(f"没有名为“{name}”的内置情景。", hint="可用：" + "、".join(p.stem for p in SCENARIO_DIR.glob("*.toml")))
    return name


def scenario_from_request(name: str | None, toml_text: str | None = None, overrides: dict | None = None):
    """A scenario from a bundled name or a whole TOML text, with JSON overrides merged in."""
    from parcels.study.scenario import ScenarioError, load_scenario, parse_scenario

    if overrides is not None and not isinstance(overrides, dict):
        raise ScenarioError("overrides 应为 JSON 对象，如 {\"assumptions\": {\"revenue_per_mu_growth\": 0.08}}。")
    if toml_text:
        return parse_scenario(toml_text, origin="请求中的情景", overrides=overrides)
    return load_scenario(bundled_scenario_name(name), overrides=overrides)


def read_study_layers(store, names: tuple[str, ...] = STUDY_LAYERS, *, purpose: str = "运行扩区研究") -> dict:
    """The study's layers from the store; a missing one is named with how to load it."""
    layers = {}
    for name in names:
        if not store.layer_exists(name):
            raise InputError(f"存储中缺少图层 {name}，无法{purpose}。", hint="先运行 landgis init 载入样例数据，或用 landgis import 导入该图层。")
        layers[name] = store.read_layer(name)
    if "land_supply" not in layers and store.layer_exists("land_supply"):  # optional: feeds the 低效用地 screen
        layers["land_supply"] = store.read_layer("land_supply")
    return layers


def screen_inefficient(layers: dict, policy_name: str):
    """The 低效用地 screen as one supply line of the balance: (frame or None, notes).

    When the screen cannot run (module missing, enterprise data it refuses) the balance still
    stands with no 低效用地, and the note says why — an official must see that the line is 0
    because it could not be computed, not because there is none."""
    from parcels.study.package import inefficient_from_layers

    try:
        if layers.get("land_supply") is not None:  # idle ledger land and failed 达产复核 count too (SPEC §5.4)
            from services.supervision import inefficient_with_supply

            return inefficient_with_supply(layers, policy_name)
        return inefficient_from_layers(layers["industrial_parcels"], layers["enterprises"], policy_name), []
    except Exception as exc:  # noqa: BLE001 - any refusal becomes the note, never a failed study
        detail = getattr(exc, "detail", None) or str(exc)
        return None, [f"低效用地筛查未能完成，低效用地按 0 计：{detail}"]


def study_from_store(
    store,
    scenario,
    *,
    rasters_dir: str | Path | None = None,
    dem_path: str | Path | None = None,
    landcover_path: str | Path | None = None,
    step: Step = _quiet,
):
    """Read everything the study needs from `store` and the rasters, and run it (5 steps)."""
    from gis.raster import read_raster
    from parcels.sample.rasters import SCHEMATIC_NOTE, ensure_sample_rasters
    from parcels.study.package import run_study

    step("读取图层 / reading layers")
    layers = read_study_layers(store)
    layers.update({name: store.read_layer(name) for name in CONSTRAINT_LAYERS if store.layer_exists(name)})
    step("低效用地筛查 / screening inefficient land")
    inefficient, notes = screen_inefficient(layers, scenario.assumptions.inefficient_policy)
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
    return run_study(scenario, layers, dem=(dem, dem_grid), landcover=(lc, lc_grid), inefficient=inefficient, raster_note=note, notes=notes,
                     intensity=intensity_for_study(store, notes))


def intensity_for_study(store, notes: list[str]) -> dict | None:
    """The zone's 土地集约利用评价 for the package (SPEC §11), or None with the reason in `notes`."""
    from services.intensity import intensity_report

    try:
        return intensity_report(store)
    except InputError as exc:
        notes.append(f"未做开发区土地集约利用评价：{exc.detail}")
        return None


def land_balance_from_store(store, scenario, *, with_candidates: bool = False) -> dict:
    """The industrial land balance as JSON-ready values; with candidates it runs the whole study."""
    from parcels.study.balance import land_balance

    if with_candidates:
        result = study_from_store(store, scenario)
        bal, notes = result.balance, list(result.notes)
    else:
        layers = read_study_layers(store, purpose="计算用地平衡")
        inefficient, notes = screen_inefficient(layers, scenario.assumptions.inefficient_policy)
        bal = land_balance(scenario, industrial_parcels=layers["industrial_parcels"], enterprises=layers["enterprises"],
                           reserve_parcels=layers["reserve_parcels"], inefficient=inefficient, park_zones=layers["park_zones"])
        notes += bal.notes
    out = bal.to_dict()
    out["notes"] = list(notes)
    out["scenario"] = {"name": scenario.name, "base_year": scenario.base_year, "target_year": scenario.target_year}
    out["values"] = bal.values
    if with_candidates:
        out["summary"] = result.summary
    return out


def study_package_zip(store, scenario, *, step: Step = _quiet) -> bytes:
    """The whole study package as one zip (GPKG, COG, XLSX, HTML report, data dictionary)."""
    from parcels.study.package import write_package, zip_package

    result = study_from_store(store, scenario, step=step)
    step("写出成果包 / writing the package")
    with tempfile.TemporaryDirectory(prefix="landgis-study-") as tmp:
        return zip_package(write_package(Path(tmp), result))
