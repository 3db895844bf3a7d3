"""批供用补查 from the store (SPEC §4.2) and 达产复核 of the ledger (SPEC §6): read → rule → report.

`supervision_report(store, as_of)` is the one entry of the CLI (`landgis supervise`), HTTP
(`GET /supervision`), the `supervision` map and, later, an OGC API process: the ledger and the
land it may collide with are read here, `parcels.supply` decides. `production_review(store, as_of)`
runs `parcels.standard_land.review.review_production` on each enterprise whose ledger row is due
(with the default rule sets of services/standard_land.py). `inefficient_with_supply` feeds idle
ledger land and failed reviews into the 低效用地 screen (SPEC §5.4) without changing that screen.
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd

from gis.errors import InputError
from gis.store import Store

LEDGER = "land_supply"


def parse_as_of(text: str | dt.date | None) -> dt.date:
    """The report day: a YYYY-MM-DD text (or a date), default today; a bad text is a Chinese 400."""
    if text is None or text == "":
        return dt.date.today()
    if isinstance(text, dt.date):
        return text
    try:
        return dt.date.fromisoformat(str(text).strip())
    except ValueError:
        raise InputError(f"日期“{text}”格式不对。", hint="as_of 请使用 YYYY-MM-DD，如 2026-03-01。") from None


def read_ledger(store: Store) -> gpd.GeoDataFrame:
    if not store.layer_exists(LEDGER):
        raise InputError("存储中没有土地供应台账（land_supply 图层）。", hint="先运行 landgis init 载入示例台账，或用 landgis import land_supply 台账.xlsx 导入。")
    return store.read_layer(LEDGER)


def _optional(store: Store, name: str, columns: list[str] | None = None):
    return store.read_layer(name, columns=columns) if store.layer_exists(name) else None


def supervision_report(store: Store, as_of: dt.date | str | None = None) -> dict:
    """The supervision report of SPEC §4.2 as of `as_of` (default today), with `conflicts`."""
    from parcels.supply.conflicts import supply_conflicts
    from parcels.supply.supervise import supervision_report as build

    day = parse_as_of(as_of)
    ledger = read_ledger(store)
    conflicts = supply_conflicts(
        reserve=_optional(store, "reserve_parcels", ["id", "status"]), ledger=ledger,
        industrial=_optional(store, "industrial_parcels", ["id"]), as_of=day,
    )
    return build(ledger, day, conflicts=conflicts)


def supervision_frame(store: Store, as_of: dt.date | str | None = None) -> gpd.GeoDataFrame:
    """The ledger rows with their list, stage and fee as of the day: what the map colours."""
    from parcels.supply.supervise import LIST_TITLES, STAGE_TITLES, classify

    day = parse_as_of(as_of)
    ledger = read_ledger(store).reset_index(drop=True)
    c = classify(ledger, day)
    out = ledger.copy()
    out["list"] = c["list"].fillna("none").to_numpy()
    out["list_zh"] = out["list"].map({**LIST_TITLES, "none": "无需处置"}).to_numpy()
    out["stage_zh"] = c["stage"].map(STAGE_TITLES).to_numpy()
    out["fee_wan"] = c["fee_wan"].to_numpy()
    out["days"] = c["days"].astype(object).where(c["days"].notna(), None).to_numpy()
    out.attrs["as_of"] = day.isoformat()
    return out


# --- 达产复核 ---------------------------------------------------------------------------------
def _load_rules(rules):
    """The one rule selection of every 标准地 path (services/standard_land.py): confirmed rules
    only unless rule sets are named."""
    from services.standard_land import select_rules

    return select_rules(rules)


def review_inputs(ledger: pd.DataFrame, enterprises: pd.DataFrame, industrial: pd.DataFrame | None, reserve: pd.DataFrame | None, due_ids: list[str]) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """(actuals, commitments, due rows without an enterprise) for `review_production`.

    Actuals: each enterprise on a due row's land (its `parcel_id` names the ledger id or the row's
    reserve parcel), with its 税收/营业收入/增加值/能耗 and the built floor area and footprint of its
    parcel (容积率 and 建筑系数 of `industrial_parcels`, shared by land area). Commitments: the
    row's `committed_*`, else the 标准地 sheet issued on its reserve parcel (`sl_*`, `sl_rules`)."""
    from parcels.schema import COMMITTED_INDICATORS

    due = ledger[ledger["id"].astype(str).isin(due_ids)].reset_index(drop=True)
    ent = pd.DataFrame(enterprises.drop(columns=enterprises.geometry.name) if isinstance(enterprises, gpd.GeoDataFrame) else enterprises)
    links = ent["parcel_id"].astype(object).where(ent["parcel_id"].notna(), "").astype(str).str.split(";")
    long = ent.assign(_link=links).explode("_link")
    long["_link"] = long["_link"].str.strip()
    rp = due["reserve_parcel_id"].astype(object).where(due["reserve_parcel_id"].notna(), "").astype(str) if "reserve_parcel_id" in due.columns else pd.Series("", index=due.index)
    keys = pd.concat([pd.DataFrame({"_link": due["id"].astype(str), "ledger_id": due["id"].astype(str)}),
                      pd.DataFrame({"_link": rp, "ledger_id": due["id"].astype(str)})[rp != ""]], ignore_index=True)
    hit = long.merge(keys, on="_link", how="inner").drop_duplicates(["enterprise_id", "ledger_id"])
    missing = sorted(set(due["id"].astype(str)) - set(hit["ledger_id"]))
    due_m2 = pd.to_numeric(due.set_index(due["id"].astype(str))["area_m2"], errors="coerce")
    land_mu = pd.to_numeric(hit["land_area_mu"], errors="coerce")
    land_mu = land_mu.where(land_mu.notna(), hit["ledger_id"].map(due_m2) * 15 / 10000)
    actuals = pd.DataFrame({
        "enterprise_id": hit["enterprise_id"].astype(str).to_numpy(), "name": hit["name"].to_numpy() if "name" in hit else None,
        "parcel_id": hit["ledger_id"].to_numpy(), "land_area_mu": land_mu.to_numpy(dtype=float),
        "industry_code": hit["industry_code"].to_numpy() if "industry_code" in hit else None,
    })
    for k in ("year", "tax", "revenue", "value_added", "energy_tce"):
        if k in hit.columns:
            actuals[k] = hit[k].to_numpy()
    if industrial is not None and len(industrial):
        ip = pd.DataFrame(industrial.drop(columns=industrial.geometry.name)).set_index(industrial["id"].astype(str))
        land_m2 = actuals["land_area_mu"] * 10000 / 15
        if "floor_area_ratio" in ip.columns:
            actuals["total_floor_area_m2"] = (actuals["parcel_id"].map(pd.to_numeric(ip["floor_area_ratio"], errors="coerce")) * land_m2).round(1).to_numpy()
            actuals["tall_floor_area_m2"] = 0.0  # the layer's 容积率 already counts storeys over 8 m twice (SPEC §6), so nothing is added
        if "building_coverage" in ip.columns:
            actuals["building_footprint_m2"] = (actuals["parcel_id"].map(pd.to_numeric(ip["building_coverage"], errors="coerce")) / 100 * land_m2).round(1).to_numpy()
    com = pd.DataFrame({"parcel_id": due["id"].astype(str), "land_area_mu": pd.to_numeric(due["area_m2"], errors="coerce") * 15 / 10000})
    if "land_use" in due.columns:
        com["use"] = due["land_use"].to_numpy()
    committed = [f"committed_{k}" for k in COMMITTED_INDICATORS if f"committed_{k}" in due.columns]
    for col in committed:
        com[col.removeprefix("committed_")] = pd.to_numeric(due[col], errors="coerce").to_numpy()
    has_committed = com[[c.removeprefix("committed_") for c in committed]].notna().any(axis=1) if committed else pd.Series(False, index=com.index)
    if reserve is not None and len(reserve) and "reserve_parcel_id" in due.columns:
        sheet_cols = [c for c in ("sl_investment_intensity", "sl_floor_area_ratio", "sl_tax_per_mu", "sl_rules") if c in reserve.columns]
        sheets = pd.DataFrame(reserve.drop(columns=reserve.geometry.name)).set_index(reserve["id"].astype(str))[sheet_cols]
        for col in sheet_cols:
            from_sheet = rp.map(sheets[col]).where(~has_committed.to_numpy(), None)  # the sheet only where the contract committed nothing
            com[col] = from_sheet.to_numpy()
    return actuals, com, missing


