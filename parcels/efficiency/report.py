"""Output frames of an evaluation run (SPEC §5.3): the CSV frame, XLSX sheets with Chinese
headers, per-park and per-district summaries.

The CSV frame has exactly the SPEC columns, so other programs can rely on them; everything else
(group, status, land provenance, 加减分, re-sort values) is in `details`. Empty cells are real
missing values (nullable dtypes), never NaN or inf in the written files.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from parcels import vocabulary
from parcels.efficiency.policy import GROUP_LABELS_ZH, GROUPS

if TYPE_CHECKING:  # pragma: no cover
    from parcels.efficiency.scoring import ScoringResult

STATUS_NAMES = ("scored", "unscorable", "not_evaluated")  # codes 0, 1, 2 of scoring.STATUS_*
STATUS_ZH = {"scored": "已评价", "unscorable": "不可评价", "not_evaluated": "不参与评价"}
UNLINKED = "（未关联）"
AGG_COLUMNS = ("tax", "revenue", "value_added", "output_value", "profit", "energy_tce", "rd_expense", "employees")


def _floating(arr: np.ndarray) -> pd.arrays.FloatingArray:
    """NaN (and, defensively, ±inf) → a real missing value; an empty cell in CSV/XLSX."""
    mask = ~np.isfinite(arr)
    if mask.any():
        arr = np.where(mask, 0.0, arr)
    return pd.arrays.FloatingArray(arr, mask)


def result_columns(keys: list[str]) -> list[str]:
    """The SPEC §5.3 CSV columns, in order."""
    return (["enterprise_id", "name", "above_scale", "land_area_mu"] + list(keys) + [f"score_{k}" for k in keys]
            + ["total_score", "rank", "initial_class", "class", "flags", "year", "consecutive_low", "measures"])


def _codes_to_str(codes: np.ndarray, names: list[str]) -> pd.arrays.ArrowStringArray:
    """Class codes (-1 = none) as a text column, through an Arrow dictionary (no per-row work)."""
    import pyarrow as pa

    arr = pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32), mask=codes < 0), pa.array(names, pa.string()))
    return pd.array(arr.cast(pa.string()), dtype="str")


def results_frame(t, group, area, keys, value_cols, score_cols, total, rank, initial, final, names,
                  flags) -> pd.DataFrame:
    """The SPEC §5.3 frame, rows in the table's canonical (enterprise_id) order."""
    n = len(t)
    data: dict[str, object] = {}
    data["enterprise_id"] = t["enterprise_id"]
    data["name"] = t["name"] if "name" in t.columns else pd.Series(pd.array([pd.NA] * n, dtype="str"), dtype="str")
    data["above_scale"] = pd.arrays.BooleanArray(group == 0, group < 0)
    data["land_area_mu"] = _floating(area)
    for k in keys:
        data[k] = _floating(value_cols[k])
    for k in keys:
        data[f"score_{k}"] = _floating(score_cols[k])
    data["total_score"] = _floating(total)
    data["rank"] = pd.arrays.IntegerArray(np.where(rank < 0, 0, rank), rank < 0)
    data["initial_class"] = _codes_to_str(initial, names)
    data["class"] = _codes_to_str(final, names)
    data["flags"] = flags
    return pd.DataFrame(data, index=pd.RangeIndex(n), copy=False)


def reading_order(res: ScoringResult) -> np.ndarray:
    """Positions ordered for people: 规上 then 规下, by rank, then enterprise_id; rows without a
    score last (by enterprise_id). Stable sort on the id-ordered frame keeps ids ascending."""
    r = res.results
    g = res._extra["group"]
    scored = r["rank"].notna().to_numpy()
    rank = r["rank"].to_numpy(dtype=float, na_value=np.inf)
    return np.lexsort((rank, np.where(scored, g, 9)))


def csv_frame(res: ScoringResult) -> pd.DataFrame:
    """The SPEC §5.3 CSV columns, ordered by class of enterprise and rank."""
    return res.results.take(reading_order(res)).reset_index(drop=True)


