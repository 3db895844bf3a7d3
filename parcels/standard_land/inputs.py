"""Project inputs of SPEC §6: validated and normalised, for one project or a whole table.

Why one routine for both: `landgis check` reads one TOML/JSON project, 达产复核 reads a table of
enterprises' actual figures; both must refuse the same bad values with the same Chinese
messages (naming the row and field) and compute land the same way (亩 × 10000/15 = m²).
Missing values stay missing (NaN): an indicator that needs them is reported `incomplete`,
never guessed.
"""

from __future__ import annotations

import json
import tomllib

import numpy as np
import pandas as pd

from gis.errors import InputError, RowError
from parcels.standard_land.indicators import PHASES, STANDARD_LAND_USES
from parcels.standard_land.industry import load_mapping, normalize_code

M2_PER_MU = 10000 / 15

TEXT_FIELDS = {
    "parcel_id": "地块编号",
    "name": "项目名称",
}
CODE_FIELDS = {
    "industry_code": "行业代码（GB/T 4754-2017 大类）",
    "industry_code_2002": "行业代码（GB/T 4754-2002 大类，可选，用于 2008 年版表2 的精确匹配）",
}
NUMBER_FIELDS = {
    # key: (label, must be >= 0)
    "land_area_mu": ("用地面积(亩)", True),
    "fixed_asset_investment": ("固定资产投资(万元，含厂房、设备和地价款)", True),
    "total_floor_area_m2": ("总建筑面积(平方米)", True),
    "tall_floor_area_m2": ("层高超过8米楼层的建筑面积(平方米)", True),
    "building_footprint_m2": ("建筑物、构筑物及堆场占地(平方米)", True),
    "office_living_land_m2": ("行政办公及生活服务设施占地(平方米)", True),
    "green_area_m2": ("绿地面积(平方米)", True),
    "expected_tax": ("税收(万元/年)", True),
    "expected_revenue": ("营业收入/产值(万元/年)", True),
    "expected_value_added": ("增加值(万元/年)", False),
    "expected_energy_tce": ("综合能耗(吨标准煤/年)", True),
}
PHASE_FIELD = {"phase": "检查阶段（出让/竣工/达产）"}

PROJECT_KEYS = {**TEXT_FIELDS, **CODE_FIELDS, **{k: v[0] for k, v in NUMBER_FIELDS.items()}, **PHASE_FIELD}
"""Every key a project may carry, with its Chinese label (for messages and reports)."""

ACTUAL_ALIASES = {
    # 达产复核 tables use the enterprise keys of SPEC §5.1 for actual figures.
    "tax": "expected_tax",
    "revenue": "expected_revenue",
    "value_added": "expected_value_added",
    "energy_tce": "expected_energy_tce",
}

FIELD_LABEL = {k: f"{k}（{v}）" for k, v in PROJECT_KEYS.items()}


class ProjectInputError(InputError):
    """A project (or 达产复核 table) that cannot be checked; `.errors` names every bad field."""


def parse_project_text(text: str, fmt: str) -> dict:
    """Parse a project file's text ("toml" or "json") into the dict `check_project` takes."""
    fmt = fmt.lower().lstrip(".")
    try:
        if fmt == "toml":
            data = tomllib.loads(text)
        elif fmt == "json":
            data = json.loads(text)
        else:
            raise ProjectInputError(f"项目文件格式“{fmt}”不受支持。", [RowError(None, None, "请使用 .toml 或 .json 文件")])
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise ProjectInputError(f"项目文件不是有效的 {fmt.upper()}：{exc}", [RowError(None, None, str(exc))], hint="请检查文件语法。") from exc
    if not isinstance(data, dict):
        raise ProjectInputError("项目文件应为一个对象（键值表）。", [RowError(None, None, "顶层应为 {…}")])
    return data


