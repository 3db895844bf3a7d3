"""低效用地 screen (SPEC §5.4): industrial parcels to recycle, each with area and reasons.

A parcel is listed when any rule of the policy's `[inefficient]` table fires:
- `classes`: an enterprise on it was in the lowest class of its class of enterprise (after 调档;
  D in Zhejiang, C in Henan 2019, named here) `consecutive_years` (default 2) evaluated years in a
  row, its `consecutive_low`: one bad year is not enough (SPEC §5.4);
- `floor_area_ratio_below` / `building_coverage_below`: the parcel's 容积率 / 建筑系数 fields;
- `tax_per_mu_share_of_mean_below`: an enterprise on it pays tax per mu under this share of the
  benchmark of its own class of enterprise (规上 with 规上, 规下 with 规下: Σ tax / Σ land of the
  scored rows of that class), in the screened (newest) year; enterprises outside the evaluation
  (unscorable, or under `min_land_mu`) are not judged on economic grounds;
- economic rules never list a parcel that an enterprise of the top two classes uses (SPEC §5.4);
- `idle`: the parcel's `idle` field (闲置土地, 部令第53号), and the `idle` list fed in from the
  supply ledger;
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


def _enterprise_frame(d: pd.DataFrame, policy: Policy) -> pd.DataFrame:
    """Per enterprise of the screened year: its class, whether that is its class of enterprise's
    lowest or one of its top two, consecutive years low, and its 亩均税收 against the benchmark of
    its own class of enterprise (规上 with 规上, 规下 with 规下: Σ tax / Σ land of the scored rows)."""
    from parcels.efficiency.followups import lowest_classes
    from parcels.efficiency.policy import GROUP_LABELS_ZH

    group = d["group"].astype(object).fillna("").to_numpy()
    cls = d["class"].astype(object).where(d["class"].notna(), None).to_numpy()
    low = lowest_classes(policy)
    top = {g: gp.class_names[:2] for g, gp in policy.groups.items()}
    land = d["land_area_mu"].to_numpy(dtype=float, na_value=np.nan)
    tax = d["tax"].to_numpy(dtype=float, na_value=np.nan) if "tax" in d.columns else np.full(len(d), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        tpm = np.where(np.isfinite(land) & (land > 0), tax / land, np.nan)
    scored = (d["status"] == "scored").to_numpy() & np.isfinite(tpm)
    bench = np.full(len(d), np.nan)
    for g in set(group) - {""}:
        m = scored & (group == g)
        if m.any():
            bench[group == g] = float(np.sort(tax[m]).sum()) / float(np.sort(land[m]).sum())
    cl = d["consecutive_low"].to_numpy(dtype=float, na_value=0) if "consecutive_low" in d.columns else np.zeros(len(d))
    return pd.DataFrame({
        "enterprise_id": d["enterprise_id"].to_numpy(dtype=object), "class": cls,
        "lowest": [c is not None and c == low.get(g) for c, g in zip(cls, group)],
        "top": [c is not None and c in top.get(g, []) for c, g in zip(cls, group)],
        "consecutive_low": cl.astype(np.int64),
        "year": d["year"].astype(object).where(d["year"].notna(), "—").to_numpy() if "year" in d.columns else "—",
        # only evaluated enterprises are judged on economic grounds (a 规下 firm under 5 亩 is outside the scheme)
        "tpm": np.where(scored, tpm, np.nan), "bench": bench, "group_zh": [GROUP_LABELS_ZH.get(g, "") for g in group],
    })


def _add_listed(frame: pd.DataFrame, prefix: str, key: str, pos: pd.Series, n: int, add, what: str) -> None:
    """A fed-in list of parcels (parcel_id, reason): every id must be an industrial parcel."""
    if "parcel_id" not in frame.columns or "reason" not in frame.columns:
        raise InefficientInputError(f"{what}须有 parcel_id 与 reason 两列。")
    p = pos.reindex(frame["parcel_id"].astype("str").to_numpy())
    unknown = np.flatnonzero(p.isna().to_numpy())
    if unknown.size:
        raise InefficientInputError(
            f"{what}中有地块不在工业用地图层中。",
            [{"row": int(i) + 1, "field": "parcel_id", "message": f"地块 {frame['parcel_id'].iloc[i]} 不存在"} for i in unknown],
        )
    keys, joined = join_by_key(p.to_numpy(dtype=np.int64), (prefix + "：" + frame["reason"].astype("str")).to_numpy(dtype=object))
    mask = np.zeros(n, dtype=bool)
    mask[keys] = True
    msg = np.full(n, "", dtype=object)
    msg[keys] = joined
    add(mask, msg, key)


def parcel_areas(parcels: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(area_m2, area_mu): the layer's area_mu where filled, else the geometry's plane area in the survey CRS (gis.crs)."""
    mu = parcel_area_mu(parcels)
    return mu * M2_PER_MU, mu