def production_review(store: Store, as_of: dt.date | str | None = None, *, rules=None) -> dict:
    """达产复核 of every enterprise on ledger land past its agreed production date (SPEC §6).

    Returns {as_of, rule_sets, items (one per enterprise: verdict, failed, incomplete, has_commitment,
    indicator values), not_reviewed (due rows with no enterprise on them), inefficient (failures as
    低效用地 entries, 投而未达标), totals, notes}."""
    from parcels.standard_land.review import review_failures_as_inefficient, review_production
    from parcels.supply.supervise import classify

    day = parse_as_of(as_of)
    ledger = read_ledger(store).reset_index(drop=True)
    c = classify(ledger, day)
    due_ids = ledger.loc[(c["list"] == "production_review_due").to_numpy(), "id"].astype(str).tolist()
    ruleset = _load_rules(rules)
    doc = {"as_of": day.isoformat(), "rule_sets": [{"id": i.id, "name": i.name, "status": i.status} for i in ruleset.sets], "items": [], "not_reviewed": [], "inefficient": [], "notes": []}
    if not due_ids:
        doc["totals"] = {"due": 0, "pass": 0, "fail": 0, "incomplete": 0, "not_reviewed": 0}
        doc["notes"].append(f"截至 {day}，台账中没有已过约定达产日期的宗地。")
        return doc
    if not store.layer_exists("enterprises"):
        raise InputError("存储中没有企业图层（enterprises），无法做达产复核。", hint="先用 landgis import enterprises 导入企业数据。")
    actuals, com, missing = review_inputs(ledger, store.read_layer("enterprises"), _optional(store, "industrial_parcels"), _optional(store, "reserve_parcels"), due_ids)
    doc["not_reviewed"] = [{"id": i, "reason": "台账宗地已过约定达产日期，但企业图层中没有该宗地上的企业（parcel_id），无法复核"} for i in missing]
    if len(actuals):
        table = review_production(actuals, com, ruleset)
        keep = [k for k in table.columns if k != "indicators"]
        items = table[keep].astype(object).where(table[keep].notna(), None).to_dict("records")
        for item, inds in zip(items, table["indicators"].tolist() if "indicators" in table.columns else [None] * len(items)):
            item["indicators"] = inds
        doc["items"] = [{k: (v.item() if isinstance(v, np.generic) else v) for k, v in item.items()} for item in items]
        ineff = review_failures_as_inefficient(table)
        doc["inefficient"] = ineff.astype(object).where(ineff.notna(), None).to_dict("records")
    verdicts = pd.Series([i["verdict"] for i in doc["items"]], dtype=object)
    doc["totals"] = {"due": len(due_ids), "pass": int((verdicts == "pass").sum()), "fail": int((verdicts == "fail").sum()),
                     "incomplete": int((verdicts == "incomplete").sum()), "not_reviewed": len(missing)}
    if any(i.get("provisional") for i in doc["items"]):
        doc["notes"].append("部分未达标结论依据未核实或示例规则，结论为暂定。")
    ds = ledger["data_source"].astype(str) if "data_source" in ledger.columns else pd.Series([], dtype=str)
    if ds.str.contains("合成|示例|synthetic", regex=True).any():
        doc["notes"].append("注意：台账或企业含合成示例数据（synthetic），仅供演示。")
    return doc


