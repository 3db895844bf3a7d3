"""The indicator catalogue of SPEC §5.2 and the vectorized maths of one indicator.

Every indicator is a ratio numerator / denominator (× a multiplier), so one code path serves all
of them: the value, the benchmark ("mean" = Σ numerator / Σ denominator of the set, "median" of
the defined values, or a number) and the item score weight × clip(value / benchmark, floor, cap).
The table arrives sorted by enterprise_id (`columns.canonical_order`), so plain sums are taken
in one canonical order and the same enterprises in any input order give bit-identical
benchmarks, hence identical totals, ranks and classes (SPEC §5.2 determinism).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from parcels import vocabulary

LAND = "land_area_mu"


@dataclass(frozen=True)
class IndicatorDef:
    """How an indicator is computed; what it is called comes from parcels/vocabulary.py."""

    key: str
    numerator: str
    denominator: str
    multiplier: float = 1.0

    @property
    def label_zh(self) -> str:
        return vocabulary.label(self.key)

    @property
    def unit(self) -> str:
        return vocabulary.unit(self.key)

    @property
    def per_mu(self) -> bool:
        """Per-mu indicators make a row without (or with zero) land unscorable."""
        return self.denominator == LAND

    @property
    def header_zh(self) -> str:
        return vocabulary.label_with_unit(self.key)


INDICATORS: dict[str, IndicatorDef] = {
    d.key: d
    for d in (
        IndicatorDef("tax_per_mu", "tax", LAND),
        IndicatorDef("va_per_mu", "value_added", LAND),
        IndicatorDef("revenue_per_mu", "revenue", LAND),
        IndicatorDef("va_per_energy", "value_added", "energy_tce"),
        IndicatorDef("va_per_emission", "value_added", "emission_eq"),
        IndicatorDef("labor_productivity", "value_added", "employees"),
        IndicatorDef("rd_intensity", "rd_expense", "revenue", 100.0),
        IndicatorDef("profit_per_mu", "profit", LAND),
        IndicatorDef("revenue_per_energy", "revenue", "energy_tce"),
        IndicatorDef("output_per_energy", "output_value", "energy_tce"),
        IndicatorDef("tax_per_electricity", "tax", "electricity"),
    )
}


COLUMN_LABELS_ZH: Mapping[str, str] = vocabulary.Labels(
    ("tax", "revenue", "value_added", "energy_tce", "emission_eq", "employees", "rd_expense", "profit", "electricity", LAND)
)
"""Bare names of the columns the indicators divide (实缴税收, 用地面积, …), for messages."""


def dsum(x: np.ndarray) -> float:
    """Sum in the canonical (enterprise_id) row order the arrays are in."""
    return float(np.sum(x)) if x.size else 0.0


def parts(ind: IndicatorDef, columns: dict[str, np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
    """(numerator, denominator) arrays; a column absent from the table is all-NaN (missing)."""
    nan = None

    def get(name: str) -> np.ndarray:
        nonlocal nan
        col = columns.get(name)
        if col is None:
            if nan is None:
                nan = np.full(n, np.nan)
            return nan
        return col

    return get(ind.numerator), get(ind.denominator)


def values(num: np.ndarray, den: np.ndarray, multiplier: float = 1.0) -> np.ndarray:
    """Indicator values; NaN where a datum is missing or the denominator is zero (undefined)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        v = num / den
    if multiplier != 1.0:
        v = v * multiplier
    v[~np.isfinite(v)] = np.nan
    return v


def benchmark(method: str | float, num: np.ndarray, den: np.ndarray, multiplier: float, have: np.ndarray) -> float:
    """Benchmark of one indicator over the rows `have` (scorable rows with both data).

    "mean" is the aggregate ratio Σ num / Σ den of the set (zero-denominator rows included, as
    SPEC §5.2 defines it); "median" is the median of the defined values (mean of the two middle
    ones for an even count); a number is used as given. NaN when undefined (empty set, Σ den 0).
    """
    if not isinstance(method, str):
        return float(method)
    if method == "mean":
        all_have = bool(have.all())
        sd = dsum(den if all_have else den[have])
        if sd == 0 or not np.isfinite(sd):
            return float("nan")
        return dsum(num if all_have else num[have]) / sd * multiplier
    if method == "median":
        d = den[have]
        ok = d != 0
        if not ok.any():
            return float("nan")
        v = num[have][ok] / d[ok] * multiplier
        return float(np.median(v))
    raise ValueError(method)  # policy validation makes this unreachable


def ratio(
    num: np.ndarray, den: np.ndarray, multiplier: float, bench: float, floor: float, cap: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """clip(value / benchmark, floor, cap) for rows with both data.

    Returns (ratio, zero_den, missing): where the denominator is zero the ratio is `cap` if the
    numerator is positive, else 0 (SPEC §5.2); where the benchmark itself is not positive (a
    group whose Σ is 0 or negative) the ratio is `cap` for a positive value and `floor` otherwise,
    so no row ever gets inf or NaN. `missing` rows get 0 here; the caller decides their score.
    """
    missing = np.isnan(num) | np.isnan(den)
    zero_den = ~missing & (den == 0)
    normal = ~missing & ~zero_den
    with np.errstate(divide="ignore", invalid="ignore"):
        value = num / den * multiplier if multiplier != 1.0 else num / den
        if np.isfinite(bench) and bench > 0:
            r = np.clip(value / bench, floor, cap)
        else:
            r = np.where(value > 0, cap, floor)
    r = np.where(normal, r, 0.0)
    r[zero_den & (num > 0)] = cap
    return r, zero_den, missing