def _numeric(series: pd.Series, key: str, nonneg: bool, rows: np.ndarray | None, errors: list[RowError]) -> pd.Series:
    """Numbers (or numeric text like "1,200") → float, blanks → NaN; anything else is an error."""
    obj = series.astype(object)
    is_bool = obj.map(lambda v: isinstance(v, (bool, np.bool_))).to_numpy(dtype=bool)
    text = obj.map(lambda v: v.strip().replace(",", "").replace("，", "") if isinstance(v, str) else v)
    blank = text.map(lambda v: v is None or (isinstance(v, str) and v == "") or (isinstance(v, float) and np.isnan(v))).to_numpy(dtype=bool)
    num = pd.to_numeric(text.where(~blank, None).where(~is_bool, None), errors="coerce").astype(float).to_numpy().copy()
    bad = (np.isnan(num) & ~blank) | is_bool
    label = FIELD_LABEL.get(key, key)
    for i in np.nonzero(bad)[0]:
        errors.append(RowError(None if rows is None else int(rows[i]), key, f"{label}：“{obj.iloc[i]}”不是数值"))
    inf = np.isinf(num)
    for i in np.nonzero(inf)[0]:
        errors.append(RowError(None if rows is None else int(rows[i]), key, f"{label}：数值为无穷大"))
    num[bad | inf] = np.nan
    if nonneg:
        neg = num < 0
        for i in np.nonzero(neg)[0]:
            errors.append(RowError(None if rows is None else int(rows[i]), key, f"{label}：{num[i]:g} 不能为负数"))
        num[neg] = np.nan
    return pd.Series(num, index=series.index, dtype=float)


def _clean_text(v) -> str | None:
    if v is None or (isinstance(v, float) and np.isnan(v)) or str(v).strip() == "":
        return None
    return str(v).strip()


def _text(series: pd.Series) -> pd.Series:
    """Text column with None for blanks (object dtype: pandas' str dtype would turn None into NaN)."""
    return pd.Series([_clean_text(v) for v in series.astype(object).tolist()], index=series.index, dtype=object)


def normalize_projects(
    frame: pd.DataFrame,
    *,
    single: bool = False,
    passthrough: tuple[str, ...] = (),
) -> tuple[pd.DataFrame, list[RowError]]:
    """Validate project rows; return normalised columns and the errors found (not yet raised).

    Every key of PROJECT_KEYS appears in the result (missing → NaN/None); `phase` defaults to
    出让 (a proposed project is checked for land supply). Unknown columns are errors unless listed
    in `passthrough` (e.g. `enterprise_id` of a 达产复核 table). Row numbers in errors are 1-based
    data rows; `single=True` (one project file) leaves them out.
    """
    errors: list[RowError] = []
    rows = None if single else np.arange(1, len(frame) + 1)
    for col in frame.columns:
        if col not in PROJECT_KEYS and col not in passthrough:
            errors.append(RowError(None, str(col), f"未知字段“{col}”（可用字段：{'、'.join(PROJECT_KEYS)}）"))
    out = pd.DataFrame(index=pd.RangeIndex(len(frame)))
    src = frame.reset_index(drop=True)
    for key in TEXT_FIELDS:
        out[key] = _text(src[key]) if key in src else pd.Series([None] * len(src), dtype=object)
    for key in CODE_FIELDS:
        vals = src[key].astype(object).tolist() if key in src else [None] * len(src)
        codes = []
        for i, v in enumerate(vals):
            try:
                codes.append(normalize_code(v))
            except ValueError as exc:
                errors.append(RowError(None if rows is None else int(rows[i]), key, f"{FIELD_LABEL[key]}：{exc}"))
                codes.append(None)
        out[key] = pd.Series(codes, dtype=object)
    for key, (_, nonneg) in NUMBER_FIELDS.items():
        out[key] = _numeric(src[key], key, nonneg, rows, errors) if key in src else np.nan
    phase = _text(src["phase"]) if "phase" in src else pd.Series([None] * len(src), dtype=object)
    bad_phase = phase.notna() & ~phase.isin(PHASES)
    for i in np.nonzero(bad_phase.to_numpy())[0]:
        errors.append(RowError(None if rows is None else int(rows[i]), "phase", f"{FIELD_LABEL['phase']}：“{phase.iloc[i]}”无效，应为 {'/'.join(PHASES)}"))
    out["phase_given"] = phase.notna() & ~bad_phase
    out["phase"] = phase.where(phase.notna() & ~bad_phase, "出让").astype(object)
    for key in passthrough:
        if key in src:
            out[key] = _text(src[key])
    out["_input_row"] = np.arange(1, len(src) + 1)
    return out, errors


