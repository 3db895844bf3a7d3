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
SEED_DIR = REPO.parent / "shared" / "seed"


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
