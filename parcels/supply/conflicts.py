"""Land given twice (SPEC §4.2 conflict checks): a reserve or ledger parcel on land already supplied to another.

Already supplied land is every `industrial_parcels` feature (land in use) and every ledger row
supplied by the day asked. A reserve parcel or a ledger row that overlaps such land by more than
1 m² (the tolerance of every overlap rule, parcels/workflow.py) is reported with the overlapped
area (ellipsoidal m² and 亩), its share of the subject's own area and the parcels it overlaps.
The same land is not a conflict: a ledger row whose `id` is the industrial parcel's id or whose
`reserve_parcel_id` is the reserve parcel. Reported, not refused: no rule found in DOMAIN.md or
SPEC makes an overlap a refusal on import (the bureau resolves it: 收回、调整、重新测绘).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import shapely

from gis.crs import m2_to_mu
from gis.crs import plane_area_m2 as area_m2  # overlaps in registered (plane) m², like the parcels' area_m2
from parcels.schema import DELETED_STATUS
from parcels.workflow import MAX_OVERLAP_M2

LAYER_TITLES = {"reserve_parcels": "储备地块", "land_supply": "供地台账宗地", "industrial_parcels": "已供工业用地"}


def _subjects(reserve, ledger) -> pd.DataFrame:
    rows = []
    if reserve is not None and len(reserve):
        live = reserve["status"].astype(object) != DELETED_STATUS if "status" in reserve.columns else pd.Series(True, index=reserve.index)
        r = reserve[live.to_numpy()]
        rows.append(pd.DataFrame({"layer": "reserve_parcels", "id": r["id"].astype(str).to_numpy(), "link": r["id"].astype(str).to_numpy(), "geometry": np.asarray(r.geometry.values, dtype=object)}))
    if ledger is not None and len(ledger):
        link = ledger["reserve_parcel_id"].astype(object).where(ledger["reserve_parcel_id"].notna(), "") if "reserve_parcel_id" in ledger.columns else pd.Series("", index=ledger.index)
        rows.append(pd.DataFrame({"layer": "land_supply", "id": ledger["id"].astype(str).to_numpy(), "link": link.astype(str).to_numpy(), "geometry": np.asarray(ledger.geometry.values, dtype=object)}))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=["layer", "id", "link", "geometry"])


def _supplied(ledger, industrial, as_of: dt.date) -> pd.DataFrame:
    rows = []
    if industrial is not None and len(industrial):
        rows.append(pd.DataFrame({"layer": "industrial_parcels", "id": industrial["id"].astype(str).to_numpy(), "link": "", "geometry": np.asarray(industrial.geometry.values, dtype=object)}))
    if ledger is not None and len(ledger) and "supply_date" in ledger.columns:
        supplied = (pd.to_datetime(ledger["supply_date"], errors="coerce") <= pd.Timestamp(as_of)).to_numpy()
        if industrial is not None and len(industrial):  # a ledger row of an industrial parcel is that parcel's land, listed once
            supplied = supplied & ~ledger["id"].astype(str).isin(set(industrial["id"].astype(str))).to_numpy()
        s = ledger[supplied]
        link = s["reserve_parcel_id"].astype(object).where(s["reserve_parcel_id"].notna(), "") if "reserve_parcel_id" in s.columns else pd.Series("", index=s.index)
        rows.append(pd.DataFrame({"layer": "land_supply", "id": s["id"].astype(str).to_numpy(), "link": link.astype(str).to_numpy(), "geometry": np.asarray(s.geometry.values, dtype=object)}))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=["layer", "id", "link", "geometry"])


def supply_conflicts(*, reserve=None, ledger=None, industrial=None, as_of: dt.date | None = None) -> list[dict]:
    """One item per subject overlapping supplied land: `id`, `layer`, `layer_zh`, `overlap_m2`,
    `overlap_mu`, `share` (of the subject's area), `others` [{`layer`, `id`, `overlap_m2`}], `note`."""
    as_of = as_of or dt.date.today()
    subj = _subjects(reserve, ledger)
    other = _supplied(ledger, industrial, as_of)
    if subj.empty or other.empty:
        return []
    sg = np.asarray(subj["geometry"].to_numpy(), dtype=object)
    og = np.asarray(other["geometry"].to_numpy(), dtype=object)
    ok_s = np.array([g is not None and not shapely.is_empty(g) for g in sg], dtype=bool)
    ok_o = np.array([g is not None and not shapely.is_empty(g) for g in og], dtype=bool)
    tree = shapely.STRtree(np.where(ok_o, og, None))
    left, right = tree.query(np.where(ok_s, sg, None), predicate="intersects")
    if left.size == 0:
        return []
    s_layer, s_id, s_link = subj["layer"].to_numpy(), subj["id"].to_numpy(), subj["link"].to_numpy()
    o_layer, o_id, o_link = other["layer"].to_numpy(), other["id"].to_numpy(), other["link"].to_numpy()
    same = (s_layer[left] == o_layer[right]) & (s_id[left] == o_id[right])  # a row with itself
    same |= (s_layer[left] == "reserve_parcels") & (o_layer[right] == "land_supply") & (o_link[right] == s_id[left])  # the reserve parcel's own supply
    same |= (s_layer[left] == "land_supply") & (o_layer[right] == "industrial_parcels") & (s_id[left] == o_id[right])  # the ledger row of an industrial parcel
    same |= (s_layer[left] == "land_supply") & (o_layer[right] == "land_supply") & (s_link[left] != "") & (s_link[left] == o_link[right])
    left, right = left[~same], right[~same]
    if left.size == 0:
        return []
    pieces = shapely.intersection(sg[left], og[right])
    areas = area_m2(pieces)
    keep = areas > MAX_OVERLAP_M2
    left, right, pieces, areas = left[keep], right[keep], pieces[keep], areas[keep]
    out: list[dict] = []
    own = area_m2(sg)
    for s in np.unique(left):
        sel = left == s
        union = shapely.union_all(pieces[sel])
        m2 = float(area_m2(np.array([union], dtype=object))[0])
        others = [{"layer": str(o_layer[r]), "id": str(o_id[r]), "overlap_m2": round(float(a), 2)} for r, a in zip(right[sel], areas[sel])]
        others.sort(key=lambda o: -o["overlap_m2"])
        names = "、".join(f"{LAYER_TITLES[o['layer']]} {o['id']}" for o in others[:5]) + ("等" if len(others) > 5 else "")
        mu = float(m2_to_mu(m2))
        share = m2 / own[s] if own[s] > 0 else None
        out.append({
            "id": str(s_id[s]), "layer": str(s_layer[s]), "layer_zh": LAYER_TITLES[str(s_layer[s])],
            "overlap_m2": round(m2, 2), "overlap_mu": round(mu, 4), "share": None if share is None else round(share, 4),
            "others": others,
            "note": f"{LAYER_TITLES[str(s_layer[s])]} {s_id[s]} 与已供应土地重叠 {mu:.1f} 亩（占本宗 {100 * share:.0f}%）：{names}；请核实是否重复供地或界线有误",
        })
    out.sort(key=lambda c: (c["layer"], c["id"]))
    return out
