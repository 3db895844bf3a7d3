"""Cross-check: the vectorized scoring against the straightforward row-wise pandas `apply` of
the same rules (the one bench/bench_scoring.py times), on seeded random enterprises."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from parcels.efficiency import score_enterprises

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_scoring.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_scoring", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("seed", [7, 8])
def test_vectorized_equals_row_wise_apply(bench, seed):
    raw = bench.synthetic(3000, seed=seed)
    policy = bench.bench_policy()
    res = score_enterprises(raw, policy)
    mine = res.results.set_index("enterprise_id")
    expected = bench.apply_scores(raw, policy, raw)
    got = mine["total_score"].reindex(raw["enterprise_id"].to_numpy()).to_numpy(dtype=float, na_value=np.nan)
    exp = expected.to_numpy(dtype=float)
    assert np.array_equal(np.isnan(got), np.isnan(exp))
    assert np.nanmax(np.abs(got - exp)) < 1e-9
    classes = bench.apply_classes(expected, raw["above_scale"], policy)
    mine_cls = mine["class"].reindex(raw["enterprise_id"].to_numpy()).astype(object).fillna("").to_numpy()
    assert (classes.astype(object).fillna("").to_numpy() == mine_cls).all()
