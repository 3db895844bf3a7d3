"""`score_enterprises`: the 亩均效益 evaluation of SPEC §5, vectorized end to end.

Pipeline: normalize the table → resolve land areas → per class of enterprise (规上/规下, each on
its own): decide who is scorable, benchmark each indicator over the scorable rows, score, add
加减分, rank and class → apply 调档 → assemble the SPEC §5.3 frame. Rows stay in the canonical
enterprise_id order `normalize_enterprise_table` gives them (so any permutation of the input
gives the same frame); `csv_frame()` orders them by class of enterprise and rank for reading.
There is no per-row Python in this path; loops run over the few groups, indicators and classes
only, so 1 000 000 enterprises score in well under a second.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from parcels.efficiency import report
from parcels.efficiency.adjust import apply_reclassification, bonus_points
from parcels.efficiency.classing import classify_henan2019, classify_share, classify_threshold
from parcels.efficiency.columns import (
    NORMALIZED_ATTR,
    SPECS,
    check_numbers,
    ids_strictly_increasing,
    normalize_enterprise_table,
)
from parcels.efficiency.errors import EnterpriseTableError
from parcels.efficiency.followups import annotate
from parcels.efficiency.indicators import COLUMN_LABELS_ZH, INDICATORS, LAND, benchmark, dsum, parts, ratio, values
from parcels.efficiency.land import LandResolution, resolve_land
from parcels.efficiency.policy import GROUP_LABELS_ZH, GROUPS, Policy, load_policy
from parcels.efficiency.text import join_by_key

STATUS_NAMES = ("scored", "unscorable", "not_evaluated")
STATUS_SCORED, STATUS_UNSCORABLE, STATUS_NOT_EVALUATED = 0, 1, 2


class _Flags:
    """Per-row reasons, ";"-joined, built with vectorized object-array concatenation."""

    def __init__(self, n: int) -> None:
        self.arr = np.full(n, "", dtype=object)
        self.has = np.zeros(n, dtype=bool)

    def add(self, rows, msg) -> None:
        rows = np.flatnonzero(rows) if getattr(rows, "dtype", None) == bool else np.asarray(rows, dtype=np.int64)
        if rows.size == 0:
            return
        if not isinstance(msg, str):
            msg = np.asarray(msg, dtype=object)
            if np.unique(rows).size < rows.size:  # several messages for one row in one event
                rows, msg = join_by_key(rows, msg)
        cur = self.arr[rows]
        first = ~self.has[rows]
        self.arr[rows] = np.where(first, msg, cur + ";" + msg)
        self.has[rows] = True

    def column(self):
        """The flags as a text column; built from the flagged rows only (most rows have none)."""
        import pyarrow as pa

        k = int(self.has.sum())
        idx = np.zeros(self.arr.size, dtype=np.int32)
        idx[self.has] = np.arange(1, k + 1, dtype=np.int32)
        texts = pa.array(np.concatenate((np.array([""], dtype=object), self.arr[self.has])), type=pa.string())
        return pd.array(texts.take(pa.array(idx)), dtype="str")


@dataclass
class ScoringResult:
    """The outcome of one evaluation run (SPEC §5.3). `input_hash` is set by the caller."""

    results: pd.DataFrame
    policy: Policy
    benchmarks: pd.DataFrame
    warnings: list[str]
    _extra: dict = field(repr=False, default_factory=dict)
    input_hash: str | None = None

    @property
    def policy_name(self) -> str:
        return self.policy.name

    @cached_property
    def details(self) -> pd.DataFrame:
        """`results` plus internal columns: group, status, park, district, land source, parcel
        links, 加减分 points, re-sort values, 调档 reason, the raw economic figures."""
        return report.details_frame(self)

    @property
    def links(self) -> pd.DataFrame:
        """(enterprise_id, parcel_id, area_mu): the land each enterprise uses on each parcel."""
        return self._extra["links"]

    @property
    def adjustments_applied(self) -> pd.DataFrame:
        return self._extra["applied"]

    def csv_frame(self) -> pd.DataFrame:
        return report.csv_frame(self)

    def xlsx_frames(self) -> dict[str, pd.DataFrame]:
        return report.xlsx_frames(self)

    def summary(self, by: str = "park") -> pd.DataFrame:
        return report.summary(self, by)

    def class_counts(self, by: str = "park") -> pd.DataFrame:
        return report.class_counts(self, by)


def ensure_normalized(table: pd.DataFrame) -> pd.DataFrame:
    """A normalized table in canonical order. A frame `normalize_enterprise_table` returned is
    trusted after cheap re-checks (ids still sorted and unique, numbers still valid), so an
    edited or shuffled copy is normalized again instead of slipping through."""
    if (
        isinstance(table, pd.DataFrame)
        and table.attrs.get(NORMALIZED_ATTR) == (len(table), tuple(table.columns))
        and isinstance(table.index, pd.RangeIndex)
        and ids_strictly_increasing(table["enterprise_id"])
    ):
        errors: list[dict] = []
        for key in table.columns:
            spec = SPECS.get(key)
            if spec is not None and spec.dtype in ("float", "int"):
                if table[key].dtype != np.float64:
                    return normalize_enterprise_table(table)
                check_numbers(table[key].to_numpy(), key, key, errors)
        if errors:
            raise EnterpriseTableError(f"企业表有 {len(errors)} 处错误，未作评价。", errors)
        return table
    return normalize_enterprise_table(table)


def _group_codes(t: pd.DataFrame, policy: Policy, flags: _Flags, warnings: list[str]) -> np.ndarray:
    """0 = above_scale, 1 = below_scale, -1 = unknown (unscorable)."""
    n = len(t)
    if "above_scale" not in t.columns:
        first = next((g for g in GROUPS if g in policy.groups), "above_scale")
        warnings.append(f"企业表没有“是否规上”列，全部按{GROUP_LABELS_ZH[first]}评价")
        flags.add(np.ones(n, dtype=bool), f"未提供“是否规上”，按{GROUP_LABELS_ZH[first]}评价")
        return np.full(n, GROUPS.index(first), dtype=np.int8)
    a = t["above_scale"]
    isna = a.isna().to_numpy()
    above = a.fillna(False).to_numpy(dtype=bool)
    code = np.where(above, 0, 1).astype(np.int8)
    code[isna] = -1
    return code


def score_enterprises(
    table: pd.DataFrame,
    policy: Policy | str | Path,
    parcels=None,
    adjustments: pd.DataFrame | None = None,
    previous: pd.Series | None = None,
) -> ScoringResult:
    """Score a table of enterprises under a policy (SPEC §5). See the module doc for the steps.

    `parcels`: the `industrial_parcels` layer (id, area_mu, park, district, geometry), used for
    land areas missing from the table and for per-park/district summaries. `adjustments`:
    recorded 调档 (enterprise_id, class, reason) of this year, applied after classing. `previous`:
    enterprise_id → `consecutive_low` of the previous calendar year (SPEC §5.5), when known.
    Raises EnterpriseTableError / PolicyError / AdjustmentError (ValueErrors, Chinese messages).
    """
    if not isinstance(policy, Policy):
        policy = load_policy(policy)
    table = ensure_normalized(table)
    year = table_year(table)
    run = _Run(table, policy, parcels)
    for gi, g in enumerate(GROUPS):
        run.score_group(gi, g)
    result = run.finish(parcels, adjustments)
    annotate(result.results, policy, year, previous, codes=result._extra["final"], group=run.group, names=run.class_names)
    return result


def table_year(table: pd.DataFrame) -> int | None:
    """The one evaluation year of a table (None when it has no year); several years are refused
    here: each year is benchmarked and classed on its own (`parcels.efficiency.years.score_years`)."""
    if "year" not in table.columns:
        return None
    years = pd.unique(table["year"].dropna().to_numpy(dtype=float))
    if len(years) > 1:
        raise EnterpriseTableError(
            f"企业表含 {len(years)} 个年度（{'、'.join(str(int(y)) for y in sorted(years))}），须逐年评价。",
            hint="多年度的表请用 score_years（landgis score 会自动逐年评价）。")
    if len(years) == 1 and table["year"].isna().any():
        rows = np.flatnonzero(table["year"].isna().to_numpy())
        raise EnterpriseTableError("企业表部分行缺少年度。", [
            {"row": int(r) + 1, "field": "year", "message": "年度为空，请填写评价年度"} for r in rows[:50]])
    return int(years[0]) if len(years) else None


class _Run:
    """The arrays of one evaluation, filled group by group (all in enterprise_id order)."""

    def __init__(self, t: pd.DataFrame, policy: Policy, parcels) -> None:
        self.t, self.policy = t, policy
        n = self.n = len(t)
        self.warnings: list[str] = list(t.attrs.get("warnings", [])) + list(policy.warnings)
        if policy.assumptions:
            self.warnings.append(
                f"评价政策“{policy.name}”含 {len(policy.assumptions)} 项未核实的假设，结果为暂定（见“评价说明”）")
        self.flags = _Flags(n)
        self.land: LandResolution = resolve_land(t, parcels)
        for rows, msg in self.land.notes:
            self.flags.add(rows, msg)
        self.area = self.land.area_mu
        self.cols: dict[str, np.ndarray] = {
            k: t[k].to_numpy(dtype=np.float64) for k in t.columns if k in SPECS and SPECS[k].dtype in ("float", "int")
        }
        self.cols[LAND] = self.area
        self.group = _group_codes(t, policy, self.flags, self.warnings)
        self.flags.add(self.group == -1, "缺少“是否规上”，无法确定评价类别")
        self.status = np.full(n, STATUS_UNSCORABLE, dtype=np.int8)
        self.keys = policy.indicator_keys
        self.value_cols = {k: values(*parts(INDICATORS[k], self.cols, n), INDICATORS[k].multiplier) for k in self.keys}
        self.score_cols = {k: np.full(n, np.nan) for k in self.keys}
        self.total = np.full(n, np.nan)
        self.bonus = np.zeros(n)
        self.rank = np.full(n, -1, dtype=np.int64)
        self.class_names = _all_class_names(policy)
        self.initial = np.full(n, -1, dtype=np.int32)
        self.resort: dict[str, np.ndarray] = {}
        self.bench_rows: list[dict] = []

    # -- who is in the ranking set ------------------------------------------------------------
    def eligible(self, in_g: np.ndarray, gp) -> np.ndarray:
        """Rows of the group that are scored; the others get their status and reason."""
        n, area, flags = self.n, self.area, self.flags
        bad = np.zeros(n, dtype=bool)
        if gp.needs_land:
            no_land = in_g & np.isnan(area)
            zero_land = in_g & (area == 0)
            tenant = no_land & (np.nan_to_num(self.cols.get("rented_floor_m2", np.zeros(n))) > 0)
            flags.add(tenant, "租用厂房企业，名下无工业用地，列入租赁企业名单，不参与亩均排序")
            flags.add(no_land & ~tenant, "缺少用地面积（未填写用地面积且未关联到地块），不可评价")
            flags.add(zero_land, "用地面积为0，亩均指标无法计算，不可评价")
            bad = no_land | zero_land
        small = np.zeros(n, dtype=bool)
        if gp.min_land_mu > 0:
            small = in_g & ~bad & (area < gp.min_land_mu)
            self.status[small] = STATUS_NOT_EVALUATED
            if small.any():
                msg = "用地面积 " + pd.Series(np.round(area[small], 4)).astype("str").to_numpy(dtype=object) + \
                    f" 亩，低于 {gp.min_land_mu:g} 亩，不参与评价"
                flags.add(small, msg)
        return in_g & ~bad & ~small

    # -- one indicator ------------------------------------------------------------------------
    def score_indicator(self, g: str, rule, S: np.ndarray) -> np.ndarray:
        """Item scores of the rows S; records the benchmark and flags missing/zero data."""
        d = INDICATORS[rule.key]
        num, den = parts(d, self.cols, self.n)
        ns, ds = num[S], den[S]
        have = ~(np.isnan(ns) | np.isnan(ds))
        b = benchmark(rule.benchmark, ns, ds, d.multiplier, have)
        r, zero_den, missing = ratio(ns, ds, d.multiplier, b, rule.floor, rule.cap)
        sc = rule.weight * r
        n_missing = int(missing.sum())
        fill = None
        if n_missing:
            absent = [COLUMN_LABELS_ZH.get(c, c) for c in (d.numerator, d.denominator) if c not in self.cols]
            what = f"表中缺少“{'、'.join(absent)}”列" if absent else "缺少数据"
            if absent:
                self.warnings.append(f"{GROUP_LABELS_ZH[g]}：{d.label_zh}需要的{what}")
            if rule.missing == "group_mean_score":
                n_have = int((~missing).sum())
                fill = dsum(sc[~missing]) / n_have if n_have else 0.0
                sc[missing] = fill
                self.flags.add(S[missing], f"{d.label_zh}{what}，按同组平均得分 {fill:.4f} 计")
            else:
                self.flags.add(S[missing], f"{d.label_zh}{what}，该项记0分")
        if zero_den.any():
            den_zh = COLUMN_LABELS_ZH.get(d.denominator, d.denominator)
            pos = zero_den & (ns > 0)
            self.flags.add(S[pos], f"{d.label_zh}：{den_zh}为0，按封顶值计分")
            self.flags.add(S[zero_den & ~pos], f"{d.label_zh}：{den_zh}为0，该项记0分")
        if not (np.isfinite(b) and b > 0) and have.any():
            self.warnings.append(f"{GROUP_LABELS_ZH[g]}：{d.label_zh}的基准值不为正（{b}），正值按封顶计、其余按下限计")
        self.score_cols[rule.key][S] = sc
        self.bench_rows.append({
            "group": g, "indicator": rule.key, "label_zh": d.label_zh, "unit": d.unit,
            "method": rule.benchmark if isinstance(rule.benchmark, str) else "number",
            "benchmark": b, "weight": rule.weight, "cap": rule.cap, "floor": rule.floor,
            "n_scored": int(S.size), "n_with_data": int(have.sum()), "n_zero_denominator": int(zero_den.sum()),
            "n_missing": n_missing, "missing_rule": rule.missing or "", "missing_score": fill, "status": rule.status,
        })
        return sc

    # -- one class of enterprise ----------------------------------------------------------------
    def score_group(self, gi: int, g: str) -> None:
        in_g = self.group == gi
        if not in_g.any():
            return
        gp = self.policy.groups.get(g)
        if gp is None:
            self.status[in_g] = STATUS_NOT_EVALUATED
            self.flags.add(in_g, f"本政策未定义{GROUP_LABELS_ZH[g]}评价，不评分")
            return
        scored = self.eligible(in_g, gp)
        S = np.flatnonzero(scored)
        self.status[S] = STATUS_SCORED
        tot = np.zeros(S.size)
        for rule in gp.indicators:
            tot += self.score_indicator(g, rule, S)
        if gp.bonuses:
            pts, notes = bonus_points(self.t, gp.bonuses)
            for m, msg in notes:
                self.flags.add(m & scored, msg)
            self.bonus[S] = pts[S]
            tot = tot + pts[S]
        self.total[S] = tot
        if gp.classing == "share":
            ci, rk, _ = classify_share(tot, gp.classes)
        elif gp.classing == "threshold":
            ci, rk, _ = classify_threshold(tot, gp.classes)
        else:
            n = self.n
            av = values(*parts(INDICATORS[gp.a_resort], self.cols, n), INDICATORS[gp.a_resort].multiplier)
            cv = values(*parts(INDICATORS[gp.c_resort], self.cols, n), INDICATORS[gp.c_resort].multiplier)
            self.resort.setdefault("a_resort_value", np.full(n, np.nan))[S] = av[S]
            self.resort.setdefault("c_resort_value", np.full(n, np.nan))[S] = cv[S]
            ci, rk, _ = classify_henan2019(tot, av[S], cv[S], gp)  # arrays in id order: ties by id
        self.initial[S] = np.asarray([self.class_names.index(c) for c in gp.class_names], dtype=np.int32)[ci]
        self.rank[S] = rk

    # -- 调档 and assembly ----------------------------------------------------------------------
    def finish(self, parcels, adjustments) -> ScoringResult:
        eid = self.t["enterprise_id"]
        allowed = {gi: self.policy.groups[g].class_names for gi, g in enumerate(GROUPS) if g in self.policy.groups}
        final, adj_notes, adj_warn, applied = apply_reclassification(
            eid, self.initial, self.class_names, allowed, self.group, adjustments)
        self.warnings += adj_warn
        for rows, msgs in adj_notes:
            self.flags.add(rows, msgs)
        results = report.results_frame(self.t, self.group, self.area, self.keys, self.value_cols, self.score_cols,
                                       self.total, self.rank, self.initial, final, self.class_names, self.flags.column())
        links = self.land.links
        if len(links):
            links = pd.DataFrame({"enterprise_id": eid.iloc[links["row"].to_numpy()].to_numpy(),
                                  "parcel_id": links["parcel_id"].to_numpy(), "area_mu": links["area_mu"].to_numpy()})
            links = links.sort_values(["enterprise_id", "parcel_id"]).reset_index(drop=True)
        else:
            links = pd.DataFrame({"enterprise_id": pd.Series([], dtype="str"), "parcel_id": pd.Series([], dtype="str"),
                                  "area_mu": pd.Series([], dtype=float)})
        extra = {
            "table": self.t, "group": self.group, "status": self.status, "land": self.land, "bonus": self.bonus,
            "resort": self.resort, "links": links, "applied": applied, "parcels": parcels, "final": final,
        }
        return ScoringResult(results, self.policy, pd.DataFrame(self.bench_rows), list(dict.fromkeys(self.warnings)), extra)


def _all_class_names(policy: Policy) -> list[str]:
    names: list[str] = []
    for g in GROUPS:
        if g in policy.groups:
            names += [c for c in policy.groups[g].class_names if c not in names]
    return names
