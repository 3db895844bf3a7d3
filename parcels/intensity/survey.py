"""The land survey (土地利用状况调查图斑, SPEC §11): its vocabularies and the rules an import passes.

Pure: a prepared frame (parcels.layers.prepare_features) and the zone's geometry in, the frame
with its values normalised (Chinese status labels → keys, 工业 → 工矿仓储) or an InputError naming
every bad row and field in Chinese out. The import is refused whole on any error.

Which land counts as "in the zone": the current zone_boundary **and** the plan's expansion
area when the store has it. Why: the 扩区 study argues from a survey of land it proposes to take
over, and a survey team may map that land in the same campaign; a polygon outside both is a
mistake (wrong CRS, another zone). The evaluation itself counts only land in the current zone
(the 规程's 评价范围 is the approved boundary); survey land in the expansion area is reported
apart (services/intensity.py), never mixed into the rates.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.errors import InputError, RowError

SURVEY_STATUSES: dict[str, str] = {
    "built": "已建成城镇建设用地",
    "ready": "已达到供地条件的其他土地",
    "not_ready": "未达到供地条件的土地",
    "unavailable": "不可建设土地",
}
SURVEY_LAND_USES = ("工矿仓储", "住宅", "商服", "公共管理与公共服务", "交通运输", "其他")
LAND_USE_ALIASES = {"工业": "工矿仓储", "仓储": "工矿仓储", "工业用地": "工矿仓储", "工矿仓储用地": "工矿仓储", "居住": "住宅", "住宅用地": "住宅",
                    "商业": "商服", "商服用地": "商服", "公共管理与公共服务用地": "公共管理与公共服务", "交通运输用地": "交通运输", "道路": "交通运输"}
"""Names a bureau's table often uses for the six classes (三调 工作分类 一级类 names with 用地)."""

TOLERANCE_M = 1.0
"""A survey polygon may stick out of the zone by this much (digitising along the same line twice)."""


def _label(field: str) -> str:
    from parcels.schema import LAYERS

    f = LAYERS["land_survey"].field(field)
    return f"{f.label_zh}({field})" if f else field


