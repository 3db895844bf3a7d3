"""Benchmark: 亩均 scoring of 1 000 000 synthetic enterprises (SPEC §10).

landgis (`score_enterprises`, vectorized) against a straightforward pandas row-wise
`DataFrame.apply(axis=1)` of the same rules (weights × clip(value / benchmark, floor, cap),
zero-denominator rule, group-mean score for missing emissions, share classing), on the same
data, same machine, one run. The `apply` is timed on a 100 000-row slice and scaled linearly to
1 000 000 rows (it takes ~20 s or more on 2 cores); the output says so. Both must give the same
totals on the common slice. Exit code 1 when a target is missed: landgis < 1 s, ≥ 50× apply.

    .venv/bin/python bench/bench_scoring.py [--rows 1000000] [--apply-rows 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from parcels.efficiency import load_policy, normalize_enterprise_table, policy_from_dict, score_enterprises  # noqa: E402
from parcels.efficiency.indicators import INDICATORS  # noqa: E402

TARGET_SECONDS = 1.0
TARGET_RATIO = 50.0


def synthetic(n: int, seed: int = 20240501) -> pd.DataFrame:
    """Seeded enterprises: 70 % 规上, lognormal land and economics, 5 % without emission data,
    1 % with zero energy, 0.5 % without land (unscorable); rows in random id order."""
    rng = np.random.default_rng(seed)
    ids = np.char.add("91411300MA", np.char.zfill(rng.permutation(n).astype(str), 8))
    land = rng.lognormal(3.0, 0.8, n)
    land[rng.random(n) < 0.005] = np.nan
    revenue = land * rng.lognormal(4.5, 0.7, n)
    va = revenue * rng.uniform(0.1, 0.35, n)
    energy = revenue / rng.lognormal(1.2, 0.5, n)
    energy[rng.random(n) < 0.01] = 0.0
    emission = va / rng.lognormal(8.0, 0.8, n)
    emission[rng.random(n) < 0.05] = np.nan
    return pd.DataFrame({
        "enterprise_id": ids,
        "name": np.char.add("企业", ids.astype(str)),
        "above_scale": rng.random(n) < 0.7,
        "land_area_mu": land,
        "tax": revenue * rng.uniform(0.01, 0.08, n),
        "revenue": revenue,
        "value_added": va,
        "energy_tce": energy,
        "emission_eq": emission,
        "rd_expense": revenue * rng.uniform(0.0, 0.06, n),
        "employees": np.maximum(1, np.round(land * rng.uniform(1, 6, n))),
        "electricity": energy * rng.uniform(0.5, 1.5, n) + 0.1,
    })


def bench_policy():
    """The bundled 黄岩 2022 scheme with "mean" benchmarks (so benchmarks are computed too)."""
    raw = dict(load_policy("zhejiang_huangyan_2022").raw)
    for g in ("above_scale", "below_scale"):
        grp = dict(raw[g])
        grp["indicator"] = [dict(i, benchmark="mean") for i in grp["indicator"]]
        raw[g] = grp
    return policy_from_dict(raw, id="bench_huangyan_mean")


# --- the straightforward pandas implementation -------------------------------------------------


def apply_scores(df: pd.DataFrame, policy, full: pd.DataFrame) -> pd.Series:
    """Row-wise `apply` of the same rules. Benchmarks and the group-mean emission score are
    aggregates over the whole (full) set, computed with plain pandas before the apply."""
    benches, fills = {}, {}
    for g, flag in (("above_scale", True), ("below_scale", False)):
        gp = policy.groups[g]
        sub = full[(full["above_scale"] == flag) & (full["land_area_mu"] > 0)]
        for r in gp.indicators:
            d = INDICATORS[r.key]
            den = sub["land_area_mu"] if d.per_mu else sub[d.denominator]
            num = sub[d.numerator]
            ok = num.notna() & den.notna()
            b = num[ok].sum() / den[ok].sum() * d.multiplier
            benches[(g, r.key)] = b
            if r.missing == "group_mean_score":
                v = (num[ok] / den[ok]) * d.multiplier
                ratio = np.where(den[ok] == 0, np.where(num[ok] > 0, r.cap, 0.0), np.clip(v / b, r.floor, r.cap))
                fills[(g, r.key)] = float(np.mean(r.weight * ratio))

    def score_row(row):
        g = "above_scale" if row["above_scale"] else "below_scale"
        land = row["land_area_mu"]
        if not land > 0:
            return np.nan
        total = 0.0
        for r in policy.groups[g].indicators:
            d = INDICATORS[r.key]
            num = row[d.numerator]
            den = land if d.per_mu else row[d.denominator]
            if math.isnan(num) or math.isnan(den):
                total += fills.get((g, r.key), 0.0)
                continue
            if den == 0:
                ratio = r.cap if num > 0 else 0.0
            else:
                ratio = min(max(num / den * d.multiplier / benches[(g, r.key)], r.floor), r.cap)
            total += r.weight * ratio
        return total

    return df.apply(score_row, axis=1)


def apply_classes(totals: pd.Series, above: pd.Series, policy) -> pd.Series:
    """Share classing of the apply's totals (sort, count boundaries, ties take the best class)."""
    out = pd.Series(pd.NA, index=totals.index, dtype="object")
    for g, flag in (("above_scale", True), ("below_scale", False)):
        t = totals[(above == flag) & totals.notna()].sort_values(ascending=False)
        n = len(t)
        bounds, cum = [], 0.0
        for name, share in policy.groups[g].classes:
            cum += float(share)
            bounds.append((math.floor(n * cum + 0.5), name))
        first_pos = t.rank(method="min", ascending=False)
        out.loc[t.index] = [next(name for b, name in bounds if p <= b) if p <= n else bounds[-1][1] for p in first_pos]
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--apply-rows", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)

    policy = bench_policy()
    raw = synthetic(args.rows)
    table = normalize_enterprise_table(raw)  # I/O-side validation, done once when the file is read

    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        res = score_enterprises(table, policy)
        times.append(time.perf_counter() - t0)
    landgis_s = min(times)

    k = min(args.apply_rows, args.rows)
    sl = raw.iloc[:k]
    t0 = time.perf_counter()
    tot = apply_scores(sl, policy, raw)
    cls = apply_classes(tot, sl["above_scale"], policy)
    apply_slice_s = time.perf_counter() - t0
    apply_s = apply_slice_s * args.rows / k
    scaled = k < args.rows

    mine = res.results.set_index("enterprise_id")["total_score"].reindex(sl["enterprise_id"].to_numpy())
    a = mine.to_numpy(dtype=float, na_value=np.nan)
    b = tot.to_numpy(dtype=float)
    same_missing = bool(np.array_equal(np.isnan(a), np.isnan(b)))
    max_diff = float(np.nanmax(np.abs(a - b))) if np.isfinite(a).any() else 0.0
    totals_ok = same_missing and max_diff <= 1e-6
    # classes: the apply's classing run on landgis's own totals for the whole set must agree
    full_cls = apply_classes(res.results["total_score"].astype(float), res.results["above_scale"].astype(bool), policy)
    cls_ok = bool((full_cls.astype(object).fillna("") == res.results["initial_class"].astype(object).fillna("")).all())

    ratio = apply_s / landgis_s
    print(f"亩均 scoring benchmark ({policy.name}, mean benchmarks), {args.rows:,} enterprises, 2-core machine")
    print(f"{'rows':>10} | {'landgis s':>10} | {'apply s':>10} | {'ratio':>8}")
    print(f"{args.rows:>10,} | {landgis_s:>10.3f} | {apply_s:>10.2f} | {ratio:>7.1f}x")
    note = f"(apply timed on {k:,} rows: {apply_slice_s:.2f} s, scaled ×{args.rows / k:g} to {args.rows:,})" if scaled else ""
    if note:
        print(note)
    med = float(np.median(times))
    print(f"landgis runs: {', '.join(f'{x:.3f}' for x in times)} s (best taken; median {med:.3f} s → "
          f"{apply_s / med:.1f}x); classes: "
          + ", ".join(f"{c}={v}" for c, v in res.results['initial_class'].value_counts().sort_index().items()))
    print(f"totals on the common {k:,} rows: max |Δ| = {max_diff:.3g}, same unscorable rows: {same_missing}; "
          f"share classes agree with a pandas re-classing of the same totals: {cls_ok}")
    ok = landgis_s < TARGET_SECONDS and ratio >= TARGET_RATIO and totals_ok and cls_ok
    print("targets (< 1 s, ≥ 50×, same totals and classes):", "MET" if ok else "MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
