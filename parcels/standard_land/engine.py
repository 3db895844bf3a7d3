"""The check itself, vectorised over projects: which rules bind, which decides, pass or fail.

Semantics (the contract of SPEC §6, made precise):

- A rule binds a project when every scope dimension matches and the project's phase is one of
  the rule's phases. Industry: a rule written in GB/T 4754-2002 codes matches the project's
  `industry_code_2002` when given, else its 2017 code through the correspondence table (the
  row then carries `industry_mapping` with that table's status). Use: the parcel's use, else the
  one the industry implies. Park/district/parcel-scoped rules bind only projects whose parcel
  record names that park/district/parcel.
- A scope dimension the project leaves unknown (no industry code; no parcel and no industry to
  imply the use) makes the rule *undetermined*. Undetermined rules of one rule set and indicator
  are listed as one row with `limit` null. It still decides when its strictest candidate is
  stricter than every determined rule: then `pass` is true only if the value meets even that
  strictest candidate, else null (so the verdict is at best `incomplete`).
- Several rules on one indicator and operator: the strictest (highest floor, lowest ceiling)
  decides; on equal limits the better-sourced (confirmed < unverified < sample) is shown as
  deciding. All are listed; `decisive` says which count toward the verdict.
- `margin` = value − limit for `>=`, limit − value for `<=`: negative means failing, in the
  indicator's unit. A missing input gives `value`, `pass`, `margin` null.
- Verdict: `fail` if any decisive row fails; else `incomplete` if any decisive row is null;
  else `pass`.
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np
import pandas as pd

from parcels.standard_land.indicators import INDICATOR_ORDER, INDICATORS, STATUS_RANK, requirement_text
from parcels.standard_land.industry import load_mapping
from parcels.standard_land.rules import Rule

TOL = 1e-9


def compute_values(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Indicator values per row (NaN when an input is missing), why missing, and forced failures.

    Forced failure: 单位增加值能耗 with energy used but no positive value added is infinite; it is
    reported as failing with no value rather than as inf.
    """
    col = {c: frame[c].to_numpy(dtype=float) for c in {i for ind in INDICATORS.values() for i in ind.inputs} | {"land_m2", "land_mu"}}
    land_m2, land_mu = col["land_m2"], col["land_mu"]
    energy, va = col["expected_energy_tce"], col["expected_value_added"]
    ok_va = va > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        values = {
            "investment_intensity": col["fixed_asset_investment"] / land_mu,
            "floor_area_ratio": (col["total_floor_area_m2"] + col["tall_floor_area_m2"]) / land_m2,
            "building_coverage": col["building_footprint_m2"] / land_m2 * 100,
            "office_living_share": col["office_living_land_m2"] / land_m2 * 100,
            "green_ratio": col["green_area_m2"] / land_m2 * 100,
            "tax_per_mu": col["expected_tax"] / land_mu,
            "revenue_per_mu": col["expected_revenue"] / land_mu,
            "energy_per_va": np.where(ok_va, energy / np.where(ok_va, va, 1.0), np.nan),
        }
    v = pd.DataFrame(values, index=frame.index)[list(INDICATORS)]
    forced = pd.DataFrame(False, index=frame.index, columns=list(INDICATORS))
    forced_energy = ~ok_va & ~np.isnan(va) & (energy > 0)
    forced["energy_per_va"] = forced_energy

    notes = {}
    for key, ind in INDICATORS.items():
        text = np.full(len(frame), "", dtype=object)
        for inp in ind.inputs:
            miss = np.isnan(col[inp])
            if miss.any():
                text = np.where(miss, np.where(text == "", inp, text + "、" + inp), text)
        hint = "（无8米以上楼层请填 0）" if key == "floor_area_ratio" else ""
        notes[key] = np.where(text == "", "", "缺少输入 " + text + hint)
    undefined = ~np.isnan(va) & ~ok_va & ~np.isnan(energy)
    notes["energy_per_va"] = np.where(forced_energy, "增加值不大于 0 而综合能耗大于 0：单位增加值能耗为无穷大，按不达标处理", notes["energy_per_va"])
    notes["energy_per_va"] = np.where(undefined & ~forced_energy, "增加值与综合能耗均为 0（或增加值为负）：单位增加值能耗无法计算", notes["energy_per_va"])
    return v, pd.DataFrame(notes, index=frame.index, dtype=object), forced


class _Column:
    """A context column factorised once, so that each rule's membership test is a table lookup."""

    def __init__(self, series: pd.Series):
        codes, uniques = pd.factorize(series.astype(object), use_na_sentinel=True)
        self.codes = codes
        self.uniques = list(uniques)
        self.known = codes >= 0

    def isin(self, allowed) -> np.ndarray:
        lut = np.array([u in allowed for u in self.uniques] + [False], dtype=bool)
        return lut[self.codes]  # code -1 (missing) reads the trailing False


