"""The supervision report of the land supply ledger as of a day (SPEC §4.2: 批供用补查).

Pure: a ledger frame (the `land_supply` layer) and a date in, the JSON-ready report out. Each
row lands in at most one list, decided in this order, each by its rule in
parcels/rules/supply/land_supply.toml:
1. 批而未供 `approved_not_supplied`: approved on or before `as_of`, not supplied by then;
2. 闲置 `idle`: not started one year past the agreed start, or started, under 1/3 developed or
   under 25 % invested and halted one year (部令第53号 第二条), with its stage (协商 / 无偿收回 /
   土地闲置费 20 %, 第八条、第十二条、第十四条);
3. 供而未用 `supplied_not_started`: past the agreed start by less than a year, not started;
4. `completion_overdue`: started, not completed, past the agreed completion date;
5. `production_review_due`: completed and past the agreed production date (达产复核, SPEC §6).
Rows that cannot be decided for want of a date (supplied, not started, no agreed start; or
started with no supply date, which may be 未供先用) are listed under `incomplete`, never
silently left out. Years are calendar years
(`add_years`: 2023-03-01 → 2024-03-01, 2024-02-29 → 2025-02-28).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from gis.crs import m2_to_mu
from parcels.supply.ledger import date_frame
from parcels.supply.rules import SupplyRules, load_supply_rules

LISTS = ("approved_not_supplied", "supplied_not_started", "idle", "completion_overdue", "production_review_due")
LIST_TITLES = {
    "approved_not_supplied": "批而未供",
    "supplied_not_started": "供而未用",
    "idle": "闲置土地",
    "completion_overdue": "逾期未竣工",
    "production_review_due": "达产复核到期",
    "incomplete": "资料不全无法判定",
    "conflicts": "用地冲突",
}
STAGE_TITLES = {"fee": "征缴土地闲置费（价款20%）", "reclaim": "无偿收回", "negotiate": "协商处置"}
KIND_TITLES = {"not_started": "未动工满一年", "halted": "已动工但中止开发满一年"}
DESCRIBING = ("reserve_parcel_id", "land_use", "supply_method", "grantee", "contract_no", "approval_no", "geometry_source")


def add_years(dates: pd.Series, years: int) -> pd.Series:
    """Calendar-year arithmetic, vectorised: the same month and day `years` later; 02-29 → 02-28.

    pandas' DateOffset(years=…) keeps month and day and clamps to the month's last day, which is
    the 民法典 第二百零二条 reading of a year counted from 29 February."""
    return pd.to_datetime(dates) + pd.DateOffset(years=years)


def _days(later: pd.Timestamp, earlier: pd.Series) -> pd.Series:
    return (later - earlier).dt.days


def _num(frame: pd.DataFrame, col: str) -> pd.Series:
    if col not in frame.columns:
        return pd.Series(np.nan, index=frame.index, dtype=float)
    return pd.to_numeric(frame[col], errors="coerce").astype(float)


def _text(frame: pd.DataFrame, col: str) -> pd.Series:
    if col not in frame.columns:
        return pd.Series([None] * len(frame), index=frame.index, dtype=object)
    s = frame[col].astype(object)
    return s.where(s.notna(), None)


def _iso(s: pd.Series) -> list:
    text = s.dt.strftime("%Y-%m-%d").astype(object)
    return text.where(s.notna(), None).tolist()


def _floats(values) -> list:
    return [None if x != x else x for x in np.asarray(values, dtype=float).tolist()]


def _items(frame: pd.DataFrame, mask: pd.Series, columns: dict[str, pd.Series]) -> list[dict]:
    """Report items for the rows of `mask`: id, areas, describing fields, then `columns` (already per row)."""
    idx = np.flatnonzero(mask.to_numpy())
    if idx.size == 0:
        return []
    sub = frame.iloc[idx]
    area = _num(sub, "area_m2").round(2).to_numpy()
    out = {
        "id": sub["id"].astype(str).tolist(),
        "area_m2": _floats(area),
        "area_mu": _floats(np.round(m2_to_mu(area), 4)),
    }
    for col in DESCRIBING:
        if col in sub.columns:
            out[col] = _text(sub, col).tolist()
    for name, values in columns.items():
        v = values.iloc[idx] if isinstance(values, pd.Series) else pd.Series(values, index=frame.index).iloc[idx]
        if pd.api.types.is_datetime64_any_dtype(v):
            out[name] = _iso(v)
        elif pd.api.types.is_float_dtype(v):
            out[name] = _floats(v.to_numpy(dtype=float))
        elif pd.api.types.is_integer_dtype(v):
            out[name] = [None if x is pd.NA else int(x) for x in v.astype(object).tolist()]
        else:
            out[name] = [None if (x is None or (isinstance(x, float) and x != x)) else x for x in v.tolist()]
    keys = list(out)
    return [dict(zip(keys, row)) for row in zip(*(out[k] for k in keys))]


def classify(ledger: pd.DataFrame, as_of: dt.date, rules: SupplyRules | None = None, *, dates: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per ledger row: `list` (one of LISTS, "incomplete" or None), `kind`, `stage`,
    `fee_wan`, `days` and the deciding date. Vectorised; the report and the map both read it."""
    rules = rules or load_supply_rules()
    frame = ledger.reset_index(drop=True)
    d = date_frame(frame) if dates is None else dates
    t = pd.Timestamp(as_of)
    approved = d["approval_date"].notna() & (d["approval_date"] <= t)
    supplied = d["supply_date"].notna() & (d["supply_date"] <= t)
    started = d["actual_start_date"].notna() & (d["actual_start_date"] <= t)
    completed = d["actual_completion_date"].notna() & (d["actual_completion_date"] <= t)
    agreed_start = d["agreed_start_date"]

    not_started = supplied & ~started
    past_start = not_started & agreed_start.notna() & (t > agreed_start)
    idle_ns = not_started & agreed_start.notna() & (t >= add_years(agreed_start, rules.not_started_years))
    developed, invested = _num(frame, "developed_share"), _num(frame, "invested_share")
    low = (developed < rules.developed_share_below) | (invested < rules.invested_share_below)
    halted_since = d["halted_since"]
    idle_h = supplied & started & ~completed & low & halted_since.notna() & (t >= add_years(halted_since, rules.halted_years))
    idle = idle_ns | idle_h
    since = agreed_start.where(idle_ns, halted_since)

    cause = _text(frame, "delay_cause").fillna("")
    negotiate = idle & cause.isin(rules.negotiate_causes)
    reclaim = idle & ~negotiate & (t >= add_years(since, rules.reclaim_years))
    fee = idle & ~negotiate & ~reclaim
    price = _num(frame, "price_wan")

    out = pd.DataFrame(index=frame.index)
    lst = pd.Series(None, index=frame.index, dtype=object)
    deciding = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")

    def put(mask: pd.Series, name: str, date: pd.Series) -> None:
        nonlocal lst, deciding
        free = mask & lst.isna()
        lst = lst.where(~free, name)
        deciding = deciding.where(~free, date)

    started_unsupplied = started & ~supplied  # 未供先用? a record to check, not land waiting for supply
    put(started_unsupplied, "incomplete", d["actual_start_date"])
    put(approved & ~supplied, "approved_not_supplied", d["approval_date"])
    put(idle, "idle", since)
    put(past_start & ~idle, "supplied_not_started", agreed_start)
    put(supplied & not_started & agreed_start.isna(), "incomplete", d["supply_date"])
    put(started & ~completed & d["agreed_completion_date"].notna() & (t > d["agreed_completion_date"]), "completion_overdue", d["agreed_completion_date"])
    put(completed & d["agreed_production_date"].notna() & (t > d["agreed_production_date"]), "production_review_due", d["agreed_production_date"])
    out["list"] = lst
    out["deciding_date"] = deciding
    out["days"] = _days(t, deciding).astype("Int64")
    out["kind"] = np.where(lst == "idle", np.where(idle_ns, "not_started", "halted"), None)
    out["stage"] = np.where(lst == "idle", np.where(negotiate, "negotiate", np.where(reclaim, "reclaim", "fee")), None)
    out["fee_wan"] = np.where((lst == "idle") & fee, (price * rules.fee_share).round(4), np.nan)
    out["over_two_years"] = np.where(lst == "approved_not_supplied", t >= add_years(d["approval_date"], rules.over_years), None)
    return out


