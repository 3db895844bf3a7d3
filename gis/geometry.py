"""Geometry checks done before anything is written, with the reason GEOS gives, in Chinese.

Cadastral files from CAD and old desktop GIS carry bow-tie polygons, sliver rings and empty
records. An import refuses them all at once, naming each feature, instead of repairing silently:
an official must know their parcel changed shape before it does.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely

from gis.errors import RowError

FAMILY = {
    "POINT": ("Point", "MultiPoint"),
    "MULTIPOINT": ("Point", "MultiPoint"),
    "LINESTRING": ("LineString", "MultiLineString"),
    "MULTILINESTRING": ("LineString", "MultiLineString"),
    "POLYGON": ("Polygon", "MultiPolygon"),
    "MULTIPOLYGON": ("Polygon", "MultiPolygon"),
}
FAMILY_ZH = {"POINT": "点", "MULTIPOINT": "点", "LINESTRING": "线", "MULTILINESTRING": "线", "POLYGON": "面", "MULTIPOLYGON": "面"}


def _reason_zh(reason: str) -> str:
    r = reason.lower()
    if "self-intersection" in r or "ring self-intersection" in r:
        return f"多边形自相交（{reason}）"
    if "too few points" in r:
        return f"环的顶点过少（{reason}）"
    if "hole lies outside" in r:
        return f"内环位于外环之外（{reason}）"
    if "nested" in r:
        return f"多边形嵌套（{reason}）"
    if "not closed" in r:
        return f"环未闭合（{reason}）"
    if "invalid coordinate" in r:
        return f"坐标无效（NaN 或无穷大）（{reason}）"
    return f"几何无效（{reason}）"


def validate(geoms: np.ndarray, expected: str, ids: Sequence[str] | None = None) -> list[RowError]:
    """Every problem of every geometry, 1-based rows; empty list when all are fine."""
    errors: list[RowError] = []
    arr = np.asarray(geoms, dtype=object)
    family = FAMILY.get(expected.upper())
    missing = np.array([g is None for g in arr], dtype=bool)
    present = arr[~missing]
    empty = np.zeros(len(arr), dtype=bool)
    valid = np.ones(len(arr), dtype=bool)
    types = np.array([None] * len(arr), dtype=object)
    if len(present):
        empty[~missing] = shapely.is_empty(present)
        valid[~missing] = shapely.is_valid(present)
        types[~missing] = shapely.get_type_id(present)
    type_names = {0: "Point", 1: "LineString", 2: "LinearRing", 3: "Polygon", 4: "MultiPoint", 5: "MultiLineString", 6: "MultiPolygon", 7: "GeometryCollection"}
    family_ids = [k for k, v in type_names.items() if family and v in family]
    wrong_type = np.zeros(len(arr), dtype=bool)
    if family and len(present):
        wrong_type[~missing] = ~np.isin(types[~missing].astype(np.int64), family_ids)
    # Only the rows with a problem are visited one by one (a city's cadastre has 10^6 good rows).
    for i in np.nonzero(missing | empty | wrong_type | ~valid)[0].tolist():
        fid = ids[i] if ids is not None else None
        if missing[i]:
            errors.append(RowError(i + 1, "geometry", "缺少几何（空记录）", fid))
            continue
        if empty[i]:
            errors.append(RowError(i + 1, "geometry", "几何为空", fid))
            continue
        name = type_names.get(int(types[i]), "?")
        if family and name not in family:
            errors.append(RowError(i + 1, "geometry", f"几何类型为 {name}，本图层应为{FAMILY_ZH[expected.upper()]}要素（{expected}）", fid))
            continue
        if not valid[i]:
            errors.append(RowError(i + 1, "geometry", _reason_zh(shapely.is_valid_reason(arr[i])) + "；请在 QGIS 中用“修复几何”处理后重新导入", fid))
    return errors


def promote(geoms: np.ndarray, expected: str) -> np.ndarray:
    """Single parts to Multi* where the layer is declared Multi*, so every feature has one type."""
    arr = np.asarray(geoms, dtype=object)
    exp = expected.upper()
    if exp not in ("MULTIPOLYGON", "MULTILINESTRING", "MULTIPOINT") or len(arr) == 0:
        return arr
    single = {"MULTIPOLYGON": 3, "MULTILINESTRING": 1, "MULTIPOINT": 0}[exp]
    maker = {"MULTIPOLYGON": shapely.multipolygons, "MULTILINESTRING": shapely.multilinestrings, "MULTIPOINT": shapely.multipoints}[exp]
    out = arr.copy()
    ids = shapely.get_type_id(arr)
    for i in np.nonzero(ids == single)[0]:
        out[i] = maker([arr[i]])
    return out