def _dim_state(col: _Column, allowed: frozenset[str] | None, unknown_means_absent: bool) -> tuple[np.ndarray, np.ndarray]:
    """(definitely-false, unknown) masks of one scope dimension."""
    n = len(col.codes)
    if allowed is None:
        return np.zeros(n, bool), np.zeros(n, bool)
    ok = col.isin(allowed)
    if unknown_means_absent:
        return ~ok, np.zeros(n, bool)
    return col.known & ~ok, ~col.known


def match_rules(frame: pd.DataFrame, rules: list[Rule], bound: list[tuple[int, Rule]] | None = None, *, phase_filter: bool = True) -> pd.DataFrame:
    """Long table of (row, rule) pairs that bind or may bind; undetermined ones flagged.

    `frame` needs industry_code, industry_code_2002, use, park, district, parcel_id, phase.
    `bound` are rules tied to one row (a parcel's stored sheet, an enterprise's commitments).
    """
    n = len(frame)
    mapping = load_mapping()
    c17, c02 = _Column(frame["industry_code"]), _Column(frame["industry_code_2002"])
    has17, has02 = c17.known, c02.known
    use, phase = _Column(frame["use"]), _Column(frame["phase"])
    others = {"park": _Column(frame["park"]), "district": _Column(frame["district"]), "parcel": _Column(frame["parcel_id"])}
    pieces: list[dict] = []
    for ri, rule in enumerate(rules):
        sc = rule.scope
        false_any = np.zeros(n, bool)
        ind_unknown = np.zeros(n, bool)
        via = np.zeros(n, bool)
        if sc.industry_2002 is not None:
            ok02 = c02.isin(sc.industry_2002)
            ok17 = c17.isin(sc.industry or frozenset())
            ok = np.where(has02, ok02, ok17)
            false_any |= (has02 | has17) & ~ok
            ind_unknown = ~(has02 | has17)
            via = ~has02 & has17 & ok17
        elif sc.industry is not None:
            f, u = _dim_state(c17, sc.industry, False)
            false_any |= f
            ind_unknown = u
        f, use_unknown = _dim_state(use, sc.use, False)
        false_any |= f
        if sc.industry is not None:
            # Industry unknown but use known: a rule for industries that cannot sit on land of
            # that use (manufacturing divisions on a 仓储 parcel) does not bind.
            implied = {u for u in (mapping.use_of(c) for c in sc.industry) if u is not None}
            false_any |= ind_unknown & use.known & ~use.isin(implied)
        for dim, col in others.items():
            f, _ = _dim_state(col, getattr(sc, dim), True)
            false_any |= f
        if phase_filter:
            false_any |= ~phase.isin(rule.phases)
        keep = ~false_any
        rows = np.nonzero(keep)[0]
        if len(rows):
            pieces.append({
                "row_i": rows,
                "rule_i": np.full(len(rows), ri),
                "determined": ~(ind_unknown | use_unknown)[rows],
                "ind_unknown": ind_unknown[rows],
                "use_unknown": use_unknown[rows],
                "via_mapping": via[rows],
            })
    if bound:
        # Rules tied to single rows; the same Rule object may serve many rows (one parcel's
        # commitments, several enterprises on it), so each is described once.
        uniq: dict[int, int] = {}
        extra: list[Rule] = []
        b_rows, b_rules = [], []
        phases = frame["phase"].tolist()
        for row, rule in bound:
            if phase_filter and phases[row] not in rule.phases:
                continue
            k = uniq.get(id(rule))
            if k is None:
                k = uniq[id(rule)] = len(rules) + len(extra)
                extra.append(rule)
            b_rows.append(row)
            b_rules.append(k)
        all_rules = list(rules) + extra
        m = len(b_rows)
        if m:
            pieces.append({"row_i": np.asarray(b_rows, dtype=int), "rule_i": np.asarray(b_rules, dtype=int),
                           "determined": np.ones(m, bool), "ind_unknown": np.zeros(m, bool),
                           "use_unknown": np.zeros(m, bool), "via_mapping": np.zeros(m, bool)})
    else:
        all_rules = list(rules)
    cols = ["row_i", "rule_i", "determined", "ind_unknown", "use_unknown", "via_mapping"]
    if not pieces:
        long = pd.DataFrame({c: pd.Series(dtype=int if c in ("row_i", "rule_i") else bool) for c in cols})
    else:
        long = pd.DataFrame({c: np.concatenate([p[c] for p in pieces]) for c in cols})
    meta = pd.DataFrame({
        "rule_id": [r.id for r in all_rules],
        "rule_set": [r.rule_set for r in all_rules],
        "rule_set_name": [r.rule_set_name for r in all_rules],
        "indicator": [r.key for r in all_rules],
        "op": [r.op for r in all_rules],
        "limit": [r.limit for r in all_rules],
        "unit": [r.unit for r in all_rules],
        "source": [r.source for r in all_rules],
        "status": [r.status for r in all_rules],
        "phase": [list(r.phases) for r in all_rules],
        "scope": [r.scope.describe() for r in all_rules],
        "note": [r.note for r in all_rules],
        "slot": pd.Series([r.slot for r in all_rules], dtype=object),
        "codes_2002": ["、".join(sorted(r.scope.industry_2002)) if r.scope.industry_2002 else "" for r in all_rules],
    }, index=pd.RangeIndex(len(all_rules)))
    long = long.join(meta, on="rule_i")
    long["strict"] = np.where(long["op"] == ">=", long["limit"], -long["limit"])
    long["status_rank"] = long["status"].map(STATUS_RANK).astype(int)
    long["ind_order"] = long["indicator"].map(INDICATOR_ORDER).astype(int)
    return _collapse_undetermined(long)