def supervision_report(ledger: pd.DataFrame, as_of: dt.date, rules: SupplyRules | None = None, *, conflicts: list[dict] | None = None) -> dict:
    """The SPEC §4.2 report: `as_of`, the five lists, `incomplete`, `conflicts`, `totals`, `rules`, `notes`."""
    rules = rules or load_supply_rules()
    frame = ledger.reset_index(drop=True)
    d = date_frame(frame)
    c = classify(frame, as_of, rules, dates=d)
    t = pd.Timestamp(as_of)
    basis = lambda cited: f"{cited.source}" + ("" if cited.status == "confirmed" else "（未核实）")  # noqa: E731
    report: dict = {"as_of": as_of.isoformat()}
    report["approved_not_supplied"] = _items(frame, c["list"] == "approved_not_supplied", {
        "approval_date": d["approval_date"], "days": c["days"], "over_two_years": c["over_two_years"],
        "legal_basis": basis(rules.approved_not_supplied),
    })
    report["supplied_not_started"] = _items(frame, c["list"] == "supplied_not_started", {
        "supply_date": d["supply_date"], "agreed_start_date": d["agreed_start_date"], "days": c["days"],
        "idle_from": add_years(d["agreed_start_date"], rules.not_started_years), "legal_basis": basis(rules.supplied_not_started),
    })
    stage_basis = pd.Series(np.select([c["stage"] == "negotiate", c["stage"] == "reclaim"], [basis(rules.negotiate), basis(rules.reclaim)], basis(rules.fee)), index=frame.index)
    report["idle"] = _items(frame, c["list"] == "idle", {
        "kind": c["kind"], "kind_zh": c["kind"].map(KIND_TITLES), "stage": c["stage"], "stage_zh": c["stage"].map(STAGE_TITLES),
        "fee_wan": c["fee_wan"], "price_wan": _num(frame, "price_wan"), "delay_cause": _text(frame, "delay_cause"),
        "supply_date": d["supply_date"], "agreed_start_date": d["agreed_start_date"], "actual_start_date": d["actual_start_date"],
        "halted_since": d["halted_since"], "developed_share": _num(frame, "developed_share"), "invested_share": _num(frame, "invested_share"),
        "days": c["days"], "legal_basis": basis(rules.idle) + "；" + stage_basis,
    })
    report["completion_overdue"] = _items(frame, c["list"] == "completion_overdue", {
        "actual_start_date": d["actual_start_date"], "agreed_completion_date": d["agreed_completion_date"], "days": c["days"],
        "legal_basis": basis(rules.completion_overdue),
    })
    report["production_review_due"] = _items(frame, c["list"] == "production_review_due", {
        "actual_completion_date": d["actual_completion_date"], "agreed_production_date": d["agreed_production_date"],
        "actual_production_date": d["actual_production_date"], "days": c["days"], "legal_basis": basis(rules.production_review),
    })
    no_supply = d["actual_start_date"].notna() & (d["actual_start_date"] <= t) & ~(d["supply_date"].notna() & (d["supply_date"] <= t))
    reason = pd.Series(np.where(no_supply, "已动工但台账中没有（截至统计日的）供地日期：请补录供地日期，或核查是否未供先用",
                                "已供地未动工，但缺少约定动工日期，无法判定是否闲置：请补录出让合同（划拨决定书）约定的动工日期"), index=frame.index)
    report["incomplete"] = _items(frame, c["list"] == "incomplete", {
        "supply_date": d["supply_date"], "actual_start_date": d["actual_start_date"], "days": c["days"], "reason": reason,
    })
    report["conflicts"] = list(conflicts or [])
    totals: dict = {}
    for name in LISTS + ("incomplete",):
        items = report[name]
        m2 = round(sum(i["area_m2"] or 0.0 for i in items), 2)
        totals[name] = {"count": len(items), "area_m2": m2, "area_mu": round(float(m2_to_mu(m2)), 4)}
    idle_items = report["idle"]
    totals["idle"]["fee_wan"] = round(sum(i["fee_wan"] or 0.0 for i in idle_items), 4)
    totals["idle"]["by_stage"] = {s: sum(1 for i in idle_items if i["stage"] == s) for s in STAGE_TITLES}
    totals["idle"]["by_kind"] = {k: sum(1 for i in idle_items if i["kind"] == k) for k in KIND_TITLES}
    totals["approved_not_supplied"]["over_two_years"] = sum(1 for i in report["approved_not_supplied"] if i["over_two_years"])
    totals["conflicts"] = {"count": len(report["conflicts"])}
    totals["ledger_rows"] = int(len(frame))
    report["totals"] = totals
    report["rules"] = {k: getattr(rules, k).to_dict() for k in ("calendar", "idle", "fee", "reclaim", "negotiate", "approved_not_supplied", "supplied_not_started", "completion_overdue", "production_review")}
    notes = [f"{rules.raw['calendar']['rule']}（{rules.calendar.source}" + ("，未核实" if rules.calendar.status != "confirmed" else "") + "）。"]
    if rules.approved_not_supplied.status != "confirmed":
        notes.append("“批而未供满两年”为未核实的通行口径，仅作标注。")
    ds = _text(frame, "data_source").fillna("")
    report["synthetic"] = bool(ds.str.contains("合成|示例|synthetic", regex=True).any())
    if report["synthetic"]:
        notes.append("注意：台账含合成示例数据（synthetic），仅供演示，不是真实供地记录。")
    gs = _text(frame, "geometry_source").fillna("")
    if (gs == "schematic").any():
        notes.append("注意：部分宗地几何为示意位置（schematic），面积仅供参考。")
    report["notes"] = notes
    return report
