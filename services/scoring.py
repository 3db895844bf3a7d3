"""亩均效益 evaluation runs from the store (SPEC §5): enterprise tables, recorded 调档, stored runs.

`score_from_store` is the path every consumer of a score takes (CLI, HTTP, the efficiency map),
so each applies the recorded class adjustments (调档) the same way.
"""

from __future__ import annotations

from gis.store import Store


ADJUSTMENT_KIND = "class_adjustment"


def load_enterprise_source(store: Store, source: str, *, encoding: str | None = None):
    """An enterprise table from a file (CSV/XLSX/OGR) or, by name, the store's `enterprises` layer.

    Returns (frame, input bytes for hashing, label).
    """
    import io as _io
    from pathlib import Path

    import pandas as pd

    from gis.errors import InputError
    from gis.io import read_features

    path = Path(source)
    if path.exists():
        read = read_features(path, encoding=encoding)
        frame = pd.DataFrame(read.frame.drop(columns=read.frame.geometry.name)) if hasattr(read.frame, "geometry") and read.frame.geometry.name in read.frame else pd.DataFrame(read.frame)
        if hasattr(read.frame, "geometry") and "lon" not in frame.columns:
            pts = read.frame.geometry
            if len(pts) and (pts.geom_type == "Point").all():
                frame["lon"], frame["lat"] = pts.x.to_numpy(), pts.y.to_numpy()
        return frame, path.read_bytes(), path.name
    if store.layer_exists(source):
        gdf = store.read_layer(source)
        frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
        buf = _io.StringIO()
        frame.to_csv(buf, index=False)
        return frame, buf.getvalue().encode("utf-8"), f"图层 {source}"
    raise InputError(f"找不到企业数据“{source}”：既不是文件，也不是存储中的图层。", hint="请给出 CSV/XLSX 文件路径，或使用图层名 enterprises。")


def recorded_adjustments(store: Store):
    import pandas as pd

    records = store.get_records(ADJUSTMENT_KIND)
    rows = [{"enterprise_id": k, "class": v.get("class"), "reason": v.get("reason")} for k, v in records.items()]
    return pd.DataFrame(rows, columns=["enterprise_id", "class", "reason"])


def record_adjustment(store: Store, enterprise_id: str, new_class: str, *, reason: str, user: str) -> None:
    from gis.errors import InputError

    if not reason or not reason.strip():
        raise InputError("调档必须填写原因。", hint="请用 --reason 说明调档依据。")
    if new_class not in ("A", "B", "C", "D"):
        raise InputError(f"等级“{new_class}”无效。", hint="等级只能是 A、B、C、D 之一。")
    store.put_record(ADJUSTMENT_KIND, enterprise_id, {"class": new_class, "reason": reason.strip()}, user=user)


def run_scoring(store: Store, frame, data: bytes, *, policy: str | None, user: str, label: str):
    """Score an enterprise table, store the run (input hash, policy, time, user) and return it."""
    from gis.store.base import input_hash
    from parcels.efficiency import DEFAULT_POLICY, load_policy, normalize_enterprise_table, score_enterprises

    pol = load_policy(policy or DEFAULT_POLICY)
    table = normalize_enterprise_table(frame)
    parcels = store.read_layer("industrial_parcels") if store.layer_exists("industrial_parcels") else None
    result = score_enterprises(table, pol, parcels=parcels, adjustments=recorded_adjustments(store))
    result.input_hash = input_hash(data)
    run_id = store.save_run(
        "efficiency",
        result.results,
        user=user,
        input_hash=result.input_hash,
        policy=pol.name,
        meta={"source": label, "rows": int(len(result.results)), "warnings": list(result.warnings)},
    )
    return run_id, result


def efficiency_features(store: Store, result):
    """The results joined to land: each enterprise's parcels (dissolved), else its point."""
    import geopandas as gpd
    import shapely

    rows = result.csv_frame()
    geoms = {}
    if store.layer_exists("industrial_parcels"):
        parcels = store.read_layer("industrial_parcels").set_index("id")
        links = result.links
        for eid, group in links.groupby("enterprise_id"):
            ids = [p for p in group["parcel_id"] if p in parcels.index]
            if ids:
                geoms[eid] = shapely.union_all(parcels.loc[ids].geometry.values)
    if store.layer_exists("enterprises"):
        ents = store.read_layer("enterprises")
        for r in ents.itertuples():
            if r.enterprise_id not in geoms and r.geometry is not None:
                geoms[r.enterprise_id] = r.geometry
    return gpd.GeoDataFrame(rows, geometry=[geoms.get(e) for e in rows["enterprise_id"]], crs=4490)
