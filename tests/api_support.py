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


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """A real `landgis serve` subprocess on a free loopback port (the way officials run it).

    Used where only a separate process shows the fault: a crash of the native CQL2 parser, a
    frozen event loop, several workers. `alive()` says whether the process still runs and
    answers /health."""

    def __init__(self, store_url: str, *, env: dict | None = None, args: tuple[str, ...] = (), start_timeout: float = 60):
        import os
        import subprocess
        import sys
        import time

        import httpx

        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", "--store", store_url, "--port", str(self.port), *args],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **(env or {})},
        )
        deadline = time.monotonic() + start_timeout
        while not self.alive():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"landgis serve did not start (exit code {self.proc.returncode})")
            time.sleep(0.2)
        self._httpx = httpx

    def alive(self) -> bool:
        import httpx

        if self.proc.poll() is not None:
            return False
        try:
            return httpx.get(self.base + "/health", timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except Exception:  # noqa: BLE001 - a stuck server is killed, never left behind
                self.proc.kill()
                self.proc.wait(10)
