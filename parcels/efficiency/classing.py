"""Ranking and classing of one group's scorable rows (SPEC §5.2), vectorized and exact.

Counts are computed with exact fractions (floor(n × 0.7 + 0.5) must not become 3 instead of 4
because 0.2 + 0.5 is 0.69999… in binary), and totals that differ by at most 1e-9 are one tie
cluster: they share the rank and class of the best-ranked among them. Row order never matters:
clusters do not depend on it, and where an order inside a tie could matter (a henan2019 cut that
falls inside a run of equal re-sort values and totals) the run is ordered by enterprise_id:
by the `ids` callback when given, else by position, the scoring path's arrays being in
enterprise_id order already.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction

import numpy as np

from parcels.efficiency.policy import GroupPolicy

TOL = 1e-9

IdsGetter = Callable[[np.ndarray], np.ndarray]
"""Given positions into the group's arrays, return their enterprise_id strings."""


def exact_count(n: int, share: Fraction) -> int:
    """floor(n × share + 0.5) in exact arithmetic."""
    return math.floor(n * share + Fraction(1, 2))


def _clusters(sorted_vals: np.ndarray, relative: bool = False) -> np.ndarray:
    """Cluster ids (0, 1, …) along values sorted ascending; a new cluster starts where the gap
    to the previous value exceeds the tolerance (1e-9; × max(1, |v|) when `relative`)."""
    if sorted_vals.size == 0:
        return np.zeros(0, dtype=np.int64)
    with np.errstate(invalid="ignore"):
        gap = sorted_vals[1:] - sorted_vals[:-1]
        tol = TOL
        if relative:
            mag = np.maximum(np.abs(sorted_vals[1:]), np.abs(sorted_vals[:-1]))
            tol = TOL * np.maximum(1.0, np.where(np.isfinite(mag), mag, 1.0))
        new = gap > tol  # NaN gaps (inf - inf) are not new clusters
    return np.concatenate(([0], np.cumsum(new)))


def rank_order(total: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(order, cluster, rank): order sorts by total descending; cluster[i] and rank[i] are those
    of sorted position i (competition rank: tied rows share the best position)."""
    order = np.argsort(-total)  # order inside exact ties is irrelevant: ties share rank and class
    cl = _clusters(-total[order])
    starts = np.flatnonzero(np.r_[True, cl[1:] != cl[:-1]]) if cl.size else np.zeros(0, dtype=np.int64)
    rank = starts[cl] + 1
    return order, cl, rank


def classify_share(
    total: np.ndarray, classes: tuple[tuple[str, Fraction], ...]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Class index (into `classes`), rank per row, and the order by total descending. Boundaries at floor(n × cumulative share +
    0.5) in the order given; tied totals take the class of the best-ranked among them."""
    n = total.size
    order, cl, rank = rank_order(total)
    cum = Fraction(0)
    bounds = []
    for _, share in classes:
        cum += share
        bounds.append(exact_count(n, cum))
    bounds[-1] = n  # shares sum to 1 (validated to 1e-6): the last class closes the ranking
    pos_class = np.searchsorted(np.asarray(bounds), rank, side="left")  # class of each tie's first position
    out_cls = np.empty(n, dtype=np.int64)
    out_rank = np.empty(n, dtype=np.int64)
    out_cls[order] = pos_class
    out_rank[order] = rank
    return out_cls, out_rank, order


def classify_threshold(
    total: np.ndarray, classes: tuple[tuple[str, Fraction], ...]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """total ≥ first threshold → first class, …, else the default class (index len(classes))."""
    thr = np.asarray([float(v) for _, v in classes])
    cls = (total[:, None] < thr[None, :] - TOL).sum(axis=1) if thr.size else np.zeros(total.size, dtype=np.int64)
    order, _, rank = rank_order(total)
    out_rank = np.empty(total.size, dtype=np.int64)
    out_rank[order] = rank
    return cls.astype(np.int64), out_rank, order


def _pick_first(
    idx: np.ndarray, key: np.ndarray, total_cluster: np.ndarray, k: int, ids: IdsGetter | None
) -> np.ndarray:
    """The first k of `idx` ordered by `key` ascending (ties within 1e-9 relative), then by total
    descending (total_cluster ascending), then enterprise_id ascending."""
    if k <= 0 or idx.size == 0:
        return np.zeros(0, dtype=np.int64)
    if k >= idx.size:
        return idx
    kv = key[idx]
    o1 = np.argsort(kv)
    kcl = np.empty(idx.size, dtype=np.int64)
    kcl[o1] = _clusters(kv[o1], relative=True)
    o = np.lexsort((total_cluster[idx], kcl))
    sidx = idx[o]
    skey = kcl[o] * (int(total_cluster.max()) + 1 if total_cluster.size else 1) + total_cluster[sidx]
    boundary = skey[k - 1]
    if skey[k] != boundary or ids is None:  # lexsort is stable: ties stay in position (= id) order
        return sidx[:k]
    run = np.flatnonzero(skey == boundary)  # contiguous: the run the cut falls into
    s = int(run[0])
    run_rows = sidx[run]
    by_id = run_rows[np.argsort(ids(run_rows), kind="stable")]
    return np.concatenate((sidx[:s], by_id[: k - s]))


def classify_henan2019(
    total: np.ndarray, a_value: np.ndarray, c_value: np.ndarray, rule: GroupPolicy, ids: IdsGetter | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Henan 2019 A/B/C (DOMAIN §1.4): class index 0=A, 1=B, 2=C, rank, order by total.

    A: from the top pool (floor(n × a_pool + 0.5) by rank, plus rows tied with its last row),
    re-sorted by a_value descending, the first floor(n × A + 0.5). C: from the bottom pool (rows
    tied with its best row join it), A rows excluded, re-sorted by c_value ascending, the first
    floor(n × C + 0.5). An undefined re-sort value (NaN: zero denominator or no data) sorts as
    the best: first for A, last for C. Re-sort ties: total descending, then enterprise_id.
    """
    n = total.size
    order, cl, rank = rank_order(total)
    row_cluster = np.empty(n, dtype=np.int64)
    row_cluster[order] = cl
    out_rank = np.empty(n, dtype=np.int64)
    out_rank[order] = rank
    cls = np.ones(n, dtype=np.int64)
    if n == 0:
        return cls, out_rank, order
    shares = dict(rule.classes)
    pa = exact_count(n, rule.a_pool)
    ka = exact_count(n, shares.get("A", Fraction(0)))
    picked_a = np.zeros(0, dtype=np.int64)
    if pa >= 1 and ka >= 1:
        pool = np.flatnonzero(row_cluster <= cl[pa - 1])
        key = np.where(np.isnan(a_value), -np.inf, -a_value)
        picked_a = _pick_first(pool, key, row_cluster, ka, ids)
        cls[picked_a] = 0
    pc = exact_count(n, rule.c_pool)
    kc = exact_count(n, shares.get("C", Fraction(0)))
    if pc >= 1 and kc >= 1:
        in_pool = row_cluster >= cl[n - pc]
        in_pool[picked_a] = False
        pool = np.flatnonzero(in_pool)
        key = np.where(np.isnan(c_value), np.inf, c_value)
        picked_c = _pick_first(pool, key, row_cluster, kc, ids)
        cls[picked_c] = 2
    return cls, out_rank, order
