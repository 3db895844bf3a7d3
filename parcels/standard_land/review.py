"""达产复核: once producing, an enterprise's actual figures against what it committed to.

履标用地、对标管地: the same check as `check_project`, at phase 达产, on actual figures, against
the committed indicators of its parcel (the 标准地 sheet written into the supply contract or the
产业监管协议) together with the rule sets passed in. Rows that fail become 低效用地 entries
(SPEC §5.4, DOMAIN §4 “投而未达标”) through `review_failures_as_inefficient`.

Inputs:
- `actuals`: one row per enterprise (or parcel): the project keys of SPEC §6 with actual
  figures; the enterprise keys `tax`, `revenue`, `value_added`, `energy_tce` of SPEC §5.1 are
  accepted for `expected_*`. Optional `enterprise_id`, `year`, `use`, `park`, `district`.
- `commitments`: DataFrame with `parcel_id` (or a dict {parcel_id: {...}}), and per indicator
  key (or `sl_*` field) the committed value (a floor for 投资强度/容积率/建筑系数/亩均税收/亩均产值,
  a ceiling for 行政办公比重/绿地率/单位增加值能耗), and/or `sl_rules` JSON (statuses kept);
  optional `land_area_mu` (or `area_mu`/`area_m2`), `industry_code`, `use`, `park`, `district`.
  A bare committed number is a contract term: status `confirmed`, source “履约承诺”.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from gis.errors import RowError
from parcels.standard_land import engine
from parcels.standard_land.indicators import INDICATORS, PHASES, STATUS_LABELS, format_number, requirement_text
from parcels.standard_land.inputs import ACTUAL_ALIASES, ProjectInputError, attach_context, normalize_projects
from parcels.standard_land.rules import SL_FIELDS, Rule, RuleSet, Scope, bound_rules_from_json, drop_loaded_copies

ACTUAL_PASSTHROUGH = ("enterprise_id", "year")
CONTEXT_COLUMNS = ("use", "park", "district")
COMMITMENT_KEYS = {"parcel_id", "id", "land_area_mu", "area_mu", "area_m2", "industry_code", "sl_rules", *CONTEXT_COLUMNS, *INDICATORS, *SL_FIELDS, "name"}


def _commitment_frame(commitments: pd.DataFrame | dict) -> pd.DataFrame:
    if isinstance(commitments, dict):
        rows = []
        for pid, spec in commitments.items():
            if not isinstance(spec, dict):
                raise ProjectInputError("履约承诺数据有误。", [RowError(None, str(pid), "每个地块的承诺应为 {指标: 数值} 表")])
            rows.append({"parcel_id": str(pid), **spec})
        frame = pd.DataFrame(rows)
    else:
        frame = pd.DataFrame(commitments).reset_index(drop=True)
    if "parcel_id" not in frame.columns and "id" in frame.columns:
        frame = frame.rename(columns={"id": "parcel_id"})
    errors = [RowError(None, str(c), f"履约承诺表的未知字段“{c}”（可用：parcel_id、指标键 {'、'.join(INDICATORS)}、sl_*、sl_rules、land_area_mu、industry_code、use、park、district）")
              for c in frame.columns if c not in COMMITMENT_KEYS]
    if len(frame) and "parcel_id" not in frame.columns:
        errors.append(RowError(None, "parcel_id", "履约承诺表缺少 parcel_id 列"))
    if errors:
        raise ProjectInputError("履约承诺数据有误。", errors)
    if len(frame) == 0:
        return pd.DataFrame({"parcel_id": pd.Series(dtype=object), "land_area_mu": pd.Series(dtype=float)})
    frame["parcel_id"] = pd.Series([None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v).strip()
                                    for v in frame["parcel_id"].astype(object).tolist()], dtype=object)
    dup = frame["parcel_id"][frame["parcel_id"].duplicated() & frame["parcel_id"].notna()]
    if len(dup):
        raise ProjectInputError("履约承诺表中地块编号重复。", [RowError(int(i) + 1, "parcel_id", f"地块 {v} 重复") for i, v in dup.items()])
    for sl, key in SL_FIELDS.items():
        if sl in frame.columns:
            if key in frame.columns:
                frame[key] = frame[key].where(frame[key].notna(), frame[sl])
            else:
                frame[key] = frame[sl]
    num_errors = []
    for key in [k for k in INDICATORS if k in frame.columns] + [k for k in ("land_area_mu", "area_mu", "area_m2") if k in frame.columns]:
        vals = pd.to_numeric(frame[key].astype(object).map(lambda v: v.strip() if isinstance(v, str) else v).replace("", None), errors="coerce")
        bad = vals.isna() & frame[key].notna() & (frame[key].astype(str).str.strip() != "")
        bad |= (vals < 0) | np.isinf(vals.fillna(0))
        for i in np.nonzero(bad.to_numpy())[0]:
            num_errors.append(RowError(int(i) + 1, key, f"地块 {frame['parcel_id'].iloc[i]} 的承诺值“{frame[key].iloc[i]}”应为非负数值"))
        frame[key] = vals.astype(float)
    if num_errors:
        raise ProjectInputError("履约承诺数据有误。", num_errors)
    if "land_area_mu" not in frame.columns:
        frame["land_area_mu"] = np.nan
    if "area_mu" in frame.columns:
        frame["land_area_mu"] = frame["land_area_mu"].where(frame["land_area_mu"].notna(), frame["area_mu"])
    if "area_m2" in frame.columns:
        frame["land_area_mu"] = frame["land_area_mu"].where(frame["land_area_mu"].notna(), frame["area_m2"] * 15 / 10000)
    return frame


def _commitment_rules(frame: pd.DataFrame, rules: RuleSet) -> dict[str, list[Rule]]:
    """Rules bound to each committed parcel."""
    out: dict[str, list[Rule]] = {}
    keys = [k for k in INDICATORS if k in frame.columns]
    for rec in frame.to_dict("records"):
        pid = rec.get("parcel_id")
        if pid is None:
            continue
        set_id = f"commitment:{pid}"
        set_name = f"地块 {pid} 履约承诺"
        rs = []
        if "sl_rules" in rec:
            rs += bound_rules_from_json(rec.get("sl_rules"), owner=pid, set_id=set_id, set_name=set_name,
                                        source_prefix=f"地块 {pid} 履约承诺（指标清单）：", where=f"地块 {pid} 的履约承诺")
        have = {r.key for r in rs}
        for k in keys:
            v = rec.get(k)
            if v is None or (isinstance(v, float) and math.isnan(v)) or k in have:
                continue
            ind = INDICATORS[k]
            rs.append(Rule(
                id=f"{set_id}:{k}", key=k, op=ind.commit_op, limit=float(v), unit=ind.unit,
                scope=Scope(parcel=frozenset([pid])), phases=PHASES,
                source=f"履约承诺：地块 {pid} 出让合同/产业监管协议约定值", status="confirmed",
                rule_set=set_id, rule_set_name=set_name,
            ))
        out[pid] = drop_loaded_copies(rs, rules)
    return out


def review_production(actuals: pd.DataFrame, commitments: pd.DataFrame | dict, rules: RuleSet, *, detail: bool = True) -> pd.DataFrame:
    """达产复核 of each row of `actuals`; one result row per input row, in input order.

    Columns: `row`, `enterprise_id`, `parcel_id`, `name`, `year`, `land_area_mu`, `verdict`
    (pass/fail/incomplete), `failed` and `incomplete` (Chinese, one clause per indicator),
    `provisional` (a failing deciding rule is not confirmed), `has_commitment`, per indicator its
    value (`<key>`) and combined result (`pass_<key>`), and `indicators` (the SPEC §6 list per
    row; `detail=False` leaves it out, which is most of the time on tables of many thousands).
    """
    src = pd.DataFrame(actuals).reset_index(drop=True)
    if len(src) == 0:
        raise ProjectInputError("达产复核数据为空。", [RowError(None, None, "至少需要一行企业实际数据")])
    both = [a for a, t in ACTUAL_ALIASES.items() if a in src.columns and t in src.columns]
    if both:
        raise ProjectInputError("达产复核数据列重复。", [RowError(None, a, f"{a} 与 {ACTUAL_ALIASES[a]} 不能同时出现") for a in both])
    src = src.rename(columns=ACTUAL_ALIASES)
    ctx_cols = {c: src.pop(c) for c in CONTEXT_COLUMNS if c in src.columns}
    src["phase"] = "达产"
    norm, errors = normalize_projects(src, passthrough=ACTUAL_PASSTHROUGH)
    com = _commitment_frame(commitments)
    joined = norm[["parcel_id"]].merge(com, on="parcel_id", how="left", suffixes=("", "_c"))
    has_commitment = norm["parcel_id"].isin(set(com["parcel_id"].dropna())).to_numpy()
    if "industry_code" in com.columns:
        from parcels.standard_land.industry import normalize_code

        cc = []
        for i, v in enumerate(joined["industry_code"].tolist()):
            try:
                cc.append(normalize_code(v))
            except ValueError as exc:
                errors.append(RowError(i + 1, "industry_code", f"履约承诺中的行业代码：{exc}"))
                cc.append(None)
        norm["industry_code"] = norm["industry_code"].where(norm["industry_code"].notna(), pd.Series(cc, dtype=object))

    def ctx(col):
        given = ctx_cols[col].reset_index(drop=True).astype(object) if col in ctx_cols else pd.Series([None] * len(norm), dtype=object)
        if col in joined.columns:
            given = given.where(given.notna(), joined[col].astype(object))
        return given.where(given.notna(), None)

    frame = attach_context(norm, parcel_area_mu=joined["land_area_mu"].astype(float), use=ctx("use"), park=ctx("park"),
                           district=ctx("district"), errors=errors)
    per_parcel = _commitment_rules(com, rules)
    pids = frame["parcel_id"].tolist()
    bound = rules.admits([(i, r) for i, pid in enumerate(pids) if pid in per_parcel for r in per_parcel[pid]])
    long = engine.match_rules(frame, rules.rules, bound)
    ev = engine.evaluate(frame, long)
    verdict = engine.verdicts(frame, ev)
    records = engine.records_by_row(frame, ev) if detail else None
    return _review_table(frame, ev, verdict, records, has_commitment)


def _clause(df: pd.DataFrame) -> pd.Series:
    """“亩均税收 8.2 万元/亩，要求 ≥ 15 万元/亩（履约承诺，已核实）” for each failing row."""
    unit = df["unit"].map(lambda u: f" {u}" if u else "")
    value = df["value"].map(lambda v: "无法计算" if v is None or (isinstance(v, float) and math.isnan(v)) else format_number(v))
    req = [requirement_text(o, None if (isinstance(b, float) and math.isnan(b)) else b, u) for o, b, u in zip(df["op"], df["bound"], df["unit"])]
    status = df["status"].map(STATUS_LABELS)
    return df["indicator"].map(lambda k: INDICATORS[k].name) + " " + value + unit + "，要求 " + pd.Series(req, index=df.index) + "（" + df["rule_set_name"] + "，" + status + "）"


def _join_by_row(rows: pd.Series, texts: pd.Series, n: int) -> list[str]:
    """“；”-joined clauses per result row (a plain loop: pandas' string groupby is far slower)."""
    acc: list[list[str]] = [[] for _ in range(n)]
    for r, t in zip(rows.tolist(), texts.tolist()):
        acc[r].append(t)
    return ["；".join(a) for a in acc]


def _review_table(frame, ev, verdict, records, has_commitment) -> pd.DataFrame:
    n = len(frame)
    out = pd.DataFrame({
        "row": frame["_input_row"].to_numpy(),
        "enterprise_id": frame["enterprise_id"] if "enterprise_id" in frame else pd.Series([None] * n, dtype=object),
        "parcel_id": frame["parcel_id"],
        "name": frame["name"],
        "year": frame["year"] if "year" in frame else pd.Series([None] * n, dtype=object),
        "land_area_mu": frame["land_mu"].round(4),
        "verdict": verdict.to_numpy(),
        "has_commitment": has_commitment,
    })
    dec = ev[ev["decisive"]]
    fail = dec[dec["passed"] == False]  # noqa: E712
    unk = dec[dec["passed"].isna()]
    out["failed"] = _join_by_row(fail["row_i"], _clause(fail), n) if len(fail) else ""
    unk_text = unk["indicator"].map(lambda k: INDICATORS[k].name) + "（" + unk["row_note"].where(unk["row_note"] != "", "规则是否适用未定") + "）"
    out["incomplete"] = _join_by_row(unk["row_i"], unk_text, n) if len(unk) else ""
    out["n_fail"] = fail.groupby("row_i").size().reindex(range(n), fill_value=0).to_numpy()
    out["n_incomplete"] = unk.groupby("row_i").size().reindex(range(n), fill_value=0).to_numpy()
    out["provisional"] = (fail["status"] != "confirmed").groupby(fail["row_i"]).any().reindex(range(n), fill_value=False).to_numpy().astype(bool)
    values, _, _ = engine.compute_values(frame)
    for key in INDICATORS:
        sub = dec[dec["indicator"] == key]
        if sub.empty:
            continue
        out[key] = values[key].round(6).to_numpy()
        p = sub["passed"]
        any_fail = (p == False).groupby(sub["row_i"]).any().reindex(range(n), fill_value=False)  # noqa: E712
        any_unk = p.isna().groupby(sub["row_i"]).any().reindex(range(n), fill_value=False)
        bound_any = sub.groupby("row_i").size().reindex(range(n), fill_value=0) > 0
        col = np.where(any_fail, False, np.where(any_unk | ~bound_any, None, True)).astype(object)
        col[~bound_any.to_numpy()] = None
        out[f"pass_{key}"] = col
    if records is not None:
        out["indicators"] = [records[i] for i in range(n)]
    return out


def review_failures_as_inefficient(review_df: pd.DataFrame) -> pd.DataFrame:
    """Failed 达产复核 rows as 低效用地 entries (投而未达标), one per parcel.

    Columns: `parcel_id`, `reason` (Chinese), `enterprise_ids`, `land_area_mu` (sum of the
    failing rows' land), `provisional` (a failing rule is unverified or a sample value, so the
    listing is provisional too), `category` = 投而未达标. Rows without a parcel are kept (parcel_id
    empty) so nothing is dropped silently.
    """
    cols = ["parcel_id", "reason", "enterprise_ids", "land_area_mu", "provisional", "category"]
    failed = review_df[review_df["verdict"] == "fail"]
    if failed.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    who = failed["enterprise_id"].where(failed["enterprise_id"].notna(), failed["name"]).astype(object)
    who = who.where(who.notna(), "第" + failed["row"].astype(str) + "行")
    clause = who.astype(str) + "：" + failed["failed"].astype(str)
    key = failed["parcel_id"].astype(object).where(failed["parcel_id"].notna(), "")
    grouped = pd.DataFrame({"pid": key, "clause": clause, "who": who.astype(str), "land": failed["land_area_mu"], "prov": failed["provisional"]}).groupby("pid", sort=True)
    out = pd.DataFrame({
        "parcel_id": pd.Series([p or None for p in grouped.groups.keys()], dtype=object),
        "reason": ("标准地达产复核未达标（投而未达标）：" + grouped["clause"].agg("；".join)).to_numpy(),
        "enterprise_ids": grouped["who"].agg("、".join).to_numpy(),
        "land_area_mu": grouped["land"].sum().round(4).to_numpy(),
        "provisional": grouped["prov"].any().to_numpy().astype(bool),
    })
    out["reason"] = np.where(out["provisional"], out["reason"] + "（含未核实或示例规则，结论为暂定）", out["reason"])
    out["category"] = "投而未达标"
    return out[cols]
