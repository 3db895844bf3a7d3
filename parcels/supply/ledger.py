"""Validation of the land supply ledger (SPEC §4.2): a bad row refuses the whole import or edit.

Rules (each error names the row, the field and what to fix, in Chinese):
- dates in order: 批准 ≤ 供地 ≤ 动工 ≤ 竣工 ≤ 达产, for the agreed dates and for the actual ones;
  中止开发 not before 实际动工;
- none in the future of the import day except the agreed (contract) dates;
- supply method known, and allowed for the use (parcels/supply/methods.py);
- shares between 0 and 1, 延迟原因 one of the three causes, committed indicators numbers.
Works on a frame whose types `parcels.layers.prepare_features` already coerced (dates as ISO text).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from gis.errors import InputError, RowError
from parcels.schema import COMMITTED_INDICATORS, LAND_SUPPLY
from parcels.supply.methods import canonical_method, method_error
from parcels.supply.rules import SupplyRules, load_supply_rules

LAYER = LAND_SUPPLY.name

DATE_FIELDS = tuple(f.name for f in LAND_SUPPLY.fields if f.dtype == "date")
AGREED_DATES = ("agreed_start_date", "agreed_completion_date", "agreed_production_date")
"""Contract dates: the only ones that may lie in the future."""

ACTUAL_CHAIN = ("approval_date", "supply_date", "actual_start_date", "actual_completion_date", "actual_production_date")
AGREED_CHAIN = ("approval_date", "supply_date", "agreed_start_date", "agreed_completion_date", "agreed_production_date")
DELAY_CAUSES = ("企业原因", "政府原因", "不可抗力")


def label(field: str) -> str:
    """“供地日期(supply_date)”: the Chinese label an official reads, with the key the file may use."""
    f = LAND_SUPPLY.field(field)
    return f"{f.label_zh}({field})" if f else field


def date_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The ledger's date columns as datetime64 (missing → NaT), one column per date field."""
    return pd.DataFrame({c: pd.to_datetime(frame[c] if c in frame.columns else pd.Series([None] * len(frame), index=frame.index), errors="coerce") for c in DATE_FIELDS}, index=frame.index)


def _ids(frame: pd.DataFrame) -> list:
    return frame["id"].astype(object).where(frame["id"].notna(), None).tolist() if "id" in frame.columns else [None] * len(frame)


def _chain_errors(dates: pd.DataFrame, chain: tuple[str, ...], ids: list, seen: set) -> list[RowError]:
    """Each date against the latest earlier present date of the chain (missing dates skipped)."""
    errors: list[RowError] = []
    latest = pd.Series(pd.NaT, index=dates.index, dtype="datetime64[ns]")
    latest_name = pd.Series(None, index=dates.index, dtype=object)
    for col in chain:
        d = dates[col]
        bad = d.notna() & latest.notna() & (d < latest)
        for i in np.flatnonzero(bad.to_numpy()):
            key = (i, col)
            if key in seen:
                continue
            seen.add(key)
            errors.append(RowError(int(i) + 1, col, f"{label(col)} {d.iloc[i].date()} 早于 {label(latest_name.iloc[i])} {latest.iloc[i].date()}；日期须按 批准 ≤ 供地 ≤ 动工 ≤ 竣工 ≤ 达产 的顺序", ids[i]))
        later = d.notna() & (latest.isna() | (d >= latest))
        latest = latest.where(~later, d)
        latest_name = latest_name.where(~later, col)
    return errors


