"""A synthetic land supply ledger for the bundled sample (SPEC §4.2), so every supervision list shows.

Nothing here is a real supply record: every row says so in `data_source`, and its dates are
counted back from the day the sample is built (`today`), so that on that day the ledger holds
each case the supervision report knows — 批而未供 under and over two years, 供而未用, 闲置 at each
stage (fee, reclaim, 协商 for 政府原因), halted with low development and with low investment, a
halt under one year, overdue completion, 达产复核 due (with committed indicators that one
enterprise meets and one does not) and a completed project not yet due.

Geometry: rows on land already in use take the sample industrial parcel's id and shape (the
4 sample parcels marked idle carry the not-started cases, the single-enterprise parcels the
producing ones); land approved or supplied but not in use yet is carved from free land inside
the sample park zones (schematic, away from every industrial and reserve parcel). The reserve
parcels of the plan stay 计划报批 (their status is quoted from the plan), so no row links them.
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.crs import MEASURE_EPSG, STORE_EPSG, reproject
from parcels.sample.sketch import multi

DATA_SOURCE = "合成示例数据（synthetic）：供地台账为演示生成，日期按载入之日倒推，非真实供地记录"


def _day(today: dt.date, *, years: int = 0, months: int = 0, days: int = 0) -> str:
    return (pd.Timestamp(today) - pd.DateOffset(years=years, months=months, days=days)).date().isoformat()


def _free_boxes(parks: gpd.GeoDataFrame, taken: list, n: int, size=(220.0, 160.0)) -> list:
    """`n` schematic rectangles (EPSG:4490) inside the park zones, 30 m clear of `taken` and of each other."""
    occupied = shapely.union_all(shapely.buffer(reproject(np.asarray(taken, dtype=object), STORE_EPSG, MEASURE_EPSG), 30.0))
    zones = reproject(np.asarray(parks.sort_values("id").geometry.values, dtype=object), STORE_EPSG, MEASURE_EPSG)
    w, h = size
    out = []
    for zone in zones:
        if len(out) >= n:
            break
        x0, y0, x1, y1 = zone.bounds
        for y in np.arange(y0 + 20, y1 - h, h + 40):
            for x in np.arange(x0 + 20, x1 - w, w + 40):
                cand = shapely.box(x, y, x + w, y + h)
                if len(out) < n and zone.contains(cand) and not cand.intersects(occupied):
                    out.append(cand)
                    occupied = shapely.union(occupied, cand.buffer(30.0))
            if len(out) >= n:
                break
    if len(out) < n:
        raise ValueError("样例园区内空地不足，无法生成示例供地台账。")
    return list(reproject(np.asarray(out, dtype=object), MEASURE_EPSG, STORE_EPSG))


def build_supply_ledger(industrial: gpd.GeoDataFrame, enterprises: gpd.GeoDataFrame, parks: gpd.GeoDataFrame, reserve: gpd.GeoDataFrame, *, today: dt.date | None = None) -> gpd.GeoDataFrame:
    """The sample `land_supply` layer (EPSG:4490) as of `today` (default: the day it is built)."""
    today = today or dt.date.today()
    d = lambda **kw: _day(today, **kw)  # noqa: E731
    idle_ids = industrial.loc[industrial["idle"].astype(bool), "id"].astype(str).sort_values().tolist()
    links = enterprises["parcel_id"].dropna().astype(str)
    single = links[~links.str.contains(";")].value_counts()
    built = industrial.set_index(industrial["id"].astype(str))
    dense = set(built.index[(built["building_coverage"] >= 32) & (built["floor_area_ratio"] >= 1.0)])
    # Single-enterprise parcels, well built first: a 达产复核 then turns on what the contract committed.
    producing = sorted((p for p, k in single.items() if k == 1 and p not in idle_ids), key=lambda p: (p not in dense, p))
    if len(idle_ids) < 4 or len(producing) < 4:
        raise ValueError("样例工业用地不足，无法生成示例供地台账。")
    base = {"land_use": "工业", "supply_method": "挂牌出让", "term_years": 50, "delay_cause": None}
    rows: list[dict] = []

    def row(id_, geom_from, **kw):
        rows.append({"id": id_, "_geom": geom_from, **base, **kw})

    # Not started (on the sample parcels marked idle): < 1 year, ≥ 1 year (fee), ≥ 2 years (reclaim), 政府原因 (协商).
    row(idle_ids[0], idle_ids[0], approval_date=d(years=2), supply_date=d(years=1, months=2), agreed_start_date=d(months=5), agreed_completion_date=d(months=-19), agreed_production_date=d(months=-31), price_wan=1260.0, grantee="示例企业甲（合成）")
    row(idle_ids[1], idle_ids[1], approval_date=d(years=3), supply_date=d(years=2, months=6), agreed_start_date=d(years=1, months=3), agreed_completion_date=d(months=-9), agreed_production_date=d(months=-21), price_wan=980.0, grantee="示例企业乙（合成）", delay_cause="企业原因")
    row(idle_ids[2], idle_ids[2], approval_date=d(years=5), supply_date=d(years=4, months=2), agreed_start_date=d(years=3, months=1), agreed_completion_date=d(years=1), agreed_production_date=d(months=1), price_wan=1530.0, grantee="示例企业丙（合成）", delay_cause="企业原因")
    row(idle_ids[3], idle_ids[3], approval_date=d(years=4), supply_date=d(years=3), agreed_start_date=d(years=2, months=4), agreed_completion_date=d(months=2), agreed_production_date=d(months=-10), price_wan=870.0, grantee="示例企业丁（合成）", delay_cause="政府原因")
    # Producing parcels: 达产复核 due with commitments (one met, one not), one without, one not yet due.
    row(producing[0], producing[0], approval_date=d(years=6), supply_date=d(years=5, months=6), agreed_start_date=d(years=5), actual_start_date=d(years=5, months=1), agreed_completion_date=d(years=3, months=6), actual_completion_date=d(years=3, months=8), agreed_production_date=d(years=2), actual_production_date=d(years=2, months=1), price_wan=2100.0, grantee="示例企业戊（合成）", committed_tax_per_mu=0.5, committed_floor_area_ratio=0.3)
    row(producing[1], producing[1], approval_date=d(years=6), supply_date=d(years=5), agreed_start_date=d(years=4, months=6), actual_start_date=d(years=4, months=7), agreed_completion_date=d(years=3), actual_completion_date=d(years=3, months=1), agreed_production_date=d(months=8), price_wan=1750.0, grantee="示例企业己（合成）", committed_tax_per_mu=500.0, committed_investment_intensity=300.0)
    row(producing[2], producing[2], approval_date=d(years=7), supply_date=d(years=6), agreed_start_date=d(years=5, months=6), actual_start_date=d(years=5, months=6), agreed_completion_date=d(years=4), actual_completion_date=d(years=4, months=2), agreed_production_date=d(years=3), price_wan=1320.0, grantee="示例企业庚（合成）")
    row(producing[3], producing[3], approval_date=d(years=3), supply_date=d(years=2, months=6), agreed_start_date=d(years=2), actual_start_date=d(years=2), agreed_completion_date=d(months=6), actual_completion_date=d(months=7), agreed_production_date=d(months=-6), price_wan=990.0, grantee="示例企业辛（合成）")
    # Land approved or supplied but not in use: schematic rectangles on free land in the parks.
    row("LS-PZ-01", 0, approval_date=d(months=10), approval_no="示例批复〔合成〕1号", supply_method=None, price_wan=None, term_years=None)
    row("LS-PZ-02", 1, approval_date=d(years=3, months=2), approval_no="示例批复〔合成〕2号", supply_method=None, price_wan=None, term_years=None)
    row("LS-GY-01", 2, approval_date=d(years=4), supply_date=d(years=3, months=6), agreed_start_date=d(years=3), actual_start_date=d(years=2, months=10), halted_since=d(years=1, months=2), developed_share=0.2, invested_share=0.4, agreed_completion_date=d(months=4), agreed_production_date=d(months=-8), price_wan=1100.0, grantee="示例企业壬（合成）")
    row("LS-GY-02", 3, approval_date=d(years=5), supply_date=d(years=4, months=6), agreed_start_date=d(years=4), actual_start_date=d(years=3, months=11), halted_since=d(years=2, months=1), developed_share=0.5, invested_share=0.1, agreed_completion_date=d(years=1), agreed_production_date=d(months=1), price_wan=1450.0, grantee="示例企业癸（合成）")
    row("LS-GY-03", 4, approval_date=d(years=3), supply_date=d(years=2, months=6), agreed_start_date=d(years=2), actual_start_date=d(years=2), halted_since=d(months=5), developed_share=0.2, invested_share=0.2, agreed_completion_date=d(months=-7), agreed_production_date=d(months=-19), price_wan=800.0, grantee="示例企业子（合成）")
    row("LS-GY-04", 5, approval_date=d(years=4), supply_date=d(years=3, months=6), agreed_start_date=d(years=3), actual_start_date=d(years=3), agreed_completion_date=d(months=3), agreed_production_date=d(months=-9), developed_share=0.7, invested_share=0.6, price_wan=1600.0, grantee="示例企业丑（合成）")

    taken = list(industrial.geometry.values) + list(reserve.geometry.values)
    boxes = _free_boxes(parks, taken, 6)
    by_id = dict(zip(industrial["id"].astype(str), industrial.geometry.values))
    geoms = [multi(boxes[r["_geom"]]) if isinstance(r["_geom"], int) else by_id[r["_geom"]] for r in rows]
    frame = pd.DataFrame([{k: v for k, v in r.items() if k != "_geom"} for r in rows])
    frame.insert(1, "geometry_source", "schematic")
    frame.insert(2, "data_source", DATA_SOURCE)
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=STORE_EPSG), crs=STORE_EPSG)