def details_frame(res: ScoringResult) -> pd.DataFrame:
    x = res._extra
    t = x["table"]
    order = np.arange(len(t))
    d = res.results.copy()
    d.insert(2, "group", pd.array(np.asarray(["", *GROUPS], dtype=object)[x["group"][order] + 1], dtype="str"))
    d.insert(3, "status", pd.array(np.asarray(STATUS_NAMES, dtype=object)[x["status"][order]], dtype="str"))
    land = x["land"]
    for col, arr in (("park", land.park), ("district", land.district)):
        d[col] = pd.array(arr[order], dtype="str") if arr is not None else pd.array([pd.NA] * len(d), dtype="str")
    from parcels.efficiency.land import LAND_SOURCES

    d["land_source"] = pd.array(np.asarray(LAND_SOURCES, dtype=object)[land.source[order]], dtype="str")
    links = res.links
    if len(links):
        from parcels.efficiency.text import join_by_key

        k, joined = join_by_key(links["enterprise_id"].to_numpy(dtype=object).astype(str),
                                links["parcel_id"].to_numpy(dtype=object))
        s = pd.Series(joined, index=pd.Index(k))
        d["parcel_ids"] = pd.array(s.reindex(d["enterprise_id"].to_numpy()).to_numpy(dtype=object), dtype="str")
    else:
        d["parcel_ids"] = pd.array([pd.NA] * len(d), dtype="str")
    d["bonus_points"] = x["bonus"][order]
    for k, arr in x["resort"].items():
        d[k] = _floating(arr[order])
    for c in AGG_COLUMNS + ("industry_code", "year"):
        if c in t.columns:
            d[c] = t[c].take(order).reset_index(drop=True)
    applied = res.adjustments_applied
    if len(applied):
        d["adjust_reason"] = pd.array(
            applied.set_index("enterprise_id")["reason"].reindex(d["enterprise_id"].to_numpy()).to_numpy(dtype=object), dtype="str")
    else:
        d["adjust_reason"] = pd.array([pd.NA] * len(d), dtype="str")
    return d


def _class_names(res: ScoringResult) -> list[str]:
    names: list[str] = []
    for g in GROUPS:
        if g in res.policy.groups:
            for c in res.policy.groups[g].class_names:
                if c not in names:
                    names.append(c)
    return names


def class_counts(res: ScoringResult, by: str = "park") -> pd.DataFrame:
    """Enterprises per class (after 调档) for each value of `by` (park, district, group, …)."""
    d = res.details
    if by not in d.columns:
        raise ValueError(f"无法按“{by}”汇总：可用 park（园区）、district（辖区）、group（企业类别）")
    key = d[by].astype(object).where(d[by].notna(), UNLINKED)
    ct = pd.crosstab(key, d["class"].astype(object))
    names = _class_names(res)
    ct = ct.reindex(columns=names, fill_value=0).astype(np.int64)
    ct.index.name = by
    ct.columns.name = None
    return ct.sort_index()


def summary(res: ScoringResult, by: str = "park") -> pd.DataFrame:
    """Per park/district: enterprises, land, economic totals, aggregate 亩均 figures (Σ / Σ land
    over enterprises with land) and class counts."""
    d = res.details
    if by not in d.columns:
        raise ValueError(f"无法按“{by}”汇总：可用 park（园区）、district（辖区）、group（企业类别）")
    key = d[by].astype(object).where(d[by].notna(), UNLINKED)
    land = d["land_area_mu"].to_numpy(dtype=float, na_value=np.nan)
    has_land = np.isfinite(land) & (land > 0)
    f = pd.DataFrame({"key": key.to_numpy(), "land": np.where(has_land, land, 0.0),
                      "scored": (d["status"] == "scored").to_numpy(), "one": 1})
    for c in AGG_COLUMNS:
        if c in d.columns:
            v = d[c].to_numpy(dtype=float, na_value=np.nan)
            f[c] = np.nan_to_num(v)
            f[c + "_on_land"] = np.where(has_land, np.nan_to_num(v), 0.0)
    g = f.groupby("key", sort=True)
    out = pd.DataFrame({"enterprises": g["one"].sum(), "scored": g["scored"].sum(), "land_area_mu": g["land"].sum()})
    parcels = res._extra.get("parcels")
    if parcels is not None and by in getattr(parcels, "columns", []) and len(parcels):
        from parcels.efficiency.land import parcel_area_mu

        pa = pd.Series(parcel_area_mu(parcels), index=parcels[by].astype(object).where(parcels[by].notna(), UNLINKED).to_numpy())
        out["parcel_land_mu"] = pa.groupby(level=0).sum().reindex(out.index)
    for c in AGG_COLUMNS:
        if c in f.columns:
            out[c] = g[c].sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        for num, name in (("tax", "tax_per_mu"), ("value_added", "va_per_mu"), ("revenue", "revenue_per_mu")):
            if num in f.columns:
                s = g[num + "_on_land"].sum()
                out[name] = (s / out["land_area_mu"]).where(out["land_area_mu"] > 0)
        if "value_added" in f.columns and "energy_tce" in f.columns:
            out["va_per_energy"] = (out["value_added"] / out["energy_tce"]).where(out["energy_tce"] > 0)
    cc = class_counts(res, by)
    cc.columns = [f"class_{c}" for c in cc.columns]
    out = out.join(cc, how="left").fillna({c: 0 for c in cc.columns})
    out.index.name = by
    return out.reset_index()