def find_inefficient_land(
    parcels: gpd.GeoDataFrame,
    result=None,
    policy: Policy | None = None,
    extra_failures: pd.DataFrame | None = None,
    idle: pd.DataFrame | None = None,
) -> gpd.GeoDataFrame:
    """低效用地 with parcel_id, area_m2, area_mu, reason (Chinese, ";"-joined), rules,
    provisional, park, district, geometry; sorted by parcel_id. `result` (a ScoringResult, or a
    YearlyResult whose newest year is screened) may be None: the economic rules are then skipped.
    `extra_failures` (parcel_id, reason): 达产复核 failures; `idle` (parcel_id, reason): idle land
    from the supply ledger (闲置, 部令第53号), besides the parcel's own `idle` field."""
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

    latest = getattr(result, "latest", result)  # a YearlyResult reads its newest year
    if latest is not None and len(latest.links):
        d = latest.details
        ent = _enterprise_frame(d, policy)
        lk = latest.links.merge(ent, on="enterprise_id", how="left")
        lk = lk[lk["parcel_id"].isin(pos.index)]
        lk["p"] = pos.reindex(lk["parcel_id"].to_numpy()).to_numpy()
        # SPEC §5.4: a parcel with an enterprise in the top two classes is never listed on
        # economic grounds (its land is used well by at least that firm).
        shielded = np.zeros(n, dtype=bool)
        shielded[lk.loc[lk["top"], "p"].to_numpy(dtype=np.int64)] = True
        lk = lk[~shielded[lk["p"].to_numpy(dtype=np.int64)]]
        src = f"来源：{policy.name}［inefficient］；SPEC §5.4"
        if rules.classes:  # the lowest class (named in `classes`), `consecutive_years` in a row
            k = rules.consecutive_years
            bad = lk[lk["lowest"] & lk["class"].isin(list(rules.classes)) & (lk["consecutive_low"] >= k)]
            bad = bad.sort_values(["p", "enterprise_id"])
            if len(bad):
                p_idx = bad["p"].to_numpy(dtype=np.int64)
                texts = ("企业 " + bad["enterprise_id"].astype(str) + " 连续 " + bad["consecutive_low"].astype(int).astype(str)
                         + " 年（至 " + bad["year"].astype(str) + " 年度）评为本类末档 " + bad["class"].astype(str) + " 类").to_numpy(dtype=object)
                keys, txt = join_by_key(p_idx, texts, "、")
                msg = np.full(n, "", dtype=object)
                msg[keys] = txt + f"（规则：连续 {k} 年末档；{src}）"
                mask = np.zeros(n, dtype=bool)
                mask[keys] = True
                add(mask, msg, "classes")
        thr = rules.tax_per_mu_share_of_mean_below
        if thr is not None:
            low = lk[np.isfinite(lk["tpm"]) & np.isfinite(lk["bench"]) & (lk["bench"] > 0) & (lk["tpm"] < thr * lk["bench"])]
            low = low.sort_values(["p", "enterprise_id"])
            if len(low):
                texts = np.asarray([f"企业 {e} 亩均税收 {v:.2f} 万元/亩，低于{g}基准 {b:.2f} 的 {thr:.0%}"
                                    for e, v, g, b in zip(low["enterprise_id"], low["tpm"], low["group_zh"], low["bench"])], dtype=object)
                keys, txt = join_by_key(low["p"].to_numpy(dtype=np.int64), texts, "、")
                msg = np.full(n, "", dtype=object)
                msg[keys] = txt + f"（规则：亩均税收低于同类企业基准的 {thr:.0%}；{src}）"
                mask = np.zeros(n, dtype=bool)
                mask[keys] = True
                add(mask, msg, "tax_per_mu_share_of_mean_below")
        if rules.no_enterprise:
            linked = np.zeros(n, dtype=bool)
            linked[pos.reindex(latest.links["parcel_id"].to_numpy()).dropna().to_numpy(dtype=np.int64)] = True
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
    if idle is not None and len(idle):
        _add_listed(idle, "闲置土地", "idle", pos, n, add, "闲置土地清单")

    if extra_failures is not None and len(extra_failures):
        _add_listed(extra_failures, "标准地达产复核未达标", "standard_land", pos, n, add, "达产复核结果")

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
