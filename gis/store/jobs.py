"""The `landgis_jobs` table: job records every server process and host can see (SPEC §8.3).

Why in the store: with several uvicorn workers (or hosts) a poll lands on whichever process the
kernel picks, so a job kept in one process's memory is "not found" on about half the polls, and
a restart forgets it. The store is the one thing every worker already shares.

Layout (same columns on both stores; JSON as text so SQLite and PostgreSQL read it alike):

    landgis_jobs(id PK, kind, owner, status queued|running|succeeded|failed|dismissed, steps JSON list,
                 total_steps, created, finished, error JSON, worker "host:pid:start",
                 heartbeat epoch seconds by the database clock, media_type, filename, result_size,
                 role, started, updated)

`kind` is the OGC API – Processes process id; `role` the role a caller needs to see the job
(the process's); `started`/`updated` are the statusInfo times. The last three columns came with
OGC API – Processes: `ensure()` adds them to a table made before, so an upgraded store keeps its jobs.

Results: a GeoPackage is one file on one host, so a job's zip is a file under `results_dir`
(kept out of the GeoPackage so a few MB per job do not grow the file and its WAL). PostGIS may
serve several hosts, which share no disk, so the zip goes into `landgis_job_results` (bytea,
one row per job, deleted with it): status polls never read that table.

Locking: this module opens its own connections (not the store's thread-local one) so it can
bound every lock wait without changing the store's: SQLite waits at most `lock_timeout_s` for
the write lock (busy timeout), PostgreSQL sets `lock_timeout` in each write transaction. A wait
that runs out raises `JobStoreBusy` (503 problem+json), never a 500. Callers run these methods
off the event loop (they block).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path

from gis.errors import InputError

JOBS = "landgis_jobs"
RESULTS = "landgis_job_results"
ACTIVE = ("queued", "running")
_COLUMNS = ("id", "kind", "owner", "status", "steps", "total_steps", "created", "finished", "error", "worker", "heartbeat", "media_type", "filename", "result_size", "role", "started", "updated")
_ADDED = ("role", "started", "updated")
"""Text columns added after the table's first release (OGC API – Processes)."""


class JobStoreBusy(InputError):
    """503: the job table stayed locked longer than the bounded wait; the caller may retry."""

    status_code = 503


def busy(exc: Exception) -> JobStoreBusy:
    return JobStoreBusy("作业记录暂时无法读写（数据库繁忙或不可用），请稍后重试。", hint=f"{type(exc).__name__}: {str(exc)[:200]}")


def default_results_dir(store_path: str) -> Path:
    """`data/landgis.gpkg` → `data/landgis-jobs/`: next to the GeoPackage, one folder per store."""
    p = Path(store_path)
    return p.parent / f"{p.stem}-jobs"


