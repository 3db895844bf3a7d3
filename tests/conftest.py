"""Fixtures shared by the suite: both stores, each test in its own database schema or file.

PostGIS is installed and started by scripts/ensure-test-services.sh (called by `make test`);
if it is not reachable the PostGIS tests fail rather than skip, so CI never passes by skipping
half the store tests.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import psycopg
import pytest

PG_BASE = os.environ.get("LANDGIS_TEST_PG", "postgresql://postgres@127.0.0.1:5432/landgis_test")
REPO = Path(__file__).resolve().parents[1]
PLAN_TEXT = REPO / "tests" / "fixtures" / "plan" / "nanyang_hitech_14th_fyp_2021.txt"
"""The zone's 14th Five-Year Plan, the oracle of the sample-layer tests (citation in SOURCE.md beside it)."""


def pg_schema_url(schema: str) -> str:
    sep = "&" if "?" in PG_BASE else "?"
    return f"{PG_BASE}{sep}options=-csearch_path%3D{schema},public"


@pytest.fixture
def pg_url():
    """A fresh schema in the test database; dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(PG_BASE, autocommit=True)
    except psycopg.OperationalError as exc:  # pragma: no cover - environment problem
        pytest.fail(f"PostGIS is not reachable at {PG_BASE} (run scripts/ensure-test-services.sh): {exc}")
    admin.execute(f"CREATE SCHEMA {schema}")
    try:
        yield pg_schema_url(schema)
    finally:
        admin.execute(f"DROP SCHEMA {schema} CASCADE")
        admin.close()


@pytest.fixture(params=["geopackage", "postgis"])
def store_url(request, tmp_path):
    if request.param == "geopackage":
        yield str(tmp_path / "store.gpkg")
    else:
        yield request.getfixturevalue("pg_url")


@pytest.fixture
def store(store_url):
    from gis.store import open_store

    s = open_store(store_url)
    yield s
    s.close()


# --- figures the run must print (SPEC §10 / issue 9): collected from reports, so xdist works ---
_CORPUS: dict[str, bool] = {}
_LINES: dict[str, None] = {}


def pytest_runtest_logreport(report):
    for name, value in getattr(report, "user_properties", ()):
        if name == "corpus_case":
            key, ok = value
            _CORPUS[key] = bool(ok)
        elif name == "report_line":
            _LINES[str(value)] = None


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if _CORPUS:
        n, m = len(_CORPUS), sum(_CORPUS.values())
        terminalreporter.write_sep("-", "bad-input corpus")
        terminalreporter.write_line(f"bad-input corpus: {n} cases, {m} answered correctly ({100.0 * m / n:.1f} %)")
        for key, ok in sorted(_CORPUS.items()):
            if not ok:
                terminalreporter.write_line(f"  WRONG: {key}")
    if _LINES:
        terminalreporter.write_sep("-", "reliability figures")
        for line in _LINES:
            terminalreporter.write_line(line)


def pytest_sessionfinish(session, exitstatus):
    if _CORPUS and not all(_CORPUS.values()) and session.exitstatus == 0:
        session.exitstatus = 1