def attach_context(
    frame: pd.DataFrame,
    *,
    parcel_area_mu: pd.Series | None = None,
    use: pd.Series | None = None,
    park: pd.Series | None = None,
    district: pd.Series | None = None,
    single: bool = False,
    errors: list[RowError] | None = None,
) -> pd.DataFrame:
    """Land area, use, park and district of each row; raise ProjectInputError on any error.

    Land is the project's `land_area_mu`, else its parcel's area (the caller looks the parcel
    up). Use is the parcel's, else implied by the industry (13–43 工业, 59 仓储), else unknown.
    Also checks what cannot be true of real land: tall-storey floor area above the total, or a
    footprint, office or green area larger than the land.
    """
    errors = list(errors or [])
    out = frame.copy()
    n = len(out)
    rowno = (lambda i: None) if single else (lambda i: int(out["_input_row"].iloc[i]))
    mapping = load_mapping()

    def _series(s, dtype=object):
        if s is None:
            return pd.Series([None] * n, dtype=object) if dtype is object else pd.Series(np.nan, index=out.index)
        return s.reset_index(drop=True)

    area = out["land_area_mu"].astype(float)
    parcel_mu = _series(parcel_area_mu, float).astype(float)
    out["land_from_parcel"] = area.isna() & parcel_mu.notna()
    area = area.where(area.notna(), parcel_mu)
    for i in np.nonzero(area.isna().to_numpy())[0]:
        errors.append(RowError(rowno(i), "land_area_mu", "缺少用地面积：请填写 land_area_mu（亩），或填写 parcel_id 指向有面积的地块"))
    for i in np.nonzero((area <= 0).to_numpy())[0]:
        errors.append(RowError(rowno(i), "land_area_mu", f"用地面积 {area.iloc[i]:g} 亩必须大于 0"))
    out["land_mu"] = area
    out["land_m2"] = area * M2_PER_MU

    tall, total = out["tall_floor_area_m2"], out["total_floor_area_m2"]
    for i in np.nonzero((tall > total).to_numpy())[0]:
        errors.append(RowError(rowno(i), "tall_floor_area_m2", f"层高超过8米楼层的建筑面积 {tall.iloc[i]:g} m² 大于总建筑面积 {total.iloc[i]:g} m²：它是总建筑面积的一部分（计算容积率时再加一次）"))
    for key in ("building_footprint_m2", "office_living_land_m2", "green_area_m2"):
        over = (out[key] > out["land_m2"] * (1 + 1e-9)).to_numpy()
        for i in np.nonzero(over)[0]:
            errors.append(RowError(rowno(i), key, f"{FIELD_LABEL[key]} {out[key].iloc[i]:g} m² 大于用地面积 {out['land_m2'].iloc[i]:.2f} m²"))

    c17, c02 = out["industry_code"], out["industry_code_2002"]
    for i in np.nonzero((c02.notna() & c17.isna()).to_numpy())[0]:
        errors.append(RowError(rowno(i), "industry_code", "填写了 industry_code_2002 时也须填写 GB/T 4754-2017 行业代码 industry_code"))
    for i in np.nonzero((c02.notna() & c17.notna()).to_numpy())[0]:
        a, b = c02.iloc[i], c17.iloc[i]
        if a not in mapping.to_2017:
            errors.append(RowError(rowno(i), "industry_code_2002", f"2002 年版行业代码 {a} 不在对照表中"))
        elif b not in mapping.to_2017[a]:
            errors.append(RowError(rowno(i), "industry_code_2002", f"2002 年版行业代码 {a} 对应 2017 年版 {'/'.join(mapping.to_2017[a])}，与 industry_code {b} 不一致"))

    given_use = _series(use)
    given_use = _text(given_use)
    implied = pd.Series([mapping.use_of(c) if c is not None else None for c in c17.tolist()], index=c17.index, dtype=object)
    out["use"] = given_use.where(given_use.notna(), implied).astype(object)
    out["use_from_parcel"] = given_use.notna()
    not_sl = out["use"].notna() & ~out["use"].isin(STANDARD_LAND_USES)
    for i in np.nonzero(not_sl.to_numpy())[0]:
        errors.append(RowError(rowno(i), "parcel_id", f"地块用途为“{out['use'].iloc[i]}”：标准地控制指标只适用于工业用地（及仓储用地），不适用于该地块"))
    out["park"] = _text(_series(park))
    out["district"] = _text(_series(district))
    if errors:
        raise ProjectInputError(f"项目数据有 {len(errors)} 处错误，未进行核查。", errors, hint="请按提示修改后重新提交。")
    return out
