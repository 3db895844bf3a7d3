"""低效用地 screen (SPEC §5.4): industrial parcels to recycle, each with area and reasons.

A parcel is listed when any rule of the policy's `[inefficient]` table fires:
- `classes`: an enterprise on it ended in one of these classes (after 调档), e.g. D (Zhejiang)
  or C (Henan 2019);
- `floor_area_ratio_below` / `building_coverage_below`: the parcel's 容积率 / 建筑系数 fields;
- `tax_per_mu_share_of_mean_below`: the parcel's tax per mu (each enterprise's tax apportioned
  by the land it uses on the parcel) under this share of the zone mean (Σ tax / Σ land of the
  evaluated enterprises);
- `idle`: the parcel's `idle` field (闲置土地, 部令第53号);
- `no_enterprise`: no enterprise is linked (供而未用 suspicion; off by default);
- `extra_failures`: 标准地 达产复核 failures (parcel_id, reason) fed in by §6.
The numeric thresholds are local and unverified (DOMAIN §0.6, §4): a rule listed in
`unverified` says so in the reason, and the row's `provisional` is true.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from gis import crs as gcrs
from parcels.efficiency.errors import InefficientInputError
from parcels.efficiency.land import parcel_area_mu
from parcels.efficiency.policy import Policy
from parcels.efficiency.text import join_by_key

M2_PER_MU = 10000 / 15
PROVISIONAL = "（阈值未核实）"


def _num(parcels: pd.DataFrame, col: str) -> np.ndarray:
    if col not in parcels.columns:
        return np.full(len(parcels), np.nan)
    return pd.to_numeric(parcels[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _bool(parcels: pd.DataFrame, col: str) -> np.ndarray:
    if col not in parcels.columns:
        return np.zeros(len(parcels), dtype=bool)
    s = parcels[col]
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.fillna(False).to_numpy(dtype=bool)
    from parcels.efficiency.columns import TRUE_WORDS

    return s.astype("str").str.strip().str.lower().isin(TRUE_WORDS).fillna(False).to_numpy(dtype=bool)


def parcel_areas(parcels: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(area_m2, area_mu): the layer's area_mu where filled, else the geometry's plane area in the survey CRS (gis.crs)."""
    mu = parcel_area_mu(parcels)
    return mu * M2_PER_MU, mu


