"""Adjustments after the indicator scores: 加减分 items and 调档 (manual class changes).

Two different things officials do, kept apart on purpose:
- 加减分 (`[[<class>.adjustment]]` in the policy): points added to the total before classing,
  for flags such as a high-tech firm or an environmental violation, read from the `flags` input
  column ("high_tech;listed"). When the table has no `flags` column, a boolean column named
  like the flag (e.g. `high_tech` = 是) sets it.
- 调档: an official moves an enterprise to another class by hand, with a reason. Applied after
  classing; the output keeps `initial_class` and `class`, and the reason goes into `flags`.
  Records are passed again on every rerun, so they persist; a record for an enterprise that is no
  longer in the table is reported as a warning, not an error.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from parcels.efficiency.columns import norm_header
from parcels.efficiency.errors import AdjustmentError
from parcels.efficiency.policy import BonusRule

_SEP = r"[;；,，、\s]"

ADJUSTMENT_HEADERS = {
    "enterprise_id": ("enterprise_id", "统一社会信用代码", "企业编号", "统一社会信用代码/企业编号"),
    "class": ("class", "调档后等级", "等级", "调整后等级"),
    "reason": ("reason", "理由", "调档理由", "原因"),
}


def flag_mask(table: pd.DataFrame, rule: BonusRule) -> np.ndarray:
    """Rows that carry the rule's flag (see the module doc for where flags come from)."""
    n = len(table)
    if "flags" in table.columns:
        names = [rule.flag] + ([rule.label] if rule.label else [])
        pat = "(?:^|" + _SEP + ")(?:" + "|".join(re.escape(x) for x in names) + ")(?:$|" + _SEP + ")"
        return table["flags"].astype("str").str.contains(pat, regex=True, na=False).to_numpy(dtype=bool)
    if rule.flag in table.columns:
        col = table[rule.flag]
        if pd.api.types.is_bool_dtype(col.dtype):
            return col.fillna(False).to_numpy(dtype=bool)
        from parcels.efficiency.columns import TRUE_WORDS

        return col.astype("str").str.strip().str.lower().isin(TRUE_WORDS).fillna(False).to_numpy(dtype=bool)
    return np.zeros(n, dtype=bool)


def bonus_points(table: pd.DataFrame, rules: tuple[BonusRule, ...]) -> tuple[np.ndarray, list[tuple[np.ndarray, str]]]:
    """Σ points per row, and (rows, note) pairs for the flags column of the output."""
    n = len(table)
    pts = np.zeros(n)
    notes: list[tuple[np.ndarray, str]] = []
    for r in rules:
        m = flag_mask(table, r)
        if m.any():
            pts[m] += r.points
            sign = "加分" if r.points >= 0 else "减分"
            notes.append((m, f"{sign}：{r.label or r.flag} {r.points:+g}"))
    return pts, notes


