"""GeoPackage vector tiles rendered in worker processes, so a cold tile uses every core.

Why: a GeoPackage tile is built in Python (SQLite read, WKB decode, `gis.mvt` encoding) and holds
the GIL for most of its ≈25–35 ms, so the server's threads render one tile at a time on one
core, while a PostGIS server's tiles run in several database backends at once. Here up to
LANDGIS_TILE_WORKERS (default: the number of cores, at most 4; 0 = off) child processes each
keep a read-only SQLite connection and run the tile query the store built (the store still owns
its SQL: the worker only executes it and encodes the rows with the same code,
`gis.store.geopackage.render_tile_rows`).

Bounded and crash-safe, like the CQL2 parser workers (gis/store/cql2.py): a request waits at most
TILE_WAIT_S for a free worker; a worker that dies, answers garbage or overruns TILE_TIMEOUT_S is
killed and replaced by the next request; an error inside a worker (a locked or changed file) is
reported back. In every such case the caller renders the tile in its own thread, exactly as
without workers — a failure costs time, never a wrong tile or an error response. Re-created after
a fork (a child must not share its parent's pipes). Requests travel as pickles between this
process and its own children only.
"""

from __future__ import annotations

import atexit
import logging
import os
import pickle
import select
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable

TILE_WORKERS = int(os.environ.get("LANDGIS_TILE_WORKERS", str(min(os.cpu_count() or 1, 4))))
TILE_TIMEOUT_S = float(os.environ.get("LANDGIS_TILE_WORKER_TIMEOUT", "20"))
TILE_WAIT_S = 10.0
_ROOT = str(Path(__file__).resolve().parents[1])
_WORKER = f"import sys; sys.path.insert(0, {_ROOT!r}); from gis.store.geopackage import render_tile_rows; from gis.tile_workers import serve; serve(render_tile_rows)"
"""The worker's program. It hands `serve` the store's renderer, so this module needs no import of the
store (which imports this module: no cycle)."""
_log = logging.getLogger("landgis.tiles")


class _WorkerGone(Exception):
    """The worker died, answered garbage or overran TILE_TIMEOUT_S."""


def _frame(obj) -> bytes:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    return struct.pack(">I", len(data)) + data


class _TileProcess:
    """One child process speaking length-prefixed pickles over its stdin/stdout."""

    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, "-c", _WORKER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0)
        self.buf = b""

    def _read(self, n: int, deadline: float) -> bytes:
        fd = self.proc.stdout.fileno()
        while len(self.buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise _WorkerGone("timeout")
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, max(1 << 16, n - len(self.buf)))
                if not chunk:
                    raise _WorkerGone("crash")
                self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def ask(self, request: tuple, timeout: float):
        deadline = time.monotonic() + timeout
        try:
            self.proc.stdin.write(_frame(request))
        except OSError as exc:
            raise _WorkerGone("crash") from exc
        (n,) = struct.unpack(">I", self._read(4, deadline))
        try:
            return pickle.loads(self._read(n, deadline))
        except Exception as exc:  # noqa: BLE001 — anything unreadable is a lost worker
            raise _WorkerGone("garbled") from exc

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass


class TilePool:
    """Up to `size` tile worker processes, started on demand and reused."""

    def __init__(self, size: int):
        self.size = size
        self.idle: list[_TileProcess] = []
        self.lock = threading.Lock()
        self.slots = threading.BoundedSemaphore(max(size, 1))
        self.pid = os.getpid()
        self.lost = 0
        self.failed = 0

    def render(self, path: str, sql: str, params: list, layer: str, columns: list[str], kinds: dict[str, str], z: int, x: int, y: int) -> bytes | None:
        """The tile's bytes from a worker, or None when the caller must render it itself (no
        workers configured, all busy for TILE_WAIT_S, a worker lost or failing)."""
        if self.size <= 0 or not self.slots.acquire(timeout=TILE_WAIT_S):
            return None
        try:
            with self.lock:
                if self.pid != os.getpid():
                    self.idle, self.pid = [], os.getpid()
                worker = self.idle.pop() if self.idle else None
            if worker is None or worker.proc.poll() is not None:
                worker = _TileProcess()
            try:
                status, payload = worker.ask((path, sql, params, layer, columns, kinds, z, x, y), TILE_TIMEOUT_S)
            except _WorkerGone as gone:
                worker.close()
                self.lost += 1
                _log.warning("tile worker lost (%s) on %s %d/%d/%d; replaced, tile rendered in-process", gone, layer, z, x, y)
                return None
            with self.lock:
                self.idle.append(worker)
            if status != "ok":
                self.failed += 1
                _log.warning("tile worker failed on %s %d/%d/%d (%s); tile rendered in-process", layer, z, x, y, payload)
                return None
            return payload
        finally:
            self.slots.release()

    def close(self) -> None:
        with self.lock:
            idle, self.idle = self.idle, []
        for w in idle:
            w.close()


POOL = TilePool(TILE_WORKERS)
atexit.register(POOL.close)


# --------------------------------------------------------------------------------------------
# the worker side


def _read_exact(stream, n: int) -> bytes | None:
    out = b""
    while len(out) < n:
        chunk = stream.read(n - len(out))
        if not chunk:
            return None
        out += chunk
    return out


def serve(render_tile_rows: Callable[..., bytes]) -> None:
    """Worker main loop: (path, sql, params, layer, columns, kinds, z, x, y) → ("ok", bytes) or
    ("error", text). One read-only SQLite connection per GeoPackage file, kept."""
    import sqlite3
    from urllib.parse import quote

    conns: dict[str, sqlite3.Connection] = {}
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        head = _read_exact(stdin, 4)
        if head is None:
            return
        body = _read_exact(stdin, struct.unpack(">I", head)[0])
        if body is None:
            return
        try:
            path, sql, params, layer, columns, kinds, z, x, y = pickle.loads(body)
            conn = conns.get(path)
            if conn is None:
                conn = conns[path] = sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True, timeout=5)
                conn.execute("PRAGMA busy_timeout = 5000")
            rows = conn.execute(sql, params).fetchall()
            answer = ("ok", render_tile_rows(rows, layer, columns, kinds, z, x, y))
        except Exception as exc:  # noqa: BLE001 — reported to the parent, which renders itself
            answer = ("error", f"{type(exc).__name__}: {exc}")
        stdout.write(_frame(answer))
        stdout.flush()