def find_inefficient_land(
    parcels: gpd.GeoDataFrame,
    result=None,
    policy: Policy | None = None,
    extra_failures: pd.DataFrame | None = None,
) -> gpd.GeoDataFrame:
    """低效用地 with parcel_id, area_m2, area_mu, reason (Chinese, ";"-joined), rules,
    provisional, park, district, geometry; sorted by parcel_id. `result` (a ScoringResult) may be
    None: the class and tax rules are then skipped."""
    if policy is None:
        policy = result.policy if result is not None else None
    if policy is None:
        raise InefficientInputError("低效用地筛查需要评价政策（policy）以读取阈值。")
    rules = policy.inefficient
    if "id" not in parcels.columns:
        raise InefficientInputError("工业用地图层缺少 id（地块编号）字段。")
    n = len(parcels)
    pids = parcels["id"].astype("str").to_numpy(dtype=object)
    pos = pd.Series(np.arange(n), index=pd.Index(pids))
    pos = pos[~pos.index.duplicated()]
    area_m2, area_mu = parcel_areas(parcels)
    reasons = np.full(n, "", dtype=object)
    fired = np.full(n, "", dtype=object)
    provisional = np.zeros(n, dtype=bool)

    def add(mask: np.ndarray, msg, key: str) -> None:
        if not mask.any():
            return
        unv = key in rules.unverified
        m = msg[mask] if isinstance(msg, np.ndarray) else msg
        if unv:
            m = m + PROVISIONAL
            provisional[mask] = True
        cur = reasons[mask]
        reasons[mask] = np.where(cur == "", m, cur + ";" + m)
        fk = fired[mask]
        fired[mask] = np.where(fk == "", key, fk + ";" + key)

    if result is not None and len(result.links):
        d = result.details
        ent = pd.DataFrame({"enterprise_id": d["enterprise_id"].to_numpy(dtype=object),
                            "class": d["class"].to_numpy(dtype=object),
                            "land": d["land_area_mu"].to_numpy(dtype=float, na_value=np.nan),
                            "tax": d["tax"].to_numpy(dtype=float, na_value=np.nan) if "tax" in d.columns else np.nan})
        lk = result.links.merge(ent, on="enterprise_id", how="left")
        lk = lk[lk["parcel_id"].isin(pos.index)]
        lk["p"] = pos.reindex(lk["parcel_id"].to_numpy()).to_numpy()
        if rules.classes:
            bad = lk[lk["class"].isin(list(rules.classes))].sort_values(["p", "enterprise_id"])
            if len(bad):
                p_idx = bad["p"].to_numpy(dtype=np.int64)
                keys, txt = join_by_key(p_idx, bad["enterprise_id"].to_numpy(dtype=object), "、")
                _, cls = join_by_key(p_idx, bad["class"].to_numpy(dtype=object), "/")
                cls = np.array(["/".join(sorted(set(c.split("/")))) for c in cls], dtype=object)  # per parcel
                msg = np.full(n, "", dtype=object)
                msg[keys] = "企业 " + txt + " 亩均效益评价为" + cls + "类"
                mask = np.zeros(n, dtype=bool)
                mask[keys] = True
                add(mask, msg, "classes")
        thr = rules.tax_per_mu_share_of_mean_below
        if thr is not None:
            has = np.isfinite(ent["land"]) & (ent["land"] > 0) & np.isfinite(ent["tax"])
            zone_land = float(np.sort(ent.loc[has, "land"].to_numpy()).sum())
            zone_mean = float(np.sort(ent.loc[has, "tax"].to_numpy()).sum()) / zone_land if zone_land > 0 else np.nan
            ok = np.isfinite(lk["tax"]) & np.isfinite(lk["land"]) & (lk["land"] > 0)
            part = lk[ok]
            tax_on = part["tax"] * part["area_mu"] / part["land"]
            ptax = tax_on.groupby(part["p"].to_numpy()).sum()
            tpm = np.full(n, np.nan)
            idx = ptax.index.to_numpy(dtype=np.int64)
            with np.errstate(divide="ignore", invalid="ignore"):
                tpm[idx] = ptax.to_numpy() / area_mu[idx]
            if np.isfinite(zone_mean) and zone_mean > 0:
                limit = thr * zone_mean
                mask = np.isfinite(tpm) & (tpm < limit)
                msg = np.full(n, "", dtype=object)
                msg[mask] = [f"亩均税收 {v:.2f} 万元/亩，低于全区均值 {zone_mean:.2f} 的 {thr:.0%}" for v in tpm[mask]]
                add(mask, msg, "tax_per_mu_share_of_mean_below")
        if rules.no_enterprise:
            linked = np.zeros(n, dtype=bool)
            linked[lk["p"].to_numpy(dtype=np.int64)] = True
            add(~linked, "未关联任何企业（疑似供而未用）", "no_enterprise")
    elif result is not None and rules.no_enterprise:
        add(np.ones(n, dtype=bool), "未关联任何企业（疑似供而未用）", "no_enterprise")

    for col, key, label, fmt in (("floor_area_ratio", "floor_area_ratio_below", "容积率", "{:.2f}"),
                                 ("building_coverage", "building_coverage_below", "建筑系数", "{:.1f}%")):
        limit = getattr(rules, key)
        if limit is None:
            continue
        v = _num(parcels, col)
        mask = np.isfinite(v) & (v < limit)
        msg = np.full(n, "", dtype=object)
        lim_txt = fmt.format(limit)
        msg[mask] = [f"{label} {fmt.format(x)} 低于 {lim_txt}" for x in v[mask]]
        add(mask, msg, key)
    if rules.idle:
        add(_bool(parcels, "idle"), "闲置土地（宗地标记为闲置）", "idle")

    if extra_failures is not None and len(extra_failures):
        ef = extra_failures
        if "parcel_id" not in ef.columns or "reason" not in ef.columns:
            raise InefficientInputError("达产复核结果须有 parcel_id 与 reason 两列。")
        p = pos.reindex(ef["parcel_id"].astype("str").to_numpy())
        unknown = np.flatnonzero(p.isna().to_numpy())
        if unknown.size:
            raise InefficientInputError(
                "达产复核结果中有地块不在工业用地图层中。",
                [{"row": int(i) + 1, "field": "parcel_id", "message": f"地块 {ef['parcel_id'].iloc[i]} 不存在"} for i in unknown],
            )
        keys, joined = join_by_key(p.to_numpy(dtype=np.int64),
                                   ("标准地达产复核未达标：" + ef["reason"].astype("str")).to_numpy(dtype=object))
        mask = np.zeros(n, dtype=bool)
        mask[keys] = True
        msg = np.full(n, "", dtype=object)
        msg[keys] = joined
        add(mask, msg, "standard_land")

    hit = reasons != ""
    geom = parcels.geometry.to_numpy()[hit] if isinstance(parcels, gpd.GeoDataFrame) else np.full(hit.sum(), None)
    out = gpd.GeoDataFrame({
        "parcel_id": pd.array(pids[hit], dtype="str"),
        "area_m2": area_m2[hit],
        "area_mu": area_mu[hit],
        "reason": pd.array(reasons[hit], dtype="str"),
        "rules": pd.array(fired[hit], dtype="str"),
        "provisional": provisional[hit],
        "park": pd.array(parcels["park"].astype(object).to_numpy()[hit], dtype="str") if "park" in parcels.columns else pd.NA,
        "district": pd.array(parcels["district"].astype(object).to_numpy()[hit], dtype="str") if "district" in parcels.columns else pd.NA,
    }, geometry=gpd.GeoSeries(geom, crs=getattr(parcels, "crs", None) or f"EPSG:{gcrs.STORE_EPSG}"))
    return out.sort_values("parcel_id", kind="stable").reset_index(drop=True)