# --- XLSX --------------------------------------------------------------------------------------

SUMMARY_RATIOS = ("tax_per_mu", "va_per_mu", "revenue_per_mu", "va_per_energy")
"""The aggregate 亩均 figures `summary` computes (Σ numerator / Σ land or energy of a park)."""


def summary_labels_zh() -> dict[str, str]:
    """Headers of a per-park/per-district summary. Totals and ratios are the vocabulary's terms;
    the land columns say whose land is summed (the enterprises' 用地面积, or the parcels')."""
    land = vocabulary.label_with_unit("land_area_mu")
    labels = {
        "park": "园区", "district": vocabulary.label("district"), "group": "企业类别", "enterprises": "企业数",
        "scored": "参评企业数", "land_area_mu": f"企业{land}", "parcel_land_mu": f"工业{land}",
    }
    for key in AGG_COLUMNS + SUMMARY_RATIOS:
        labels[key] = vocabulary.label_with_unit(key)
    return labels


def result_labels_zh(keys: list[str]) -> dict[str, str]:
    """Headers of the 评价结果 sheet: every field and indicator as the vocabulary names it."""
    labels = {k: vocabulary.label_with_unit(k) for k in ("enterprise_id", "name", "above_scale", "land_area_mu",
                                                         "total_score", "rank", "initial_class", "class")}
    labels["flags"] = "说明"
    labels.update({k: vocabulary.label_with_unit(k) for k in FOLLOWUP_KEYS})
    for k in keys:
        labels[k] = vocabulary.label_with_unit(k)
        labels[f"score_{k}"] = f"{vocabulary.label(k)}得分"
    return labels


FOLLOWUP_KEYS = ("year", "consecutive_low", "measures")
PRESENTATION_DECIMALS = 2


def rounded(df: pd.DataFrame) -> pd.DataFrame:
    """Numbers as officials read them (SPEC §5.5): 2 decimals (percentages are already × 100);
    JSON and CSV keep full precision for other programs."""
    out = df.copy()
    for c in out.columns:
        if pd.api.types.is_float_dtype(out[c].dtype):
            out[c] = out[c].round(PRESENTATION_DECIMALS)
    return out


def measures_sheet(policy) -> pd.DataFrame:
    """The policy's 差别化措施 with their years, source and status (the XLSX sheet 差别化措施)."""
    rows = [{"等级": m.cls, "企业类别": GROUP_LABELS_ZH.get(m.group, "全部"), "措施": m.name,
             "连续年数": f"{m.min_years}" + ("" if m.max_years == m.min_years else (f"–{m.max_years}" if m.max_years else " 及以上")),
             "标准": m.value, "单位": m.unit, "来源": m.source, "核实状态": m.status} for m in policy.measures]
    cols = ["等级", "企业类别", "措施", "连续年数", "标准", "单位", "来源", "核实状态"]
    if not rows:
        return pd.DataFrame([{"等级": "", "措施": "本评价政策未规定差别化措施（[[measures]]）"}], columns=cols)
    return pd.DataFrame(rows, columns=cols)


PUBLIC_COLUMNS = ("year", "class", "name", "enterprise_id")
"""What a 公示名单 may show (SPEC §5.5): no indicator, score, rank or economic figure."""


def public_frame(results: pd.DataFrame) -> pd.DataFrame:
    """The 公示名单 of evaluated enterprises: year, class, name, 统一社会信用代码, by class then id.
    Built by choosing columns, never by dropping them, so a new economic column cannot slip in."""
    r = results[results["class"].notna()]
    cols = [c for c in PUBLIC_COLUMNS if c in r.columns]
    out = r[cols].sort_values([c for c in ("year", "class", "enterprise_id") if c in cols], kind="stable")
    labels = {"year": "评价年度", "class": "评价等级", "name": "企业名称", "enterprise_id": "统一社会信用代码"}
    return out.rename(columns=labels).reset_index(drop=True)


def public_html(results: pd.DataFrame, policy_name: str) -> str:
    """The 公示名单 as a self-contained Chinese HTML page (no script, no external resource)."""
    from html import escape

    f = public_frame(results)
    head = "".join(f"<th>{escape(str(c))}</th>" for c in f.columns)
    body = "".join("<tr>" + "".join(f"<td>{escape('' if pd.isna(v) else str(v))}</td>" for v in row) + "</tr>"
                   for row in f.itertuples(index=False))
    years = sorted({int(y) for y in f["评价年度"].dropna()}) if "评价年度" in f.columns else []
    title = f"{'、'.join(map(str, years)) + ' 年度' if years else ''}企业亩均效益综合评价结果公示名单"
    return (f"<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{escape(title)}</title>"
            "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #999;"
            "padding:4px 8px}</style></head><body>"
            f"<h1>{escape(title)}</h1><p>评价办法：{escape(policy_name)}。共 {len(f)} 家企业。</p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></body></html>")