def ledger_errors(frame: pd.DataFrame, *, today: dt.date, rules: SupplyRules | None = None) -> tuple[list[RowError], pd.Series]:
    """Every problem of a prepared ledger frame (1-based rows), and its canonical supply methods."""
    rules = rules or load_supply_rules()
    n = len(frame)
    ids = _ids(frame)
    errors: list[RowError] = []
    dates = date_frame(frame)
    seen: set = set()
    errors += _chain_errors(dates, ACTUAL_CHAIN, ids, seen)
    errors += _chain_errors(dates, AGREED_CHAIN, ids, seen)
    start, halted = dates["actual_start_date"], dates["halted_since"]
    for i in np.flatnonzero((halted.notna() & (start.isna() | (halted < start))).to_numpy()):
        why = "但没有实际动工日期（未动工的土地不存在中止开发）" if pd.isna(start.iloc[i]) else f"早于实际动工日期 {start.iloc[i].date()}"
        errors.append(RowError(int(i) + 1, "halted_since", f"{label('halted_since')} {halted.iloc[i].date()} {why}", ids[i]))
    now = pd.Timestamp(today)
    for col in DATE_FIELDS:
        if col in AGREED_DATES:
            continue
        d = dates[col]
        for i in np.flatnonzero((d > now).to_numpy()):
            errors.append(RowError(int(i) + 1, col, f"{label(col)} {d.iloc[i].date()} 晚于今天（{today}）：已发生的日期不能在未来；尚未发生请留空", ids[i]))

    raw = frame["supply_method"] if "supply_method" in frame.columns else pd.Series([None] * n, index=frame.index)
    uses = frame["land_use"] if "land_use" in frame.columns else pd.Series([None] * n, index=frame.index)
    # Decided once per distinct (method text, use) pair: a ledger of 100 000 rows has a few dozen.
    key = pd.DataFrame({"text": raw.astype(object).where(raw.notna(), None), "use": uses.astype(object).where(uses.notna(), None)})
    verdicts: dict = {}
    for text, use in key.drop_duplicates().itertuples(index=False):
        try:
            m = canonical_method(text)
            verdicts[(text, use)] = (m, None, method_error(use, m, rules))
        except ValueError as exc:
            verdicts[(text, use)] = (None, str(exc), None)
    decided = [verdicts[(t, u)] for t, u in key.itertuples(index=False)]
    methods: list[str | None] = [d[0] for d in decided]
    for i in [k for k, d in enumerate(decided) if d[1] or d[2]]:
        text = key["text"].iloc[i]
        unknown, why = decided[i][1], decided[i][2]
        msg = f"{label('supply_method')}：{unknown}" if unknown else f"{label('supply_method')}“{text}”：{why}"
        errors.append(RowError(int(i) + 1, "supply_method", msg, ids[i]))
    no_method = pd.Series([m is None for m in methods], index=frame.index) & dates["supply_date"].notna() & pd.Series([d[1] is None for d in decided], index=frame.index)
    for i in np.flatnonzero(no_method.to_numpy()):
        errors.append(RowError(int(i) + 1, "supply_method", f"已填供地日期，但{label('supply_method')}为空：请注明 出让（招标/拍卖/挂牌/协议）、划拨、先租后让、弹性年期出让或长期租赁", ids[i]))
    for col in ("developed_share", "invested_share"):
        if col in frame.columns:
            v = pd.to_numeric(frame[col], errors="coerce")
            for i in np.flatnonzero((v > 1).to_numpy()):
                errors.append(RowError(int(i) + 1, col, f"{label(col)} 为 {v.iloc[i]:g}，应在 0 到 1 之间（如 30% 填 0.3）", ids[i]))
    if "delay_cause" in frame.columns:
        for i, v in enumerate(frame["delay_cause"].tolist()):
            if v is not None and not (isinstance(v, float) and v != v) and str(v).strip() and str(v).strip() not in DELAY_CAUSES:
                errors.append(RowError(int(i) + 1, "delay_cause", f"{label('delay_cause')}“{v}”无效：只能是 {'、'.join(DELAY_CAUSES)}（或留空）", ids[i]))
    known = {f"committed_{k}" for k in COMMITTED_INDICATORS}
    for col in frame.columns:
        if isinstance(col, str) and col.startswith("committed_") and col not in known:
            errors.append(RowError(None, col, f"未知的约定指标列 {col}：可用 {'、'.join(sorted(known))}"))
    errors.sort(key=lambda e: (e.row or 0, e.field or ""))
    return errors, pd.Series(methods, index=frame.index, dtype=object)


def validate_ledger(frame: pd.DataFrame, *, today: dt.date | None = None, rules: SupplyRules | None = None) -> pd.DataFrame:
    """The frame with canonical supply methods, or InputError naming every bad row and field."""
    errors, methods = ledger_errors(frame, today=today or dt.date.today(), rules=rules)
    if errors:
        raise InputError(
            f"土地供应台账被拒绝：{len(errors)} 处数据有误，数据库未作任何修改。",
            errors,
            hint="请按提示修改后重新导入（日期格式 YYYY-MM-DD；供地方式如 挂牌出让、划拨；比例填 0–1 的小数）。",
        )
    out = frame.copy()
    if "supply_method" in out.columns or methods.notna().any():
        out["supply_method"] = methods
    return out