def status_key(value) -> str | None:
    """`built` from `built` or from its Chinese label (and its short forms); None if unknown."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip()
    if text in SURVEY_STATUSES:
        return text
    for key, label in SURVEY_STATUSES.items():
        if text in (label, label.removesuffix("土地"), label.removesuffix("的土地"), label.removesuffix("用地")):
            return key
    return None


def land_use_key(value) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or str(value).strip() == "":
        return ""
    text = str(value).strip()
    return text if text in SURVEY_LAND_USES else LAND_USE_ALIASES.get(text)


def named_errors(exc: InputError) -> InputError:
    """The same refusal with each field's Chinese name in its message (the generic import rules
    name the field by its key)."""
    for e in exc.errors:
        if getattr(e, "field", None) and not e.message.startswith(_label(e.field).split("(")[0]):
            e.message = f"{_label(e.field)}：{e.message}"
    exc.args = (exc.render(),)
    return exc


def _bools(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    return pd.array(frame[name], dtype="boolean").fillna(False).to_numpy(dtype=bool)


def vocabulary_errors(frame: pd.DataFrame) -> tuple[list[RowError], list, list]:
    """(errors, status keys, land-use names) of each row: unknown statuses and uses, built land
    without a use. Also run on a file the generic rules refused, so one answer names every fault."""
    errors: list[RowError] = []
    ids = frame["id"].astype(str).tolist() if "id" in frame.columns else [None] * len(frame)
    raw_status = frame["status"].tolist() if "status" in frame.columns else [None] * len(frame)
    statuses = []
    for i, v in enumerate(raw_status):
        key = status_key(v)
        if key is None:
            shown = "（空）" if v is None or (isinstance(v, float) and np.isnan(v)) else f"“{v}”"
            errors.append(RowError(i + 1, "status", f"{_label('status')} {shown} 不是有效取值；应为 " + "、".join(f"{k}（{z}）" for k, z in SURVEY_STATUSES.items()), ids[i]))
        statuses.append(key)
    raw_use = frame["land_use"].tolist() if "land_use" in frame.columns else [None] * len(frame)
    uses = []
    for i, v in enumerate(raw_use):
        key = land_use_key(v)
        if key is None:
            errors.append(RowError(i + 1, "land_use", f"{_label('land_use')} “{v}” 不是有效取值；应为 " + "、".join(SURVEY_LAND_USES), ids[i]))
        elif key == "" and statuses[i] == "built":
            errors.append(RowError(i + 1, "land_use", f"{_label('land_use')} 为空：已建成城镇建设用地须填写土地用途（" + "、".join(SURVEY_LAND_USES) + "）", ids[i]))
        uses.append(key or None)
    return errors, statuses, uses


def validate_survey(ready: gpd.GeoDataFrame, zone=None) -> gpd.GeoDataFrame:
    """The survey with `status` as keys and `land_use` as the six names; InputError on any bad row.

    `zone`: the land a polygon must lie in (EPSG:4490 geometry: current zone ∪ planned expansion),
    or None when the store has no zone_boundary (then nothing is checked against it)."""
    frame = ready.reset_index(drop=True).copy()
    errors, statuses, uses = vocabulary_errors(frame)
    frame["status"] = pd.Series(statuses, dtype=object)
    frame["land_use"] = pd.Series(uses, dtype=object)
    ids = frame["id"].astype(str).tolist() if "id" in frame.columns else [None] * len(frame)
    idle, supplied = _bools(frame, "idle"), _bools(frame, "supplied")
    for i in np.flatnonzero(idle & ~supplied):
        errors.append(RowError(int(i) + 1, "idle", f"{_label('idle')} 为“是”，但{_label('supplied')}为“否”：闲置土地只能是已供应的国有建设用地（部令第53号第二条）", ids[i]))
    if "footprint_m2" in frame.columns and "area_m2" in frame.columns:  # 建筑系数 cannot pass 100 %
        foot = pd.to_numeric(frame["footprint_m2"], errors="coerce").to_numpy(dtype=float)
        area_m2 = pd.to_numeric(frame["area_m2"], errors="coerce").to_numpy(dtype=float)
        for i in np.flatnonzero(foot > area_m2 * (1 + 1e-3) + 0.01):
            errors.append(RowError(int(i) + 1, "footprint_m2", f"{_label('footprint_m2')} {foot[i]:,.1f} 平方米大于图斑面积 {area_m2[i]:,.1f} 平方米", ids[i]))
    if zone is not None and len(frame):
        from gis.crs import to_measure

        geoms = to_measure(np.asarray(frame.geometry.values, dtype=object))
        area = to_measure(np.array([zone], dtype=object))[0]
        inside = shapely.covered_by(geoms, shapely.buffer(area, TOLERANCE_M))
        for i in np.flatnonzero(~inside):
            out_m2 = float(shapely.area(shapely.difference(geoms[i], area)))
            errors.append(RowError(int(i) + 1, "geometry", f"图斑有 {out_m2:,.1f} 平方米在高新区范围（现状范围及规划扩区）之外", ids[i]))
    if errors:
        errors.sort(key=lambda e: (e.row or 0, e.field or ""))
        raise InputError(
            f"土地利用状况调查图斑被拒绝：{len(errors)} 处数据有误，数据库未作任何修改。", errors,
            hint="土地利用状况(status) 用 built/ready/not_ready/unavailable 或其中文名；土地用途用 " + "、".join(SURVEY_LAND_USES)
            + "；图斑须在高新区范围内（请核对坐标系，可用 --crs 指定）；面积、建筑面积、投资、税收不能为负。",
        )
    for name in ("supplied", "idle", "high_tech"):  # an empty flag is “否”: the 规程's classes are yes/no
        frame[name] = pd.array(_bools(frame, name), dtype="boolean")
    return frame