# --- 低效用地 (SPEC §5.4) ----------------------------------------------------------------------
def inefficient_with_supply(layers: dict, policy_name: str, *, as_of: dt.date | None = None, rules=None) -> tuple[gpd.GeoDataFrame, list[str]]:
    """The 低效用地 screen with the ledger fed in: idle ledger land (闲置, 部令第53号) marks its
    industrial parcel idle, and failed 达产复核 go in as `extra_failures`; idle ledger land that is no
    industrial parcel is added as its own entry. `parcels/efficiency/inefficient.py` is unchanged."""
    from parcels.efficiency import find_inefficient_land, load_policy, score_enterprises
    from parcels.standard_land.review import review_failures_as_inefficient, review_production
    from parcels.supply.supervise import classify

    day = as_of or dt.date.today()
    ledger = layers["land_supply"].reset_index(drop=True)
    industrial = layers["industrial_parcels"].copy()
    enterprises = layers["enterprises"]
    c = classify(ledger, day)
    idle_ids = set(ledger.loc[(c["list"] == "idle").to_numpy(), "id"].astype(str))
    ip_ids = set(industrial["id"].astype(str))
    before = industrial["idle"].astype("boolean").fillna(False).to_numpy(dtype=bool) if "idle" in industrial.columns else np.zeros(len(industrial), bool)
    industrial["idle"] = before | industrial["id"].astype(str).isin(idle_ids).to_numpy()
    notes: list[str] = []
    extra = None
    due_ids = ledger.loc[(c["list"] == "production_review_due").to_numpy(), "id"].astype(str).tolist()
    if due_ids:
        actuals, com, _ = review_inputs(ledger, enterprises, industrial, layers.get("reserve_parcels"), due_ids)
        if len(actuals):
            failures = review_failures_as_inefficient(review_production(actuals, com, _load_rules(rules), detail=False))
            on_parcels = failures["parcel_id"].astype(str).isin(ip_ids)
            extra = failures[on_parcels.to_numpy()][["parcel_id", "reason"]]
            if (~on_parcels).any():
                notes.append(f"{int((~on_parcels).sum())} 宗达产复核未达标的台账宗地不在工业用地图层中，未列入低效用地：" + "、".join(failures.loc[~on_parcels.to_numpy(), "parcel_id"].astype(str)))
    policy = load_policy(policy_name)
    table = pd.DataFrame(enterprises.drop(columns=enterprises.geometry.name)) if isinstance(enterprises, gpd.GeoDataFrame) else enterprises
    result = score_enterprises(table, policy, parcels=industrial)
    found = find_inefficient_land(industrial, result, policy, extra_failures=extra)
    own = ledger[ledger["id"].astype(str).isin(idle_ids - ip_ids).to_numpy()]
    if len(own):
        from gis.crs import m2_to_mu

        m2 = pd.to_numeric(own["area_m2"], errors="coerce").to_numpy(dtype=float)
        rows = gpd.GeoDataFrame({
            "parcel_id": own["id"].astype(str).to_numpy(), "area_m2": m2, "area_mu": m2_to_mu(m2),
            "reason": "闲置土地（供地台账：《闲置土地处置办法》部令第53号第二条）", "provisional": False,
        }, geometry=gpd.GeoSeries(own.geometry.values, crs=found.crs or industrial.crs))
        for col in found.columns:
            if col not in rows.columns:
                rows[col] = None
        found = gpd.GeoDataFrame(pd.concat([found, rows[found.columns]], ignore_index=True), geometry=found.geometry.name, crs=found.crs)
    return found, notes