def _yes_no(s: pd.Series) -> pd.Series:
    return s.astype(object).map({True: "是", False: "否"}).astype("str")


def _summary_zh(df: pd.DataFrame) -> pd.DataFrame:
    ren = summary_labels_zh()
    for c in df.columns:
        if c.startswith("class_"):
            ren[c] = f"{c[6:]}类企业数"
    return df.rename(columns=ren)


def xlsx_frames(res: ScoringResult) -> dict[str, pd.DataFrame]:
    """Sheet name → frame with Chinese headers: 评价结果, 汇总, 基准值, 按园区, 按辖区, 不参与评价,
    调档记录 (when any), 评价说明 (policy, source, assumptions, warnings)."""
    keys = res.policy.indicator_keys
    r = rounded(csv_frame(res))
    r["above_scale"] = _yes_no(r["above_scale"])
    sheets: dict[str, pd.DataFrame] = {"评价结果": r.rename(columns=result_labels_zh(keys))}

    d = res.details
    rows = []
    names = _class_names(res)
    v = vocabulary.label_with_unit
    for g in GROUPS:
        m = (d["group"] == g).to_numpy()
        if not m.any():
            continue
        sub = d[m]
        land = sub["land_area_mu"].to_numpy(dtype=float, na_value=np.nan)
        has = np.isfinite(land) & (land > 0)
        row = {"企业类别": GROUP_LABELS_ZH[g], "企业数": int(m.sum()),
               "参评企业数": int((sub["status"] == "scored").sum()),
               "不可评价": int((sub["status"] == "unscorable").sum()),
               "不参与评价": int((sub["status"] == "not_evaluated").sum()),
               v("land_area_mu"): float(land[has].sum())}
        if "tax" in sub.columns:
            tax = np.nan_to_num(sub["tax"].to_numpy(dtype=float, na_value=np.nan))
            row[v("tax")] = float(tax.sum())
            row[v("tax_per_mu")] = float(tax[has].sum() / land[has].sum()) if has.any() else None
        for c in names:
            row[f"{c}类"] = int((sub["class"] == c).sum())
        rows.append(row)
    cols = ["企业类别", "企业数", "参评企业数", "不可评价", "不参与评价", v("land_area_mu")]
    sheets["汇总"] = rounded(pd.DataFrame(rows)) if rows else pd.DataFrame(columns=cols + [f"{c}类" for c in names])
    b = res.benchmarks
    if len(b):
        sheets["基准值"] = pd.DataFrame({
            "企业类别": b["group"].map(GROUP_LABELS_ZH), "指标": b["label_zh"], "单位": b["unit"],
            "基准方法": b["method"].map({"mean": "均值(Σ分子/Σ分母)", "median": "中位数", "number": "给定数值"}),
            "基准值": b["benchmark"].round(PRESENTATION_DECIMALS + 2), "权重": b["weight"], "封顶倍数": b["cap"], "下限倍数": b["floor"],
            "参评数": b["n_scored"], "分母为0数": b["n_zero_denominator"], "缺数据数": b["n_missing"],
            "核实状态": b["status"],
        })
    for by, title in (("park", "按园区"), ("district", "按辖区")):
        sheets[title] = rounded(_summary_zh(summary(res, by)))
    ns = d[d["status"] != "scored"]
    sheets["不参与评价"] = pd.DataFrame({
        v("enterprise_id"): ns["enterprise_id"].to_numpy(), v("name"): ns["name"].to_numpy(),
        v("above_scale"): _yes_no(ns["above_scale"]).to_numpy(), v("land_area_mu"): ns["land_area_mu"].to_numpy(),
        "状态": ns["status"].map(STATUS_ZH).to_numpy(), "原因": ns["flags"].to_numpy(),
    })
    applied = res.adjustments_applied
    if len(applied):
        sheets["调档记录"] = pd.DataFrame({v("enterprise_id"): applied["enterprise_id"],
                                       v("initial_class"): applied["initial_class"], v("class"): applied["class"],
                                       "理由": applied["reason"]})
    info = [("评价政策", res.policy.name), ("政策来源", res.policy.source), ("政策文件", res.policy.path or res.policy.id)]
    info += [("假设/未核实", a) for a in res.policy.assumptions]
    info += [("提示", w) for w in res.warnings]
    sheets["评价说明"] = pd.DataFrame(info, columns=["项目", "内容"])
    sheets["差别化措施"] = measures_sheet(res.policy)
    return sheets
