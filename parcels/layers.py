"""Turn whatever a user imports into a well-formed feature set for one of landgis's layers.

The store keeps any columns it is given; this module is where the domain's rules apply first:
Chinese headers mapped to field names, types coerced row by row (each failure named), geometry
checked against the layer's type, provenance required, ids made stable, and areas computed from
the geometry the same way everywhere (`area_m2` the plane area in the survey CRS, the registered
宗地面积; `ellipsoid_area_m2` beside it; 亩 = `area_m2` × 15/10000; gis/crs.py). A
declared area that disagrees with the geometry is kept beside it, never overwritten silently.
Text with a NUL byte (\x00) is refused with its row and field named, the same on both stores.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis import geometry as geomcheck
from gis.crs import STORE_EPSG, ellipsoid_area_m2, m2_to_mu, plane_area_m2
from gis.errors import InputError, RowError, nul_errors_in_frame, refuse_nul
from parcels.schema import DELETED_STATUS, GEOMETRY_SOURCES, LAYERS, NONNEGATIVE_FIELDS, RESERVE_STATUSES, Layer

GEOMETRY_OPTIONAL = {"enterprises"}
"""Enterprises may come without coordinates: they are placed by their parcel link."""

TRUE_WORDS = {"是", "true", "1", "yes", "y", "t", "√", "✓", "规上"}
FALSE_WORDS = {"否", "false", "0", "no", "n", "f", "×", "规下", ""}
AREA_TOLERANCE = 0.005


def label_aliases(layer: Layer) -> dict[str, str]:
    """Chinese header → field name (labels with and without their unit in brackets)."""
    out: dict[str, str] = {}
    for f in layer.fields:
        out[f.label_zh] = f.name
        short = f.label_zh.split("(")[0].split("（")[0]
        out.setdefault(short, f.name)
    return out


def _coerce(series: pd.Series, dtype: str, field: str, errors: list[RowError]) -> pd.Series:
    if dtype == "str":
        return series.map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip()).astype(object)
    if dtype in ("float", "int"):
        text = series.astype(object).map(lambda v: v.strip().replace(",", "") if isinstance(v, str) else v)
        num = pd.to_numeric(text, errors="coerce")
        bad = num.isna() & text.notna() & (text.astype(str) != "")
        for i in np.nonzero(bad.to_numpy())[0]:
            errors.append(RowError(int(i) + 1, field, f"“{text.iloc[i]}”不是数字"))
        values = num.to_numpy(dtype=float, na_value=np.nan)
        for i in np.nonzero(np.isinf(values))[0]:
            errors.append(RowError(int(i) + 1, field, "数值为无穷大"))
        if field in NONNEGATIVE_FIELDS:
            for i in np.nonzero(values < 0)[0]:
                errors.append(RowError(int(i) + 1, field, f"数值 {values[i]:g} 为负数，该字段不能小于 0"))
        if dtype == "int":
            frac = num.notna() & (num.fillna(0) % 1 != 0)
            for i in np.nonzero(frac.to_numpy())[0]:
                errors.append(RowError(int(i) + 1, field, f"“{text.iloc[i]}”应为整数"))
            return pd.array([None if pd.isna(v) else int(v) for v in num], dtype="Int64")
        return num.astype(float)
    if dtype == "bool":
        out = []
        for i, v in enumerate(series.tolist()):
            if v is None or (isinstance(v, float) and np.isnan(v)):
                out.append(None)
            elif isinstance(v, (bool, np.bool_)):
                out.append(bool(v))
            elif str(v).strip().lower() in TRUE_WORDS:
                out.append(True)
            elif str(v).strip().lower() in FALSE_WORDS:
                out.append(None if str(v).strip() == "" else False)
            else:
                errors.append(RowError(i + 1, field, f"“{v}”应为 是/否"))
                out.append(None)
        return pd.array(out, dtype="boolean")
    if dtype == "date":
        out = []
        for i, v in enumerate(series.tolist()):
            if v is None or (isinstance(v, float) and np.isnan(v)) or str(v).strip() == "":
                out.append(None)
                continue
            try:
                out.append(pd.Timestamp(str(v).strip().replace("年", "-").replace("月", "-").replace("日", "")).date().isoformat())
            except (ValueError, TypeError):
                errors.append(RowError(i + 1, field, f"“{v}”不是日期（应为 YYYY-MM-DD）"))
                out.append(None)
        return pd.Series(out, index=series.index, dtype=object)
    return series


def make_ids(layer: str, geoms: np.ndarray, attrs: pd.DataFrame) -> list[str]:
    """Stable ids for features that came without one: a hash of geometry and attributes."""
    wkb = shapely.to_wkb(np.asarray(geoms, dtype=object), output_dimension=2) if len(geoms) else []
    rows = attrs.astype(str).agg("|".join, axis=1).tolist() if len(attrs.columns) else [""] * len(geoms)
    out = []
    for w, r in zip(wkb, rows):
        h = hashlib.sha1((w or b"") + r.encode("utf-8")).hexdigest()[:12]
        out.append(f"{layer}-{h}")
    return out


def _clean_ids(ids: pd.Series) -> pd.Series:
    """Ids as stripped text, missing ones None — on the whole column when it is already text
    (an OGR read), value by value otherwise."""
    if isinstance(ids.dtype, pd.StringDtype):
        return ids.str.strip().astype(object).where(ids.notna(), None)
    return ids.map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip())


class _IdsForMessages:
    """The ids an error message names (`ids[i]` as text), made only for the rows with an error."""

    def __init__(self, ids: pd.Series):
        self.values = ids.to_numpy(dtype=object)

    def __getitem__(self, i: int) -> str:
        return str(self.values[i])

    def __len__(self) -> int:
        return len(self.values)


def prepare_features(
    layer_name: str,
    frame: gpd.GeoDataFrame | pd.DataFrame,
    *,
    geometry_source: str | None = None,
    data_source: str | None = None,
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Validated features ready for `Store.import_features`, and warnings for the user."""
    layer = LAYERS.get(layer_name)
    warnings: list[str] = []
    if isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame.columns:
        geoms = np.asarray(frame.geometry.values, dtype=object)
        attrs = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    else:
        geoms = np.array([None] * len(frame), dtype=object)
        attrs = pd.DataFrame(frame)
    if len(attrs) == 0:
        raise InputError("没有要导入的要素（文件为空）。")
    attrs = attrs.reset_index(drop=True)
    # First, before any coercion: a NUL byte in a cell or header cannot be stored in PostgreSQL
    # (and would be cut short by most SQLite readers), so no layer accepts one, on either store.
    refuse_nul(nul_errors_in_frame(attrs), what="导入")
    errors: list[RowError] = []
    if layer is not None:
        aliases = label_aliases(layer)
        attrs = attrs.rename(columns={c: aliases[c] for c in attrs.columns if c in aliases and aliases[c] not in attrs.columns})
        for f in layer.fields:
            if f.name in attrs.columns:
                attrs[f.name] = _coerce(attrs[f.name], f.dtype, f.name, errors)
        expected = layer.geometry_type
    else:
        expected = "GEOMETRY"
    optional_geom = layer_name in GEOMETRY_OPTIONAL
    ids_for_msgs = _IdsForMessages(attrs["id"]) if "id" in attrs.columns else None
    if optional_geom:
        has = np.array([g is not None for g in geoms], dtype=bool)
        sub_errors = geomcheck.validate(geoms[has], expected)
        rows = np.nonzero(has)[0]
        for e in sub_errors:
            e.row = int(rows[e.row - 1]) + 1
        errors += sub_errors
    else:
        errors += geomcheck.validate(geoms, expected, ids_for_msgs)
    if errors:
        raise InputError(f"导入被拒绝：{len(errors)} 处数据有误，数据库未作任何修改。", errors, hint="请按提示修改源文件后重新导入。")
    geoms = geomcheck.promote(geoms, expected)

    if "geometry_source" not in attrs.columns or attrs["geometry_source"].isna().all():
        gs = geometry_source or "surveyed"
        attrs["geometry_source"] = gs
        warnings.append(f"未提供 geometry_source，按 {gs} 记录（可用 --geometry-source 指定）。")
    else:
        attrs["geometry_source"] = attrs["geometry_source"].fillna(geometry_source or "surveyed")
    gs_bad = ~attrs["geometry_source"].isin(GEOMETRY_SOURCES).to_numpy(dtype=bool)  # visit only the bad rows
    bad_gs = [RowError(i + 1, "geometry_source", f"“{attrs['geometry_source'].iloc[i]}”不在允许值 {'/'.join(GEOMETRY_SOURCES)} 中") for i in np.nonzero(gs_bad)[0].tolist()]
    if bad_gs:
        raise InputError("导入被拒绝：几何来源字段取值有误。", bad_gs)
    if "data_source" not in attrs.columns or attrs["data_source"].isna().all():
        attrs["data_source"] = data_source or f"用户导入（{dt.date.today().isoformat()}）"
    else:
        attrs["data_source"] = attrs["data_source"].fillna(data_source or "用户导入")

    if "id" not in attrs.columns or attrs["id"].isna().all():
        attrs["id"] = make_ids(layer_name, geoms, attrs.drop(columns=["id"], errors="ignore"))
    else:
        attrs["id"] = _clean_ids(attrs["id"])

    if layer is not None and layer.field("area_m2") is not None:
        computed = plane_area_m2(geoms)
        if "area_m2" in attrs.columns and attrs["area_m2"].notna().any():
            declared = pd.to_numeric(attrs["area_m2"], errors="coerce").to_numpy(dtype=float)
            differs = np.isfinite(declared) & (np.abs(declared - computed) > AREA_TOLERANCE * np.maximum(computed, 1))
            if differs.any():
                attrs["declared_area_m2"] = np.where(differs, declared, np.nan)
                warnings.append(f"{int(differs.sum())} 个要素的原有面积与几何面积相差超过 0.5%，原值保存在 declared_area_m2 字段。")
        # area_mu is derived from the stored area_m2, so area_mu == area_m2 × 15 / 10000 exactly.
        attrs["area_m2"] = np.round(computed, 2)
        attrs["ellipsoid_area_m2"] = np.round(ellipsoid_area_m2(geoms), 2)
        attrs["area_mu"] = m2_to_mu(attrs["area_m2"].to_numpy(dtype=float))

    if layer_name == "reserve_parcels":
        if "status" not in attrs.columns:
            attrs["status"] = RESERVE_STATUSES[0]
        attrs["status"] = attrs["status"].fillna(RESERVE_STATUSES[0])
        bad = [RowError(i + 1, "status", f"“{v}”不是有效状态（{'/'.join(RESERVE_STATUSES + (DELETED_STATUS,))}）") for i, v in enumerate(attrs["status"]) if v not in RESERVE_STATUSES + (DELETED_STATUS,)]
        if bad:
            raise InputError("导入被拒绝：报批状态取值有误。", bad)

    ordered = [c for c in (layer.field_names if layer else []) if c in attrs.columns]
    ordered += [c for c in attrs.columns if c not in ordered]
    out = gpd.GeoDataFrame(attrs[ordered], geometry=gpd.GeoSeries(geoms, crs=STORE_EPSG))
    return out, warnings