class JobStore:
    """Job rows (and PostGIS results) in the store `url` of kind `kind` ('geopackage' | 'postgis')."""

    def __init__(self, kind: str, url: str, *, results_dir: str | Path | None = None, lock_timeout_s: float = 5.0):
        self.kind = kind
        self.url = url
        self.lock_timeout_s = float(lock_timeout_s)
        self.results_dir = None if kind == "postgis" else Path(results_dir) if results_dir else default_results_dir(url)
        self._local = threading.local()
        if kind == "postgis":
            import psycopg

            self._errors: tuple[type[BaseException], ...] = (psycopg.Error,)
            self.ph = "%s"
            self.now = "extract(epoch from clock_timestamp())"
        else:
            self._errors = (sqlite3.Error,)
            self.ph = "?"
            self.now = "((julianday('now') - 2440587.5) * 86400.0)"

    @classmethod
    def for_store(cls, store, **kw) -> JobStore:
        return cls(store.kind, store.url, **kw)

    # --- connections ----------------------------------------------------------------------
    def _connect(self):
        if self.kind == "postgis":
            import psycopg

            return psycopg.connect(self.url, autocommit=True, application_name="landgis-jobs", connect_timeout=10)
        conn = sqlite3.connect(self.url, timeout=self.lock_timeout_s, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {int(self.lock_timeout_s * 1000)}")
        return conn

    def _conn(self):
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
        return conn

    def _drop_conn(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - a broken connection may fail to close; it is dropped either way
                pass

    def close(self) -> None:
        self._drop_conn()

    def _sql(self, sql: str) -> str:
        return sql.replace("?", self.ph).replace("NOW()", self.now)

    @contextmanager
    def _write(self):
        """One write transaction with a bounded lock wait; driver errors become JobStoreBusy."""
        try:
            conn = self._conn()
            if self.kind == "postgis":
                with conn.transaction(), conn.cursor() as cur:
                    cur.execute(f"SET LOCAL lock_timeout = '{int(self.lock_timeout_s * 1000)}ms'")
                    yield cur
            else:
                cur = conn.cursor()
                cur.execute(f"PRAGMA busy_timeout = {int(self.lock_timeout_s * 1000)}")
                cur.execute("BEGIN IMMEDIATE")
                try:
                    yield cur
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                else:
                    conn.execute("COMMIT")
                finally:
                    cur.close()
        except self._errors as exc:
            self._drop_conn()
            raise busy(exc) from exc

    def _read(self, sql: str, params=()) -> list[tuple]:
        try:
            cur = self._conn().cursor()
            try:
                cur.execute(self._sql(sql), params)
                return cur.fetchall()
            finally:
                cur.close()
        except self._errors as exc:
            self._drop_conn()
            raise busy(exc) from exc

    # --- set-up ---------------------------------------------------------------------------
    def ensure(self) -> None:
        """Create the tables if absent (idempotent; concurrent starts serialise on a lock)."""
        with self._write() as cur:
            if self.kind == "postgis":
                # Two workers running CREATE TABLE IF NOT EXISTS at once can still collide on the
                # catalog; a transaction-scoped advisory lock makes the second one wait and no-op.
                cur.execute("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.landgis_jobs'))")
                real, blob = "double precision", "bytea"
            else:
                real, blob = "REAL", "BLOB"
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS {JOBS} (id TEXT PRIMARY KEY, kind TEXT NOT NULL, owner TEXT, status TEXT NOT NULL, "
                "steps TEXT NOT NULL DEFAULT '[]', total_steps INTEGER NOT NULL, created TEXT NOT NULL, finished TEXT, error TEXT, "
                f"worker TEXT, heartbeat {real}, media_type TEXT, filename TEXT, result_size INTEGER)"
            )
            cur.execute(f"CREATE INDEX IF NOT EXISTS {JOBS}_status ON {JOBS} (status, finished)")
            if self.kind == "postgis":
                for col in _ADDED:
                    cur.execute(f"ALTER TABLE {JOBS} ADD COLUMN IF NOT EXISTS {col} TEXT")
            else:
                have = {r[1] for r in cur.execute(f"PRAGMA table_info({JOBS})").fetchall()}
                for col in _ADDED:
                    if col not in have:
                        cur.execute(f"ALTER TABLE {JOBS} ADD COLUMN {col} TEXT")
            if self.kind == "postgis":
                cur.execute(f"CREATE TABLE IF NOT EXISTS {RESULTS} (id TEXT PRIMARY KEY REFERENCES {JOBS}(id) ON DELETE CASCADE, data {blob} NOT NULL)")
            elif cur.execute("SELECT 1 FROM sqlite_master WHERE name = 'gpkg_contents'").fetchone():
                # A GeoPackage lists its non-spatial tables in gpkg_contents (as landgis does for
                # its other bookkeeping tables), so GDAL/QGIS see a valid file.
                cur.execute(
                    "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description) VALUES (?, 'attributes', ?, ?)",
                    (JOBS, JOBS, "landgis bookkeeping"),
                )

    # --- rows -----------------------------------------------------------------------------
    def insert(self, *, id: str, kind: str, owner: str | None, total_steps: int, created: str, worker: str, role: str | None = None) -> None:
        with self._write() as cur:
            cur.execute(
                self._sql(
                    f"INSERT INTO {JOBS} (id, kind, owner, status, steps, total_steps, created, worker, heartbeat, role, updated) "
                    "VALUES (?, ?, ?, 'queued', '[]', ?, ?, ?, NOW(), ?, ?)"
                ),
                (id, kind, owner, total_steps, created, worker, role, created),
            )

    def progress(self, job_id: str, *, status: str, steps: list[str], at: str | None = None) -> bool:
        """Status and the whole step list (only the running thread writes them), heartbeat now.

        False when the job is no longer active (dismissed, or failed by an orphan sweep): the
        worker stops at its next step instead of computing a result nobody will keep."""
        with self._write() as cur:
            cur.execute(
                self._sql(
                    f"UPDATE {JOBS} SET status = ?, steps = ?, heartbeat = NOW(), started = COALESCE(started, ?), updated = COALESCE(?, updated) "
                    "WHERE id = ? AND status IN ('queued', 'running')"
                ),
                (status, json.dumps(steps, ensure_ascii=False), at, at, job_id),
            )
            return (cur.rowcount or 0) > 0

    def heartbeat(self, job_ids: list[str]) -> None:
        if not job_ids:
            return
        marks = ", ".join("?" for _ in job_ids)
        with self._write() as cur:
            cur.execute(self._sql(f"UPDATE {JOBS} SET heartbeat = NOW() WHERE id IN ({marks}) AND status IN ('queued', 'running')"), list(job_ids))

    def succeed(self, job_id: str, *, steps: list[str], finished: str, data: bytes, media_type: str, filename: str) -> bool:
        """Store the result and mark the job succeeded, unless it is no longer active (an orphan
        sweep gave up on it meanwhile: then the result is dropped and False returned)."""
        path = None
        if self.results_dir is not None:
            self.results_dir.mkdir(parents=True, exist_ok=True)
            path = self.result_path(job_id)
            tmp = self.results_dir / f".{job_id}.part"
            tmp.write_bytes(data)
            tmp.replace(path)  # the file is whole before any row points to it
        try:
            with self._write() as cur:
                cur.execute(
                    self._sql(
                        f"UPDATE {JOBS} SET status = 'succeeded', steps = ?, finished = ?, updated = finished, media_type = ?, filename = ?, result_size = ?, "
                        "heartbeat = NOW() WHERE id = ? AND status IN ('queued', 'running')"
                    ),
                    (json.dumps(steps, ensure_ascii=False), finished, media_type, filename, len(data), job_id),
                )
                done = (cur.rowcount or 0) > 0
                if done and path is None:
                    cur.execute(self._sql(f"INSERT INTO {RESULTS} (id, data) VALUES (?, ?)"), (job_id, data))
        except BaseException:
            if path is not None:
                path.unlink(missing_ok=True)
            raise
        if not done and path is not None:
            path.unlink(missing_ok=True)
        return done

    def fail(self, job_id: str, *, steps: list[str] | None, finished: str, error: dict, only_if: tuple[str | None, float | None] | None = None) -> bool:
        """Mark a job failed. `only_if=(worker, heartbeat)`: only if it is still active and still
        shows exactly what the caller read (so a live worker's later progress wins the race)."""
        sets = "status = 'failed', finished = ?, updated = finished, error = ?"
        params: list = [finished, json.dumps(error, ensure_ascii=False)]
        if steps is not None:
            sets += ", steps = ?"
            params.append(json.dumps(steps, ensure_ascii=False))
        where = "id = ?"
        params.append(job_id)
        if only_if is not None:
            worker, beat = only_if
            where += " AND status IN ('queued', 'running') AND worker = ? AND heartbeat = ?"
            params += [worker, beat]
        with self._write() as cur:
            cur.execute(self._sql(f"UPDATE {JOBS} SET {sets} WHERE {where}"), params)
            return (cur.rowcount or 0) > 0

    def get(self, job_id: str) -> dict | None:
        """The row as a dict (steps/error decoded) plus `age`: seconds since its heartbeat."""
        cols = ", ".join(_COLUMNS)
        rows = self._read(f"SELECT {cols}, NOW() - heartbeat FROM {JOBS} WHERE id = ?", (job_id,))
        if not rows:
            return None
        return self._row(rows[0])

    @staticmethod
    def _row(r: tuple) -> dict:
        row = dict(zip(_COLUMNS, r[: len(_COLUMNS)]))
        row["steps"] = json.loads(row["steps"] or "[]")
        row["error"] = json.loads(row["error"]) if row["error"] else None
        row["age"] = r[len(_COLUMNS)]
        return row

    def dismiss(self, job_id: str, *, at: str) -> bool:
        """Mark a job dismissed and delete its result (OGC API – Processes, dismiss). A running
        job's worker sees the change at its next step and stops; False if there is no such job."""
        with self._write() as cur:
            cur.execute(
                self._sql(f"UPDATE {JOBS} SET status = 'dismissed', finished = COALESCE(finished, ?), updated = ?, result_size = NULL WHERE id = ?"),
                (at, at, job_id),
            )
            found = (cur.rowcount or 0) > 0
            if found and self.results_dir is None:
                cur.execute(self._sql(f"DELETE FROM {RESULTS} WHERE id = ?"), (job_id,))
        if found and self.results_dir is not None:
            self.result_path(job_id).unlink(missing_ok=True)
        return found

    def recent(self, limit: int, *, roles: tuple[str, ...] | None = None) -> list[dict]:
        """The newest `limit` jobs (for `GET /jobs`), only those whose role is in `roles` when given
        (a job without a role, from before OGC API – Processes, counts as `analyst`)."""
        cols = ", ".join(_COLUMNS)
        where, params = "", []
        if roles is not None:
            marks = ", ".join("?" for _ in roles)
            where = f"WHERE COALESCE(role, 'analyst') IN ({marks})"
            params = list(roles)
        rows = self._read(f"SELECT {cols}, NOW() - heartbeat FROM {JOBS} {where} ORDER BY created DESC, id DESC LIMIT {int(limit)}", params)
        return [self._row(r) for r in rows]

    def active(self) -> list[dict]:
        """Every queued or running job (for the start-up sweep of orphans)."""
        ids = [r[0] for r in self._read(f"SELECT id FROM {JOBS} WHERE status IN ('queued', 'running')")]
        return [row for row in (self.get(i) for i in ids) if row is not None]

    # --- results --------------------------------------------------------------------------
    def result_path(self, job_id: str) -> Path:
        assert self.results_dir is not None
        return self.results_dir / f"{job_id}.result"

    def read_result(self, job_id: str) -> bytes | None:
        if self.results_dir is not None:
            try:
                return self.result_path(job_id).read_bytes()
            except FileNotFoundError:
                return None
        rows = self._read(f"SELECT data FROM {RESULTS} WHERE id = ?", (job_id,))
        return bytes(rows[0][0]) if rows else None

    def prune(self, keep: int) -> list[str]:
        """Delete all but the `keep` newest finished jobs, with their results; returns their ids."""
        with self._write() as cur:
            cur.execute(self._sql(f"SELECT id FROM {JOBS} WHERE finished IS NOT NULL ORDER BY finished DESC, id DESC"))
            old = [r[0] for r in cur.fetchall()[max(keep, 0):]]
            for start in range(0, len(old), 500):
                chunk = old[start : start + 500]
                marks = ", ".join("?" for _ in chunk)
                if self.results_dir is None:
                    cur.execute(self._sql(f"DELETE FROM {RESULTS} WHERE id IN ({marks})"), chunk)
                cur.execute(self._sql(f"DELETE FROM {JOBS} WHERE id IN ({marks})"), chunk)
        if self.results_dir is not None:
            for job_id in old:  # a kill mid-write may have left the .part beside it
                self.result_path(job_id).unlink(missing_ok=True)
                (self.results_dir / f".{job_id}.part").unlink(missing_ok=True)
        return old
