"""A table of several years (SPEC §5.5): each year benchmarked, classed and adjusted on its own.

Why one `score_enterprises` per year rather than one ranking over all rows: a benchmark is the
year's zone mean and a class is a share of the year's ranking; mixing 2023 and 2024 would rank a
firm against its own previous year. Years are scored oldest first so each year's
`consecutive_low` continues the one before (from this table or from `history`, the stored runs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from parcels.efficiency.columns import NORMALIZED_ATTR
from parcels.efficiency.policy import Policy, load_policy
from parcels.efficiency.scoring import ScoringResult, ensure_normalized, score_enterprises


def adjustments_for(adjustments: pd.DataFrame | None, year: int | None, policy: Policy) -> pd.DataFrame | None:
    """The 调档 records that apply to one year under one policy (SPEC §5.5): the record's year is
    this year, and it names no policy or this one (by id or name); a policy's own record wins over
    one for every policy. Records without a year apply to no year (README: 调档记录的年度)."""
    if adjustments is None or len(adjustments) == 0:
        return None
    a = pd.DataFrame(adjustments)
    if "year" not in a.columns or year is None:
        return a.iloc[0:0]
    y = pd.to_numeric(a["year"], errors="coerce").astype("float64")  # NA → NaN: a missing year matches no year
    pol = a["policy"].astype(object).where(a["policy"].notna(), "") if "policy" in a.columns else pd.Series("", index=a.index)
    pol = pol.astype(str).str.strip()
    mine = (y == year) & pol.isin(["", "*", policy.id, policy.name])
    out = a[mine.to_numpy()].assign(_specific=(pol[mine] != "").to_numpy() & (pol[mine] != "*").to_numpy())
    out = out.sort_values("_specific", kind="stable").drop(columns="_specific")
    return out


def foreign_classes(adjustments: pd.DataFrame | None, policy: Policy) -> tuple[pd.DataFrame | None, list[str]]:
    """Records for every policy whose class this policy does not have (a D under Henan's A/B/C):
    left out with a warning, so one bureau decision cannot stop another policy's run."""
    if adjustments is None or not len(adjustments) or not getattr(policy, "groups", None):
        return adjustments, []
    names = {c for gp in policy.groups.values() for c in gp.class_names}
    cls = adjustments["class"].astype(str).str.strip().str.upper()
    bad = ~cls.isin(names)
    warn = [f"企业 {e} 的调档（{c} 类，适用于所有评价办法）不是本政策的等级，未应用"
            for e, c in zip(adjustments.loc[bad, "enterprise_id"], cls[bad])]
    return adjustments[~bad], warn


@dataclass
class YearlyResult:
    """The runs of a table of one or several years, oldest first; reads like one ScoringResult
    (results, csv_frame, xlsx_frames) with a `year` column, and `latest` is the newest year."""

    by_year: dict[int | None, ScoringResult]
    policy: Policy
    input_hash: str | None = None
    run_ids: dict = field(default_factory=dict)
    extra_warnings: list = field(default_factory=list)

    @property
    def years(self) -> list:
        return list(self.by_year)

    @property
    def latest(self) -> ScoringResult:
        return self.by_year[self.years[-1]]

    @property
    def policy_name(self) -> str:
        return self.policy.name

    @property
    def warnings(self) -> list[str]:
        out: list[str] = []
        for y, r in self.by_year.items():
            out += [w if len(self.by_year) == 1 or y is None else f"{y} 年度：{w}" for w in r.warnings]
        return list(dict.fromkeys(out + list(self.extra_warnings)))

    @property
    def results(self) -> pd.DataFrame:
        return pd.concat([r.results for r in self.by_year.values()], ignore_index=True)

    @property
    def links(self) -> pd.DataFrame:
        return self.latest.links

    @property
    def benchmarks(self) -> pd.DataFrame:
        return pd.concat([r.benchmarks.assign(year=y) for y, r in self.by_year.items()], ignore_index=True)

    def csv_frame(self) -> pd.DataFrame:
        return pd.concat([r.csv_frame() for r in reversed(self.by_year.values())], ignore_index=True)

    def xlsx_frames(self) -> dict[str, pd.DataFrame]:
        """One workbook: the latest year's sheets, the results of every year, the measures."""
        from parcels.efficiency.report import measures_sheet, xlsx_frames

        sheets = xlsx_frames(self.latest)
        if len(self.by_year) > 1:
            head = next(iter(sheets))
            every = [xlsx_frames(r)[head] for r in reversed(self.by_year.values())]
            sheets = {f"{head}（各年度）": pd.concat(every, ignore_index=True), **sheets}
        sheets["差别化措施"] = measures_sheet(self.policy)
        return sheets

    def class_counts(self, by: str = "park") -> pd.DataFrame:
        return self.latest.class_counts(by)

    def summary(self, by: str = "park") -> pd.DataFrame:
        return self.latest.summary(by)


def score_years(
    table: pd.DataFrame,
    policy: Policy | str | Path,
    parcels=None,
    adjustments: pd.DataFrame | None = None,
    history: pd.DataFrame | None = None,
) -> YearlyResult:
    """Score each year of `table` alone. `adjustments`: 调档 records (enterprise_id, class, reason,
    year, policy); `history`: (enterprise_id, year, consecutive_low) of years already evaluated
    and stored, so a one-year table still counts the years before it."""
    if not isinstance(policy, Policy):
        policy = load_policy(policy)
    t = ensure_normalized(table)
    if "year" in t.columns and t["year"].notna().any():
        if t["year"].isna().any():
            from parcels.efficiency.errors import EnterpriseTableError

            rows = np.flatnonzero(t["year"].isna().to_numpy())
            raise EnterpriseTableError("企业表部分行缺少年度。", [
                {"row": None, "field": "year", "message": f"企业“{t['enterprise_id'].iloc[r]}”的年度为空，请填写评价年度"}
                for r in rows[:50]])
        years: list = sorted(int(y) for y in pd.unique(t["year"].to_numpy(dtype=float)))
    else:
        years = [None]
    done: dict = {}
    counts: dict = {}
    for y in years:
        sub = t if y is None else t[t["year"].to_numpy(dtype=float) == y].reset_index(drop=True)
        sub.attrs = {NORMALIZED_ATTR: (len(sub), tuple(sub.columns)), "warnings": list(t.attrs.get("warnings", []))}
        previous = None
        if y is not None:
            previous = counts.get(y - 1)
            if previous is None and history is not None and len(history):
                h = history[pd.to_numeric(history["year"], errors="coerce") == y - 1]
                previous = pd.Series(pd.to_numeric(h["consecutive_low"], errors="coerce").fillna(0).to_numpy(dtype=np.int64),
                                     index=h["enterprise_id"].astype(str).to_numpy())
        adj, warn = foreign_classes(adjustments_for(adjustments, y, policy), policy)
        res = score_enterprises(sub, policy, parcels=parcels, adjustments=adj, previous=previous)
        res.warnings += warn
        done[y] = res
        r = res.results
        counts[y] = pd.Series(r["consecutive_low"].fillna(0).to_numpy(dtype=np.int64), index=r["enterprise_id"].astype(str).to_numpy())
    return YearlyResult(done, policy)


def overlay_adjustments(table: pd.DataFrame, adjustments: pd.DataFrame, year, policy_id: str, policy_name: str,
                        classes: set[str] | None = None) -> tuple[pd.DataFrame, int]:
    """A stored run's rows with the 调档 recorded for its year and policy (SPEC §5.5): the stored
    `initial_class` stays, `class` becomes the recorded one (a map or a profile opened after
    `landgis adjust` shows the decision without re-scoring anything). `classes`: the classes of the
    run's policy (when known). Returns (rows, how many changed)."""
    from types import SimpleNamespace

    adj = adjustments_for(adjustments, year, SimpleNamespace(id=policy_id, name=policy_name))
    if adj is None or not len(adj) or "class" not in table.columns:
        return table, 0
    if classes:  # a record for every policy whose class this run's policy lacks is not applied
        adj = adj[adj["class"].astype(str).str.strip().str.upper().isin(classes)]
    last = adj.drop_duplicates("enterprise_id", keep="last").set_index("enterprise_id")
    out = table.copy()
    ids = out["enterprise_id"].astype(str)
    new = ids.map(last["class"])
    classed = out["initial_class"].notna() if "initial_class" in out.columns else out["class"].notna()
    change = new.notna() & classed & (new.astype(object) != out["class"].astype(object))
    out["class"] = out["class"].astype(object).where(~change, new)
    if "flags" in out.columns:
        why = ids.map(last["reason"])
        note = ("调档（运行后登记）：" + new.astype(str) + "，理由：" + why.astype(str))
        old = out["flags"].astype(object).fillna("").astype(str)
        out["flags"] = old.where(~change, (old + ";" + note).str.lstrip(";"))
    # What follows from the class was counted with the run's class: unknown until the year is
    # scored again (the next `landgis score` of that year applies the record and counts anew).
    if "consecutive_low" in out.columns:
        out["consecutive_low"] = out["consecutive_low"].astype(object).where(~change, None)
    if "measures" in out.columns:
        out["measures"] = out["measures"].astype(object).where(~change, "调档后待重新评价本年度")
    return out, int(change.sum())
