"""The land supply ledger in the store (SPEC §4.2): imports and admin edits, validated whole.

An import runs the same path as every layer (`services.imports.import_file` → `prepare_features`
→ `Store.import_features`) with three additions: a row may take its reserve parcel's geometry
(`reserve_parcel_id`), the ledger rules (parcels/supply/ledger.py) refuse the whole file on any bad
row, and land given twice (parcels/supply/conflicts.py) comes back as a warning. An edit is the
merged row checked by the same rules, so the ledger cannot hold by edit what an import refuses.
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd

from gis.crs import STORE_EPSG
from gis.errors import InputError, NotFoundError, RowError, nul_errors_in_values, refuse_nul
from gis.store import Store

LEDGER = "land_supply"
RESERVE = "reserve_parcels"


def ledger_headers(frame):
    """Headers as a bureau's 台账 writes them, e.g. “供地日期（合同/划拨决定书）” or “价款（万元）”, renamed
    to the field whose label they start with; the layer's own keys and labels are left as they are."""
    import re

    from parcels.layers import label_aliases
    from parcels.schema import LAYERS

    aliases = label_aliases(LAYERS[LEDGER])
    known = set(aliases) | set(LAYERS[LEDGER].field_names)
    rename = {}
    for col in frame.columns:
        if not isinstance(col, str) or col in known:
            continue
        short = re.split(r"[(（]", col.strip(), maxsplit=1)[0].strip()
        target = aliases.get(short)
        if target and target not in frame.columns and target not in rename.values():
            rename[col] = target
    return frame.rename(columns=rename) if rename else frame


def attach_reserve_geometry(store: Store, frame) -> gpd.GeoDataFrame:
    """Rows without a geometry take their reserve parcel's (`reserve_parcel_id` / 储备地块编号).

    A row with neither a geometry nor a reserve parcel that exists is refused, row named."""
    from parcels.layers import label_aliases
    from parcels.schema import LAYERS

    if isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame.columns:
        geoms = np.asarray(frame.geometry.values, dtype=object)
        attrs = pd.DataFrame(frame.drop(columns=frame.geometry.name)).reset_index(drop=True)
    else:
        attrs = pd.DataFrame(frame).reset_index(drop=True)
        geoms = np.array([None] * len(attrs), dtype=object)
    aliases = label_aliases(LAYERS[LEDGER])
    col = next((c for c in attrs.columns if c == "reserve_parcel_id" or aliases.get(c) == "reserve_parcel_id"), None)
    missing = np.array([g is None for g in geoms], dtype=bool)
    errors: list[RowError] = []
    if missing.any():
        links = attrs[col].astype(object).tolist() if col else [None] * len(attrs)
        wanted = sorted({str(v).strip() for v, m in zip(links, missing) if m and v is not None and str(v).strip() and str(v) != "nan"})
        found = {}
        if wanted and store.layer_exists(RESERVE):
            rp = store.read_layer(RESERVE, ids=wanted, columns=["id"])
            found = dict(zip(rp["id"].astype(str), rp.geometry.values))
        for i in np.flatnonzero(missing):
            link = links[i]
            key = None if link is None or str(link).strip() in ("", "nan") else str(link).strip()
            if key is None:
                errors.append(RowError(int(i) + 1, "geometry", "缺少几何：请提供宗地界线（坐标或 WKT），或填写储备地块编号(reserve_parcel_id) 以采用储备地块的界线"))
            elif key not in found:
                errors.append(RowError(int(i) + 1, "reserve_parcel_id", f"储备地块编号(reserve_parcel_id)“{key}”不存在，无法取得其界线"))
            else:
                geoms[i] = found[key]
    if errors:
        raise InputError(f"土地供应台账被拒绝：{len(errors)} 处数据有误，数据库未作任何修改。", errors, hint="每宗地须有界线，或链接到已有的储备地块。")
    return gpd.GeoDataFrame(attrs, geometry=gpd.GeoSeries(geoms, crs=STORE_EPSG))