def normalize_adjustments(adjustments: pd.DataFrame | None) -> pd.DataFrame:
    """Validated 调档 records (enterprise_id, class, reason); the last record of an id wins."""
    empty = pd.DataFrame({"enterprise_id": pd.Series([], dtype="str"), "class": pd.Series([], dtype="str"),
                          "reason": pd.Series([], dtype="str")})
    if adjustments is None or len(adjustments) == 0:
        return empty
    if not isinstance(adjustments, pd.DataFrame):
        adjustments = pd.DataFrame(adjustments)
    lookup = {norm_header(a): key for key, names in ADJUSTMENT_HEADERS.items() for a in names}
    rename = {}
    for c in adjustments.columns:
        k = lookup.get(norm_header(c))
        if k and k not in rename.values():
            rename[c] = k
    adj = adjustments.rename(columns=rename)
    missing = [k for k in ADJUSTMENT_HEADERS if k not in adj.columns]
    if missing:
        raise AdjustmentError(
            "调档记录缺少必需的列。",
            [{"row": None, "field": k, "message": f"缺少列 {k}（{ADJUSTMENT_HEADERS[k][1]}）"} for k in missing],
            hint="调档记录须有 enterprise_id（企业编号）、class（调档后等级）、reason（理由）三列。",
        )
    adj = adj[["enterprise_id", "class", "reason"]].reset_index(drop=True).astype(object)
    errors = []
    for i, (eid, cls, why) in enumerate(adj.itertuples(index=False, name=None), start=1):  # small table
        if eid is None or (isinstance(eid, float) and np.isnan(eid)) or not str(eid).strip():
            errors.append({"row": i, "field": "enterprise_id", "message": "企业编号为空"})
        if cls is None or (isinstance(cls, float) and np.isnan(cls)) or not str(cls).strip():
            errors.append({"row": i, "field": "class", "message": "调档后等级为空"})
        if why is None or (isinstance(why, float) and np.isnan(why)) or not str(why).strip():
            errors.append({"row": i, "field": "reason", "message": "调档必须填写理由"})
    if errors:
        raise AdjustmentError(f"调档记录有 {len(errors)} 处错误。", errors, hint="每条调档记录须有企业编号、调档后等级和理由。")
    out = pd.DataFrame({
        "enterprise_id": adj["enterprise_id"].map(lambda x: str(x).strip()).astype("str"),
        "class": adj["class"].map(lambda x: str(x).strip().upper()).astype("str"),
        "reason": adj["reason"].map(lambda x: str(x).strip()).astype("str"),
    })
    return out.drop_duplicates("enterprise_id", keep="last").reset_index(drop=True)


def apply_reclassification(
    ids: pd.Series,
    initial: np.ndarray,
    names: list[str],
    allowed: dict[int, list[str]],
    group_code: np.ndarray,
    adjustments: pd.DataFrame | None,
) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]], list[str], pd.DataFrame]:
    """Final class codes after 调档. Returns (codes, notes, warnings, applied records).

    `initial` holds codes into `names` (-1 = not classed); `allowed` maps a group code to the
    classes its policy knows. An adjustment to a class the policy does not define is refused
    (AdjustmentError); one for an unclassed row is not applied and is reported as a warning.
    """
    final = initial.copy()
    adj = normalize_adjustments(adjustments)
    notes: list[tuple[np.ndarray, np.ndarray]] = []
    warnings: list[str] = []
    empty = adj.assign(initial_class=pd.Series([], dtype="str"))
    if adj.empty:
        return final, notes, warnings, empty
    pos = pd.Series(np.arange(len(ids)), index=pd.Index(ids.astype("str").to_numpy()))
    hit = pos.reindex(adj["enterprise_id"].to_numpy())
    found = hit.notna().to_numpy()
    for eid in adj.loc[~found, "enterprise_id"].tolist():
        warnings.append(f"调档记录中的企业 {eid} 不在本次企业表中，未应用")
    adj_f = adj[found].reset_index(drop=True)
    rows = hit[found].to_numpy(dtype=np.int64)
    errors = []
    ok = np.ones(len(rows), dtype=bool)
    for j, (r, cls) in enumerate(zip(rows.tolist(), adj_f["class"].tolist())):  # one per record
        g = int(group_code[r])
        if initial[r] < 0:
            ok[j] = False
            warnings.append(f"企业 {adj_f['enterprise_id'][j]} 未参与评价（不可评价或不在评价范围），调档未应用")
            continue
        if cls not in allowed.get(g, []):
            errors.append({"row": j + 1, "field": "class",
                           "message": f"企业 {adj_f['enterprise_id'][j]} 的调档后等级“{cls}”不是本政策的等级"
                                      f"（可选：{'、'.join(allowed.get(g, []))}）"})
    if errors:
        raise AdjustmentError(f"调档记录有 {len(errors)} 处错误。", errors)
    rows, adj_f = rows[ok], adj_f[ok].reset_index(drop=True)
    if not rows.size:
        return final, notes, warnings, empty
    before = np.asarray(names, dtype=object)[initial[rows]]
    final[rows] = [names.index(c) for c in adj_f["class"].tolist()]
    msgs = ("调档：" + pd.Series(before, dtype="str") + "→" + adj_f["class"] + "，理由：" + adj_f["reason"]).to_numpy(dtype=object)
    notes.append((rows, msgs))
    return final, notes, warnings, adj_f.assign(initial_class=pd.array(before, dtype="str"))
