"""An enterprise's 亩均 profile (SPEC §5.5): its land, every stored year against its class's
benchmark, class and rank over the years, and its 调档 history.

Why from the stored runs and not a re-computation: the profile is what the bureau decided each
year (the run, with the 调档 of that year); re-scoring old figures under today's policy would show
classes nobody published. The `enterprises` layer says who and where; the runs say each year.
"""

from __future__ import annotations

import json
import math

import pandas as pd

from gis.errors import NotFoundError
from gis.store import Store


def _num(v):
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def enterprise_profile(store: Store, enterprise_id: str, policy: str | None = None) -> dict:
    """The profile as a JSON-ready dict; NotFoundError when neither the layer nor a run knows the id."""
    from parcels.efficiency.indicators import INDICATORS
    from parcels.efficiency.years import overlay_adjustments
    from services.scoring import ADJUSTMENT_KIND, efficiency_runs, recorded_adjustments, run_classes

    who: dict = {"enterprise_id": enterprise_id}
    parcel_ids: list[str] = []
    point = None
    if store.layer_exists("enterprises"):
        ents = store.read_layer("enterprises")
        row = ents[ents["enterprise_id"].astype(str) == enterprise_id]
        if len(row):
            r = row.iloc[0]
            for k in ("name", "park", "district", "industry_code", "above_scale", "land_area_mu", "parcel_id", "data_source"):
                if k in row.columns and not pd.isna(r[k]):
                    who[k] = r[k].item() if hasattr(r[k], "item") else r[k]
            if r.geometry is not None and not r.geometry.is_empty:
                point = [r.geometry.x, r.geometry.y] if r.geometry.geom_type == "Point" else None
            if "parcel_id" in row.columns and isinstance(r["parcel_id"], str):
                parcel_ids = [p.strip() for p in r["parcel_id"].replace("；", ";").split(";") if p.strip()]
    adjustments = recorded_adjustments(store)
    years = []
    latest: dict = {}
    for meta in efficiency_runs(store):
        if policy and policy not in (meta.get("policy_id"), meta.get("policy")):
            continue
        latest[(meta.get("policy_id") or meta.get("policy"), meta.get("year"))] = meta
    for (_, year), meta in sorted(latest.items(), key=lambda kv: (str(kv[0][0]), kv[0][1] or 0)):
        _, table = store.get_run(meta["run_id"])
        table, _ = overlay_adjustments(table, adjustments, year, meta.get("policy_id") or "", meta.get("policy") or "",
                                       run_classes(meta, table))
        mine = table[table["enterprise_id"].astype(str) == enterprise_id]
        if not len(mine):
            continue
        r = mine.iloc[0]
        above = r.get("above_scale")
        group = "above_scale" if above is True or above == 1 else ("below_scale" if above is False or above == 0 else "")
        peers = table[(table["above_scale"] == above) & table["rank"].notna()] if "above_scale" in table.columns else table
        bench = {b["indicator"]: b for b in meta.get("benchmarks", []) if b.get("group") == group}
        indicators = []
        for key in [c for c in table.columns if c in INDICATORS and (not bench or c in bench)]:  # its class's indicators
            value, b = _num(r[key]), _num(bench.get(key, {}).get("benchmark"))
            indicators.append({"key": key, "label_zh": INDICATORS[key].label_zh, "unit": INDICATORS[key].unit, "value": value,
                               "benchmark": b, "ratio": value / b if value is not None and b else None,
                               "score": _num(r.get(f"score_{key}"))})
        years.append({
            "year": year, "run_id": meta["run_id"], "policy": meta.get("policy"), "policy_id": meta.get("policy_id"),
            "created_at": meta.get("created_at"), "group": group, "class": None if pd.isna(r.get("class")) else r.get("class"),
            "initial_class": None if pd.isna(r.get("initial_class")) else r.get("initial_class"),
            "rank": None if pd.isna(r.get("rank")) else int(r["rank"]), "ranked": int(len(peers)),
            "total_score": _num(r.get("total_score")), "land_area_mu": _num(r.get("land_area_mu")),
            "consecutive_low": None if pd.isna(r.get("consecutive_low", None)) else int(r["consecutive_low"]),
            "measures": "" if pd.isna(r.get("measures", "")) else str(r.get("measures", "")),
            "flags": "" if pd.isna(r.get("flags", "")) else str(r.get("flags", "")),
            "indicators": indicators,
        })
        if "name" not in who and not pd.isna(r.get("name")):
            who["name"] = r.get("name")
    if "name" not in who and not years and len(who) == 1:
        raise NotFoundError(f"没有企业 {enterprise_id}：企业图层和评价运行记录中都没有该编号。")
    history = []
    mine = adjustments[adjustments["enterprise_id"].astype(str) == enterprise_id]
    for rec in mine.to_dict("records"):
        rec["year"] = None if pd.isna(rec["year"]) else int(rec["year"])
        h = store.history(f"landgis_records:{ADJUSTMENT_KIND}", rec["key"])
        for hr in h.to_dict("records"):
            new = json.loads(hr["new"]) if hr.get("new") else {}
            history.append({"year": rec["year"], "policy": rec["policy"] or "（所有评价办法）", "class": new.get("class", rec["class"]),
                            "reason": new.get("reason", rec["reason"]), "user": hr["user"], "at": hr["at"],
                            "action": hr["action"], "applies": rec["year"] is not None})
        if not len(h):
            history.append({"year": rec["year"], "policy": rec["policy"] or "（所有评价办法）", "class": rec["class"],
                            "reason": rec["reason"], "user": None, "at": None, "action": "insert", "applies": rec["year"] is not None})
    parcels = []
    if store.layer_exists("industrial_parcels") and parcel_ids:
        import shapely

        pl = store.read_layer("industrial_parcels")
        for p in pl[pl["id"].astype(str).isin(parcel_ids)].itertuples():
            parcels.append({"id": p.id, "area_mu": _num(getattr(p, "area_mu", None)), "park": getattr(p, "park", None),
                            "geometry": json.loads(shapely.to_geojson(p.geometry)) if p.geometry is not None else None})
    return {"enterprise": who, "point": point, "parcels": parcels, "years": years,
            "adjustments": sorted(history, key=lambda x: (x["at"] or "", str(x["year"]))),
            "note": "各年度数据取自该年度最新一次评价运行（含该年度调档）；基准值为同类企业（规上/规下）当年基准。"}
