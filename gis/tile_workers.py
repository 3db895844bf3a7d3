"""GeoPackage vector tiles rendered in worker processes, so a cold tile uses every core.

Why: a GeoPackage tile is built in Python (SQLite read, WKB decode, `gis.mvt` encoding) and holds
the GIL for most of its ≈10–30 ms, so the server's threads render one tile at a time on one
core, while a PostGIS server's tiles run in several database backends at once. Here up to
LANDGIS_TILE_WORKERS (default: the number of cores, at most 4; 0 = off) child processes each
keep a read-only SQLite connection and run the tile query the store built (the store still owns
its SQL: the worker runs `gis.store.geopackage.tile_handler`, which executes it and encodes the
rows with the same code, `render_tile_rows`; named here as text, so this module, which the store
imports, imports no store).

The pool is `gis.workers.WorkerPool` (bounded wait, killed and replaced when lost, fork-safe).
In every failure — all workers busy for TILE_WAIT_S, a worker lost or overrunning
TILE_TIMEOUT_S, an error inside it (a locked or changed file) — the caller renders the tile in
its own thread, exactly as without workers: a failure costs time, never a wrong tile or an
error response. Requests travel as pickles between this process and its own children only.
"""

from __future__ import annotations

import atexit
import logging
import os

from gis.workers import PICKLE, PoolBusy, WorkerError, WorkerLost, WorkerPool, program

TILE_WORKERS = int(os.environ.get("LANDGIS_TILE_WORKERS", str(min(os.cpu_count() or 1, 4))))
TILE_TIMEOUT_S = float(os.environ.get("LANDGIS_TILE_WORKER_TIMEOUT", "20"))
TILE_WAIT_S = 10.0
_log = logging.getLogger("landgis.tiles")


class TilePool:
    """Up to `size` tile workers; `lost` and `failed` count what made a caller render itself."""

    def __init__(self, size: int):
        self.workers = WorkerPool(program("gis.store.geopackage:tile_handler", PICKLE), PICKLE, size, TILE_WAIT_S)
        self.lost = 0
        self.failed = 0

    @property
    def idle(self):
        return self.workers.idle

    def render(self, path: str, sql: str, params: list, layer: str, columns: list[str], kinds: dict[str, str], z: int, x: int, y: int) -> bytes | None:
        """The tile's bytes from a worker, or None when the caller must render it itself (no
        workers configured, all busy for TILE_WAIT_S, a worker lost or failing)."""
        try:
            return self.workers.ask((path, sql, params, layer, columns, kinds, z, x, y), TILE_TIMEOUT_S)
        except PoolBusy:
            return None
        except WorkerLost as gone:
            self.lost += 1
            _log.warning("tile worker lost (%s) on %s %d/%d/%d; replaced, tile rendered in-process", gone.reason, layer, z, x, y)
        except WorkerError as exc:
            self.failed += 1
            _log.warning("tile worker failed on %s %d/%d/%d (%s); tile rendered in-process", layer, z, x, y, exc)
        return None

    def close(self) -> None:
        self.workers.close()


POOL = TilePool(TILE_WORKERS)
atexit.register(POOL.close)
