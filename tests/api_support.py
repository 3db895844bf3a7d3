"""Shared set-up of the API tests: one sample-loaded store per kind, per test module, and keys.

Not a test module (no `test_` prefix): imported by tests/test_api_*.py.
"""

from __future__ import annotations

import functools
import uuid

import psycopg

from conftest import PG_BASE, pg_schema_url


@functools.lru_cache(maxsize=1)
def prepared_sample() -> dict:
    from parcels.layers import prepare_features
    from parcels.sample import sample_layers

    return {name: prepare_features(name, gdf)[0] for name, gdf in sample_layers().items()}


def load_sample(store) -> None:
    from parcels.schema import LAYERS

    for name, ready in prepared_sample().items():
        store.import_features(name, ready, mode="replace", user="test", geometry_type=LAYERS[name].geometry_type, title=LAYERS[name].title_zh)


class PgSchema:
    """A throw-away schema in the test database (module-scoped fixtures cannot use `pg_url`)."""

    def __init__(self):
        self.schema = f"t_{uuid.uuid4().hex[:12]}"
        self.admin = psycopg.connect(PG_BASE, autocommit=True)
        self.admin.execute(f"CREATE SCHEMA {self.schema}")
        self.url = pg_schema_url(self.schema)

    def drop(self) -> None:
        self.admin.execute(f"DROP SCHEMA {self.schema} CASCADE")
        self.admin.close()


def make_store(kind: str, tmp_dir):
    from gis.store import open_store

    if kind == "geopackage":
        return open_store(str(tmp_dir / "api.gpkg")), None
    pg = PgSchema()
    return open_store(pg.url), pg


def sample_api(kind: str, tmp_dir):
    """A sample-loaded store, an app client and analyst/admin keys; a generator for module fixtures."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.auth import add_key
    from api.settings import Settings

    store, pg = make_store(kind, tmp_dir)
    load_sample(store)
    keys = {"analyst": add_key(store, "ana", "analyst", user="test"), "admin": add_key(store, "adm", "admin", user="test")}
    client = TestClient(create_app(Settings(store=store.url), store=store))
    try:
        yield store, client, keys
    finally:
        store.close()
        if pg:
            pg.drop()
