"""开发区土地集约利用评价 from the store (SPEC §11): read → survey or derivation → evaluate.

`intensity_report(store, year)` is the one entry of the CLI (`landgis intensity`), HTTP
(`GET /intensity`), the `intensity` process, the `intensity` map and the 扩区 study package. It
evaluates the `land_survey` layer when the store has one, and otherwise a survey derived from
`industrial_parcels`, `land_supply`, `enterprises` and `reserve_parcels` (parcels/intensity/derive.py),
saying so in `survey` and beside each derived figure. `prepare_survey_import` is the import rule of
the `land_survey` layer (services/imports.py): the generic rules, then the survey's, refused whole.
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd

from gis.errors import InputError
from gis.store import Store

SURVEY = "land_survey"
DERIVE_FROM = ("industrial_parcels", "land_supply", "enterprises", "reserve_parcels")


def parse_year(value) -> int:
    """The evaluation year (default: the last finished calendar year); a bad one is a Chinese 400."""
    today = dt.date.today()
    if value is None or value == "":
        return today.year - 1
    try:
        year = int(str(value).strip())
    except ValueError:
        raise InputError(f"年度“{value}”不是整数。", hint="year 请用四位年份，如 2025。") from None
    if not 1990 <= year <= today.year:
        raise InputError(f"年度 {year} 超出范围。", hint=f"year 应在 1990–{today.year} 之间。")
    return year


def zone_geometries(store: Store):
    """(current zone, current ∪ planned expansion) in EPSG:4490, or (None, None) without zone_boundary."""
    import shapely

    if not store.layer_exists("zone_boundary"):
        return None, None
    zb = store.read_layer("zone_boundary")
    if not len(zb):
        return None, None
    geoms = np.asarray(zb.geometry.values, dtype=object)
    kind = zb["kind"].astype(str).to_numpy() if "kind" in zb.columns else np.full(len(zb), "current")
    current = geoms[kind != "expansion"]
    return (shapely.union_all(current) if len(current) else None), shapely.union_all(geoms)


def prepare_survey_import(store: Store, frame, *, geometry_source: str, data_source: str) -> tuple[gpd.GeoDataFrame, list[str]]:
    """A survey file's rows ready for `Store.import_features('land_survey', …)`; InputError naming
    each bad row and field (in Chinese) on any bad row, so nothing is written."""
    from parcels.intensity.survey import named_errors, validate_survey
    from parcels.layers import prepare_features

    try:
        ready, warnings = prepare_features(SURVEY, frame, geometry_source=geometry_source, data_source=data_source)
    except InputError as exc:  # the survey's own faults named in the same answer (one round of fixes)
        from parcels.intensity.survey import vocabulary_errors
        from parcels.layers import label_aliases
        from parcels.schema import LAYERS

        attrs = pd.DataFrame(frame.drop(columns=frame.geometry.name) if isinstance(frame, gpd.GeoDataFrame) else frame).reset_index(drop=True)
        aliases = label_aliases(LAYERS[SURVEY])
        attrs = attrs.rename(columns={c: aliases[c] for c in attrs.columns if c in aliases and aliases[c] not in attrs.columns})
        seen = {(e.row, e.field) for e in exc.errors}
        exc.errors += [e for e in vocabulary_errors(attrs)[0] if (e.row, e.field) not in seen]
        exc.errors.sort(key=lambda e: (e.row or 0, e.field or ""))
        raise named_errors(exc) from None
    _, whole = zone_geometries(store)
    if whole is None:
        warnings.append("存储中没有高新区范围（zone_boundary），未检查图斑是否在区内。")
    return validate_survey(ready, whole), warnings


def _is_marked(frame: pd.DataFrame, column: str, words: tuple[str, ...]) -> bool:
    if column not in frame.columns or not len(frame):
        return False
    return bool(frame[column].astype(str).str.contains("|".join(words), regex=True).any())


def survey_frame(store: Store, year: int) -> tuple[gpd.GeoDataFrame, dict]:
    """The survey the evaluation reads (stored, else derived) and what it is: `survey` of the report."""
    import shapely

    from parcels.intensity.survey import validate_survey

    current, _ = zone_geometries(store)
    if store.layer_exists(SURVEY) and store.count(SURVEY):
        survey = validate_survey(store.read_layer(SURVEY))  # values stored by QGIS/psql pass the same rules
        info = {"kind": "survey", "label": f"土地利用状况调查图斑（land_survey，{len(survey)} 个）", "notes": [], "derivation": {}, "withheld": {}}
        if current is not None:
            from gis.crs import to_measure

            g = to_measure(np.asarray(survey.geometry.values, dtype=object))
            inside = shapely.area(shapely.intersection(g, to_measure(np.array([current], dtype=object))[0])) >= 0.5 * shapely.area(g)
            outside = survey[~inside]
            if len(outside):
                ha = float(pd.to_numeric(outside["area_m2"], errors="coerce").sum()) / 10000
                info["notes"].append(f"{len(outside)} 个调查图斑（{ha:,.2f} 公顷）位于高新区现状范围之外（规划扩区等），不属现状评价范围，未计入指标。")
                info["expansion_features"] = int(len(outside))
                info["expansion_ha"] = round(ha, 4)
            survey = survey[inside].reset_index(drop=True)
    else:
        from parcels.intensity.derive import derive_survey

        layers = {name: store.read_layer(name) for name in DERIVE_FROM if store.layer_exists(name)}
        if not any(name in layers for name in ("industrial_parcels", "land_supply", "reserve_parcels")):
            raise InputError("存储中既没有土地利用状况调查图斑（land_survey），也没有可推导的工业用地、供地台账或储备地块图层。",
                             hint="用 landgis import land_survey 调查图斑.gpkg 导入调查成果，或先运行 landgis init 载入样例数据。")
        survey, derivation, withheld, notes = derive_survey(layers, year)
        info = {"kind": "derived", "label": f"由 {'、'.join(layers)} 推导（{len(survey)} 个图斑，非调查成果）", "notes": notes, "derivation": derivation, "withheld": withheld}
    info["synthetic"] = _is_marked(survey, "data_source", ("合成", "synthetic", "示例"))
    info["schematic"] = _is_marked(survey, "geometry_source", ("schematic",))
    if info["synthetic"]:
        info["notes"].append("注意：调查图斑为合成示例数据（synthetic），评价结果仅演示方法，不得作为评价结论。")
    if info["schematic"]:
        info["notes"].append("注意：图斑几何为示意位置（schematic），非实测界线。")
    return survey, info


def intensity_report(store: Store, year=None, *, population: float | None = None, weights: str | None = None) -> dict:
    """The evaluation document (parcels/intensity/evaluate.py) with `survey`: what was evaluated.
    `weights` names a bundled 集约度 weight set (none is official; `sample` is an example)."""
    y = parse_year(year)
    survey, info = survey_frame(store, y)
    return _evaluate(store, y, survey, info, population=population, weights=weights)


def _evaluate(store: Store, y: int, survey, info: dict, *, population: float | None = None, weights: str | None = None) -> dict:
    from parcels.intensity import evaluate, load_weights

    if population is not None and (not np.isfinite(population) or population < 0):
        raise InputError(f"常住人口 {population} 不合法。", hint="population 应为不小于 0 的人数。")
    ws = load_weights(weights) if weights else None
    ledger = store.read_layer("land_supply", columns=["id", "supply_date", "area_m2"]) if store.layer_exists("land_supply") else None
    doc = evaluate(survey, year=y, ledger=ledger, population=population or None, weights=ws, derivation=info["derivation"], withheld=info["withheld"])
    doc["survey"] = {k: v for k, v in info.items() if k not in ("derivation", "withheld")}
    return doc


def intensity_map_frame(store: Store, year=None) -> tuple[gpd.GeoDataFrame, dict]:
    """The survey the map colours, with its class (`class_key`, `class_zh`), and the report."""
    from parcels.intensity.survey import SURVEY_STATUSES

    y = parse_year(year)
    survey, info = survey_frame(store, y)
    doc = _evaluate(store, y, survey, info)
    frame = survey.copy()
    status = frame["status"].astype(str)
    use = frame["land_use"].astype(object).where(frame["land_use"].notna(), "").astype(str)
    frame["class_key"] = np.where(status == "built", "built:" + use, status)
    frame["status_zh"] = status.map(SURVEY_STATUSES)
    for col in ("supplied", "idle", "high_tech"):
        if col in frame.columns:
            frame[f"{col}_zh"] = pd.array(frame[col], dtype="boolean").fillna(False).map({True: "是", False: "否"}).astype(object)
    return frame, doc
