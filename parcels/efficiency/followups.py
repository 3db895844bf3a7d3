"""What follows a class (SPEC §5.5): the year, `consecutive_low` and the 差别化措施 of each row.

Why apart from the scoring: classing decides one year; what an enterprise faces depends on the
years before it too (山东 raises the power price 0.05/0.10/0.15 元/千瓦时 for 1/2/3+ years in D,
DOMAIN §9), so these columns are filled from this year's classes and the previous year's
`consecutive_low`, whichever run that came from.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from parcels.efficiency.policy import GROUPS, Policy

FOLLOWUP_COLUMNS = ("year", "consecutive_low", "measures")


def lowest_classes(policy: Policy) -> dict[str, str]:
    """The lowest class of each class of enterprise the policy defines (C in Henan, D in Zhejiang)."""
    return {g: gp.class_names[-1] for g, gp in policy.groups.items() if gp.class_names}


def row_groups(results: pd.DataFrame) -> np.ndarray:
    """"above_scale" / "below_scale" / "" per result row (from its above_scale column)."""
    a = results["above_scale"]
    out = np.where(a.fillna(False).to_numpy(dtype=bool), GROUPS[0], GROUPS[1]).astype(object)
    out[a.isna().to_numpy()] = ""
    return out


def low_mask(results: pd.DataFrame, policy: Policy) -> np.ndarray:
    """Rows classed (after 调档) in the lowest class of their class of enterprise."""
    low = lowest_classes(policy)
    groups = row_groups(results)
    cls = results["class"].astype(object).where(results["class"].notna(), None).to_numpy()
    want = np.asarray([low.get(g) for g in groups], dtype=object)
    return np.asarray([c is not None and c == w for c, w in zip(cls, want)], dtype=bool)


def consecutive_low(results: pd.DataFrame, policy: Policy, previous: pd.Series | None) -> np.ndarray:
    """Consecutive evaluated years up to this one in the lowest class: 0 when not low this year,
    else 1 + the previous calendar year's count (`previous`: enterprise_id → count; an enterprise
    the previous year did not evaluate, or no previous year at all, starts at 1)."""
    low = low_mask(results, policy)
    before = np.zeros(len(results), dtype=np.int64)
    if previous is not None and len(previous):
        prev = previous[~previous.index.duplicated(keep="last")]
        before = prev.reindex(results["enterprise_id"].astype(str).to_numpy()).fillna(0).to_numpy(dtype=np.int64)
    return np.where(low, before + 1, 0).astype(np.int64)


def measures_text(results: pd.DataFrame, policy: Policy, counts: np.ndarray) -> pd.Series:
    """The measures each row faces, ";"-joined (empty when none). A measure of the lowest class
    counts `consecutive_low` years; of another class, the one year evaluated."""
    n = len(results)
    if not policy.measures or n == 0:
        return pd.Series(pd.array([""] * n, dtype="str"))
    low = lowest_classes(policy)
    groups = row_groups(results)
    cls = results["class"].astype(object).where(results["class"].notna(), None).to_numpy()
    texts = []
    for i in range(n):  # rows × a handful of measures; the per-row text is what officials read
        c, g = cls[i], groups[i]
        if c is None:
            texts.append("")
            continue
        years = int(counts[i]) if c == low.get(g) else 1
        hit = [m.text() for m in policy.measures
               if m.cls == c and (not m.group or m.group == g) and years >= m.min_years
               and (m.max_years is None or years <= m.max_years)]
        texts.append(";".join(hit))
    return pd.Series(pd.array(texts, dtype="str"))


def annotate(results: pd.DataFrame, policy: Policy, year: int | None, previous: pd.Series | None = None) -> pd.DataFrame:
    """`results` with the SPEC §5.5 columns (year, consecutive_low, measures) set in place."""
    counts = consecutive_low(results, policy, previous)
    scored = results["class"].notna().to_numpy()
    results["year"] = pd.array([year] * len(results), dtype="Int64")
    results["consecutive_low"] = pd.arrays.IntegerArray(counts, ~scored)
    results["measures"] = measures_text(results, policy, counts).to_numpy()
    results["measures"] = results["measures"].astype("str")
    return results