def _collapse_undetermined(long: pd.DataFrame) -> pd.DataFrame:
    """One row per (row, rule set, indicator, op) for the rules a missing input leaves open."""
    det = long[long["determined"]].copy()
    und = long[~long["determined"]]
    det["bound"] = det["limit"]
    det["n_candidates"] = 1
    if und.empty:
        return det.reset_index(drop=True)
    und = und.sort_values(["row_i", "rule_set", "indicator", "op", "strict", "status_rank", "rule_i"], ascending=[True, True, True, True, False, False, True])
    keys = ["row_i", "rule_set", "indicator", "op"]
    g = und.groupby(keys, sort=False)
    first = g.head(1).set_index(keys)
    agg = g.agg(n_candidates=("rule_i", "size"), ind_unknown=("ind_unknown", "any"), use_unknown=("use_unknown", "any"))
    coll = first.drop(columns=["ind_unknown", "use_unknown"]).join(agg).reset_index()
    coll["bound"] = coll["limit"]
    coll["limit"] = np.nan
    coll["rule_id"] = np.where(coll["n_candidates"] > 1, coll["rule_id"] + "等" + coll["n_candidates"].astype(str) + "条", coll["rule_id"])
    return pd.concat([det, coll[det.columns]], ignore_index=True)


def _passes(value: np.ndarray, op: np.ndarray, limit: np.ndarray) -> np.ndarray:
    tol = TOL * np.maximum(1.0, np.abs(limit))
    return np.where(op == ">=", value >= limit - tol, value <= limit + tol)


def evaluate(frame: pd.DataFrame, long: pd.DataFrame) -> pd.DataFrame:
    """Values, decisive flags, pass and margin on the long table; one verdict column per row."""
    values, notes, forced = compute_values(frame)
    out = long.copy()
    if out.empty:
        for c in ("value", "passed", "margin", "decisive", "row_note"):
            out[c] = pd.Series(dtype=object)
        return out
    rows = out["row_i"].to_numpy()
    keys = out["indicator"].to_numpy()
    col_idx = pd.Index(values.columns).get_indexer(keys)
    val = values.to_numpy(dtype=float)[rows, col_idx]
    frc = forced.to_numpy(dtype=bool)[rows, col_idx]
    out["value"] = val
    out["row_note"] = notes.to_numpy(dtype=object)[rows, col_idx]

    # decisive: strictest determined rule per (row, indicator, op); undetermined ones if stricter
    det = out["determined"].to_numpy()
    order = out.sort_values(["row_i", "indicator", "op", "determined", "strict", "status_rank", "rule_i"], ascending=[True, True, True, False, False, True, True])
    first_det = order[order["determined"]].groupby(["row_i", "indicator", "op"]).head(1)
    decisive = np.zeros(len(out), bool)
    decisive[first_det.index.to_numpy()] = True
    best = first_det.set_index(["row_i", "indicator", "op"])["strict"]
    key_idx = pd.MultiIndex.from_arrays([out["row_i"], out["indicator"], out["op"]])
    best_for_row = best.reindex(key_idx).to_numpy()
    und_dec = ~det & (np.isnan(best_for_row) | (out["strict"].to_numpy() > best_for_row + TOL * np.maximum(1.0, np.abs(best_for_row))))
    decisive |= und_dec
    out["decisive"] = decisive

    ops = out["op"].to_numpy()
    bound = out["bound"].to_numpy(dtype=float)
    have = ~np.isnan(val)
    ok = np.zeros(len(out), bool)
    ok[have] = _passes(val[have], ops[have], bound[have])
    passed = np.where(have, ok, None).astype(object)
    passed[frc] = False
    # undetermined: true only if even the strictest candidate is met; otherwise unknown
    und_unknown = ~det & ~frc & ~(have & ok)
    passed[und_unknown] = None
    out["passed"] = passed
    limit = out["limit"].to_numpy(dtype=float)
    margin = np.where(ops == ">=", val - limit, limit - val)
    out["margin"] = np.where(np.isnan(margin), np.nan, margin)
    return out


