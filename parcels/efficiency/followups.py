"""What follows a class (SPEC §5.5): the year, `consecutive_low` and the 差别化措施 of each row.

Why apart from the classing: classing decides one year; what an enterprise faces depends on the
years before it too (山东 raises the power price 0.05/0.10/0.15 元/千瓦时 for 1/2/3+ years in D,
DOMAIN §9), so these columns are filled from this year's classes and the previous year's
`consecutive_low`, whichever run that came from. Everything works on the run's integer class and
group codes: a loop over the policy's few measures, none over rows (1 000 000 rows in ~0.1 s).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from parcels.efficiency.policy import GROUPS, Policy


def lowest_classes(policy: Policy) -> dict[str, str]:
    """The lowest class of each class of enterprise the policy defines (C in Henan, D in Zhejiang)."""
    return {g: gp.class_names[-1] for g, gp in policy.groups.items() if gp.class_names}


def low_codes(codes: np.ndarray, group: np.ndarray, names: list[str], policy: Policy) -> np.ndarray:
    """Rows whose final class (a code into `names`, -1 = none) is the lowest of their group
    (a code into GROUPS, -1 = unknown)."""
    lowest = np.full(len(GROUPS) + 1, -2, dtype=np.int64)  # index -1 (unknown group) stays -2
    for g, c in lowest_classes(policy).items():
        lowest[GROUPS.index(g)] = names.index(c)
    return (codes >= 0) & (codes == lowest[group])


def consecutive_counts(low: np.ndarray, ids: pd.Series, previous: pd.Series | None) -> np.ndarray:
    """Consecutive evaluated years up to this one in the lowest class: 0 when not low this year,
    else 1 + the previous calendar year's count (`previous`: enterprise_id → count; an enterprise
    the previous year did not evaluate, or no previous year at all, starts at 1)."""
    before = np.zeros(len(low), dtype=np.int64)
    if previous is not None and len(previous):
        prev = previous[~previous.index.duplicated(keep="last")]
        before = prev.reindex(ids.astype(str).to_numpy()).fillna(0).to_numpy(dtype=np.int64)
    return np.where(low, before + 1, 0).astype(np.int64)


def measures_column(codes: np.ndarray, group: np.ndarray, names: list[str], low: np.ndarray, counts: np.ndarray,
                    policy: Policy) -> pd.Series:
    """The measures each row faces, ";"-joined ("" when none). A measure of the lowest class counts
    `consecutive_low` years; of another class, the one year evaluated. Rows are keyed by the set of
    measures that hit them (a bit mask), so the texts are built once per distinct set."""
    n = len(codes)
    combo = np.zeros(n, dtype=np.int64)
    years = np.where(low, counts, 1)
    for i, m in enumerate(policy.measures):
        if m.cls not in names:
            continue
        hit = (codes == names.index(m.cls)) & (years >= m.min_years)
        if m.max_years is not None:
            hit &= years <= m.max_years
        if m.group:
            hit &= group == GROUPS.index(m.group)
        combo |= hit.astype(np.int64) << i
    if len(policy.measures) <= 20:  # a lookup table over the few possible sets: no sort of n rows
        keys = np.flatnonzero(np.bincount(combo, minlength=1))
        lut = np.zeros(int(keys[-1]) + 1, dtype=np.int64)
        lut[keys] = np.arange(keys.size)
        inverse = lut[combo]
    else:
        keys, inverse = np.unique(combo, return_inverse=True)
    texts = [";".join(m.text() for i, m in enumerate(policy.measures) if k >> i & 1) for k in keys.tolist()]
    arr = pa.DictionaryArray.from_arrays(pa.array(inverse.astype(np.int32)), pa.array(texts, pa.string()))
    return pd.Series(pd.array(arr.cast(pa.string()), dtype="str"))


def annotate(results: pd.DataFrame, policy: Policy, year: int | None, previous: pd.Series | None, *,
             codes: np.ndarray, group: np.ndarray, names: list[str]) -> pd.DataFrame:
    """`results` with the SPEC §5.5 columns (year, consecutive_low, measures) set in place."""
    n = len(results)
    low = low_codes(codes, group, names, policy)
    counts = consecutive_counts(low, results["enterprise_id"], previous)
    results["year"] = pd.arrays.IntegerArray(np.full(n, year or 0, dtype=np.int64), np.full(n, year is None))
    results["consecutive_low"] = pd.arrays.IntegerArray(counts, np.zeros(n, dtype=bool))  # an int on every row (SPEC §5.5): 0 when not classed
    results["measures"] = measures_column(codes, group, names, low, counts, policy).set_axis(results.index)
    return results