def conflict_warnings(store: Store, ready: gpd.GeoDataFrame, *, as_of: dt.date | None = None) -> list[str]:
    """Chinese warnings for imported rows on land already supplied to another (not a refusal)."""
    from parcels.supply.conflicts import supply_conflicts

    industrial = store.read_layer("industrial_parcels", columns=["id"]) if store.layer_exists("industrial_parcels") else None
    existing = None
    if store.layer_exists(LEDGER):
        existing = store.read_layer(LEDGER, columns=["id", "reserve_parcel_id", "supply_date"])
        existing = existing[~existing["id"].astype(str).isin(set(ready["id"].astype(str)))]
    ledger = pd.concat([ready[[c for c in ("id", "reserve_parcel_id", "supply_date", "geometry") if c in ready.columns]], existing], ignore_index=True) if existing is not None and len(existing) else ready
    ledger = gpd.GeoDataFrame(ledger, geometry="geometry", crs=STORE_EPSG)
    mine = set(ready["id"].astype(str))
    found = [c for c in supply_conflicts(ledger=ledger, industrial=industrial, as_of=as_of) if c["id"] in mine]
    return [f"用地冲突（仅提示，未拒绝导入）：{c['note']}" for c in found]


def prepare_ledger_import(store: Store, frame, *, geometry_source: str, data_source: str, today: dt.date | None = None) -> tuple[gpd.GeoDataFrame, list[str]]:
    """A file's rows ready for `Store.import_features('land_supply', …)`, and warnings; InputError on any bad row."""
    from parcels.layers import prepare_features
    from parcels.supply.ledger import validate_ledger

    filled = attach_reserve_geometry(store, ledger_headers(frame))
    ready, warnings = prepare_features(LEDGER, filled, geometry_source=geometry_source, data_source=data_source)
    ready = validate_ledger(ready, today=today)
    return ready, warnings + conflict_warnings(store, ready)


LOCKED = ("id", "area_m2", "ellipsoid_area_m2", "area_mu")


def edit_ledger_row(store: Store, row_id: str, *, user: str, properties: dict | None = None, geometry=None, reason: str | None = None, today: dt.date | None = None) -> dict:
    """Admin edit of one ledger row: the merged row passes the import's rules, or nothing changes."""
    from parcels.layers import prepare_features
    from parcels.supply.ledger import validate_ledger

    refuse_nul(nul_errors_in_values({"id": row_id, "reason": reason}) + nul_errors_in_values(properties or {}, feature_id=row_id), what="修改")
    feature = store.get_feature(LEDGER, row_id)
    if feature is None:
        raise NotFoundError(f"供地台账中没有宗地 {row_id}。")
    changes = dict(properties or {})
    for locked in LOCKED:
        if locked in changes:
            raise InputError(f"字段 {locked} 不能直接修改。", hint="面积由几何自动计算；编号不可改。")
    merged = {k: v for k, v in feature.items() if k != "geometry"} | changes
    geom = geometry if geometry is not None else feature.get("geometry")
    frame = gpd.GeoDataFrame(pd.DataFrame([merged]), geometry=gpd.GeoSeries([geom], crs=STORE_EPSG))
    ready, _ = prepare_features(LEDGER, frame, geometry_source=merged.get("geometry_source"), data_source=merged.get("data_source"))
    ready = validate_ledger(ready, today=today)
    out = {k: _plain(ready[k].iloc[0]) for k in changes if k in ready.columns}
    if geometry is not None:
        geometry = ready.geometry.iloc[0]
        for key in ("area_m2", "ellipsoid_area_m2", "area_mu"):  # computed by prepare_features (SPEC §3.1)
            if key in ready.columns:
                out[key] = _plain(ready[key].iloc[0])
        out.setdefault("geometry_source", "digitized")
    return store.update_feature(LEDGER, row_id, out, geometry=geometry, user=user, reason=reason, action="edit")


def _plain(v):
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return None
    if isinstance(v, np.generic):
        return v.item()
    return v