def verdicts(frame: pd.DataFrame, evaluated: pd.DataFrame) -> pd.Series:
    """fail if any decisive row fails; else incomplete if any decisive row is unknown; else pass.

    A row with no binding rule at all gets `incomplete` (nothing was checked, so no pass).
    """
    n = len(frame)
    dec = evaluated[evaluated["decisive"]]
    p = dec["passed"]
    fail = np.zeros(n, bool)
    unknown = np.zeros(n, bool)
    any_rule = np.zeros(n, bool)
    rows = dec["row_i"].to_numpy()
    fail[rows[(p == False).to_numpy()]] = True  # noqa: E712 - object column of True/False/None
    unknown[rows[p.isna().to_numpy()]] = True
    any_rule[rows] = True
    return pd.Series(np.where(fail, "fail", np.where(unknown | ~any_rule, "incomplete", "pass")), index=frame.index)


RECORD_SORT = (["row_i", "ind_order", "op", "decisive", "determined", "strict", "status_rank", "rule_i"],
               [True, True, True, False, False, False, True, True])


def records_by_row(frame: pd.DataFrame, evaluated: pd.DataFrame) -> dict[int, list[dict]]:
    """The `indicators` list of SPEC §6 for every project row, in a stable order.

    Order: by indicator (SPEC table order), operator, deciding rows first, then stricter first.
    Columns are pulled out as plain lists once: iterating Arrow-backed frames row by row is slow.
    """
    out: dict[int, list[dict]] = {i: [] for i in range(len(frame))}
    if evaluated.empty:
        return out
    ev = evaluated.sort_values(RECORD_SORT[0], ascending=RECORD_SORT[1])
    mapping = load_mapping()
    codes = frame["industry_code"].tolist()
    lists = [ev[c].tolist() for c in _REC_COLS]
    for c in ("value", "limit", "margin"):
        arr = np.round(ev[c].to_numpy(dtype=float), 6)
        lists.append([None if not math.isfinite(x) else float(x) for x in arr])
    for t in zip(*lists):
        r = _Rec._make(t)
        out[r.row_i].append(_record(r, codes[r.row_i], mapping))
    return out


_REC_COLS = ["row_i", "indicator", "op", "unit", "source", "status", "decisive", "rule_id", "rule_set", "phase", "scope",
             "slot", "row_note", "note", "determined", "ind_unknown", "use_unknown", "n_candidates", "bound", "via_mapping",
             "codes_2002", "passed"]
_Rec = namedtuple("_Rec", _REC_COLS + ["value", "limit", "margin"])


def indicator_records(frame: pd.DataFrame, evaluated: pd.DataFrame, row: int) -> list[dict]:
    """The `indicators` list for one project row (see `records_by_row`)."""
    return records_by_row(frame, evaluated)[row]


def _record(r, code17: str | None, mapping) -> dict:
    notes = [x for x in (r.row_note, r.note) if x] if (r.row_note or r.note) else []
    if not r.determined:
        why = []
        if r.ind_unknown:
            why.append("缺少行业代码 industry_code")
        if r.use_unknown:
            why.append("用地用途未知（未给出地块，行业代码也不能确定用途）")
        cand = f"{r.n_candidates} 条按范围适用的规则" if r.n_candidates > 1 else "该规则"
        notes.insert(0, f"{'；'.join(why)}，无法确定{cand}是否适用；其中最严为 {requirement_text(r.op, r.bound, r.unit)}")
    mapping_info = None
    if r.via_mapping:
        mapping_info = {"code_2017": code17, "code_2002": r.codes_2002, "status": mapping.status, "source": mapping.source}
        notes.append(f"行业代码按对照表匹配：GB/T 4754-2017 {code17} → GB/T 4754-2002 {r.codes_2002}（对照表{'已核实' if mapping.status == 'confirmed' else '未核实'}）")
    return {
        "indicator": r.indicator,
        "name": INDICATORS[r.indicator].name,
        "value": r.value,
        "op": r.op,
        "limit": r.limit,
        "unit": r.unit,
        "pass": None if r.passed is None or r.passed != r.passed else bool(r.passed),
        "margin": r.margin,
        "source": r.source,
        "status": r.status,
        "decisive": bool(r.decisive),
        "rule_id": r.rule_id,
        "rule_set": r.rule_set,
        "phase": list(r.phase),
        "scope": r.scope,
        "slot": r.slot if isinstance(r.slot, str) else None,
        "industry_mapping": mapping_info,
        "note": "；".join(notes),
    }
