"""What the headless-Chromium tests share: Debian chromium + PyPI playwright (installed on first
use, never Playwright's own browser download), a live uvicorn in a thread, and `Watch`, which
blocks every non-local request and records what an official would see go wrong."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts" / "maps"
CHROMIUM = "/usr/bin/chromium"
WEBGL_ARGS = ("--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist")
"""WebGL without a GPU (SwiftShader, software): MapLibre GL JS needs WebGL 2."""
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]


def ensure_chromium() -> None:
    if not Path(CHROMIUM).exists():
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium", "fonts-noto-cjk"], check=True, env={"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
    try:
        import playwright  # noqa: F401
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "playwright"], check=True)


def ensure_assets() -> None:
    from maps.assets import check_assets

    try:
        check_assets()
    except Exception:
        subprocess.run(["bash", str(REPO / "scripts" / "fetch-map-assets.sh")], check=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def live_server(app) -> Iterator[str]:
    """`app` served by uvicorn on 127.0.0.1 in a thread; yields its base URL."""
    import uvicorn

    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(5)


def chromium_browser(extra_args: tuple[str, ...] = ()) -> Iterator:
    """One headless Debian chromium for a test module (a generator for module fixtures);
    `extra_args` e.g. WEBGL_ARGS for WebGL pages."""
    from playwright.sync_api import sync_playwright

    ensure_chromium()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS + list(extra_args))
        yield b
        b.close()


class Watch:
    """Blocks every non-local request and records what a person would see go wrong."""

    def __init__(self, page):
        self.blocked: list[str] = []
        self.failed: list[str] = []
        self.errors: list[str] = []
        page.route("**/*", self._route)
        page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on("requestfailed", lambda req: self.failed.append(f"{req.url[:120]} {req.failure}"))

    def _route(self, route):
        url = route.request.url
        host = urlparse(url).hostname
        if url.startswith(("data:", "blob:", "about:", "file:")) or host in ("127.0.0.1", "localhost"):
            return route.continue_()
        self.blocked.append(url[:120])
        return route.abort()

    def assert_clean(self):
        assert not self.blocked, f"non-local requests: {self.blocked[:5]}"
        assert not self.failed, f"failed requests: {self.failed[:5]}"
        assert not self.errors, f"console errors: {self.errors[:5]}"


def served_sample_maps(tmp_dir) -> Iterator[dict]:
    """A live server of the maps router over a sample-loaded GeoPackage, with an analyst key: the
    harness of the analyst maps' browser tests (supervision, intensity). Yields {base, key, store}."""
    ensure_chromium()
    ensure_assets()
    from fastapi import FastAPI

    from api import errors
    from api.auth import add_key
    from api.routers import maps
    from api.settings import Settings
    from api_support import load_sample
    from gis.store import open_store

    store = open_store(str(Path(tmp_dir) / "s.gpkg"))
    load_sample(store)
    key = add_key(store, "browser", "analyst", user="test")
    app = FastAPI()
    app.state.settings = Settings(store=store.url)
    app.state.store = store
    errors.install(app)
    app.include_router(maps.router)
    with live_server(app) as base:
        yield {"base": base, "key": key, "store": store}
    store.close()
