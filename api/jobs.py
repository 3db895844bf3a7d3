"""Long work as jobs with progress (SPEC §8.3): start, poll `GET /jobs/{id}`, fetch the result.

A job runs on a small bounded thread pool inside the process that accepted it (no broker: the
work takes seconds to minutes), but its record lives in the store (`gis/store/jobs.py`): with
`landgis serve --workers N` a poll reaches any worker, and a restart keeps finished jobs and
their results. Each job records its steps, so an official watching a long study sees where it is.

A job whose process died (a kill, a crash, a restart) would otherwise stay "running" forever.
Every record names its worker (`host:pid:start-time`) and carries a heartbeat the worker renews
while the job is queued or running. Whoever reads such a record — any worker, or `serve` at
start — declares it failed ("服务重启，作业已中断，请重新提交") when that process is gone from this
host (pid absent, a zombie, or reused by a later process) or, wherever it ran, when the
heartbeat is older than `stale_s` (the worker renews it every `heartbeat_s`, so a live but
silent process has missed a dozen beats: hung, or cut off from the database).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import socket
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable

from gis.errors import InputError, NotFoundError
from gis.store.jobs import ACTIVE, JobStore, JobStoreBusy

log = logging.getLogger("landgis.jobs")

INTERRUPTED = "服务重启，作业已中断，请重新提交"
JOB_ID = re.compile(r"[0-9a-f]{16}")
FINAL_WRITE_ATTEMPTS = 5
"""The last write of a job (result, failure) is retried this many times, each a bounded lock
wait: losing it would leave a finished job looking alive until its heartbeat goes stale."""

Work = Callable[[Callable[[str], None]], tuple[bytes, str, str]]


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


# --- which process runs a job, and is it still there ------------------------------------------

def _proc_stat(pid: int) -> tuple[str, str] | None:
    """(state, start time in clock ticks) of a Linux process, None if there is no such process."""
    try:
        text = open(f"/proc/{pid}/stat", encoding="ascii", errors="replace").read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = text[text.rfind(")") + 2 :].split()
    return fields[0], fields[19]


def worker_identity() -> str:
    """`host:pid:start` of this process: the start time tells a reused pid from the original."""
    pid = os.getpid()
    stat = _proc_stat(pid) if os.path.isdir("/proc/self") else None
    return f"{socket.gethostname()}:{pid}:{stat[1] if stat else 0}"


def worker_gone(worker: str | None) -> bool | None:
    """True: that process no longer exists; False: it does; None: cannot tell (another host)."""
    if not worker or worker.count(":") < 2:
        return None
    host, pid_text, start = worker.rsplit(":", 2)
    if host != socket.gethostname() or not pid_text.isdigit():
        return None
    pid = int(pid_text)
    if os.path.isdir("/proc/self"):
        stat = _proc_stat(pid)
        if stat is None or stat[0] in ("Z", "X"):  # gone, or dead and not yet reaped
            return True
        return start != "0" and stat[1] != start
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def check_orphan(jobs: JobStore, row: dict, stale_s: float) -> dict:
    """Fail an active job whose worker is gone or silent for `stale_s`; returns the row as it now is."""
    if row["status"] not in ACTIVE:
        return row
    silent = row["age"] is not None and float(row["age"]) > stale_s
    if not silent and not worker_gone(row["worker"]):
        return row
    error = {"status": 503, "detail": INTERRUPTED, "hint": "该作业所在的服务进程已退出或失去响应；作业结果未生成。"}
    jobs.fail(row["id"], steps=None, finished=_now(), error=error, only_if=(row["worker"], row["heartbeat"]))
    return jobs.get(row["id"]) or row


def sweep_orphans(jobs: JobStore, stale_s: float) -> int:
    """Fail every orphaned active job (run by `serve` before its workers start); returns how many."""
    n = 0
    for row in jobs.active():
        if check_orphan(jobs, row, stale_s)["status"] == "failed":
            n += 1
    return n


OGC_STATUS = {"queued": "accepted", "running": "running", "succeeded": "successful", "failed": "failed", "dismissed": "dismissed"}
"""The table's states (kept since before OGC API – Processes) in the standard's vocabulary."""
RESULTS_REL = "http://www.opengis.net/def/rel/ogc/1.0/results"


def to_dict(row: dict) -> dict:
    """The job as an OGC API – Processes statusInfo document.

    Besides the standard's members it keeps `id`, `kind` and `steps` (the step names an official
    watches), which clients of the first `/jobs` API read. `progress` is a percentage (0–100)."""
    steps = list(row["steps"])
    status = OGC_STATUS.get(row["status"], row["status"])
    done = status == "successful"
    progress = 100 if done else int(min(len(steps) / max(int(row["total_steps"]), 1), 0.99) * 100)
    job_id = row["id"]
    message = (row["error"] or {}).get("detail") if row["error"] else (steps[-1] if steps else {"accepted": "排队等待执行", "dismissed": "作业已撤销"}.get(status, ""))
    out = {
        "jobID": job_id,
        "processID": row["kind"],
        "type": "process",
        "status": status,
        "message": message or "",
        "progress": progress,
        "created": row["created"],
        "started": row.get("started"),
        "finished": row["finished"],
        "updated": row.get("updated") or row["finished"] or row["created"],
        "id": job_id,
        "kind": row["kind"],
        "steps": steps,
        "links": [
            {"rel": "self", "href": f"/jobs/{job_id}", "type": "application/json", "title": "作业状态"},
            {"rel": "up", "href": "/jobs", "type": "application/json", "title": "作业列表"},
        ],
    }
    out = {k: v for k, v in out.items() if v is not None}
    if done:
        media = row["media_type"] or "application/octet-stream"
        out["links"].append({"rel": RESULTS_REL, "href": f"/jobs/{job_id}/results", "type": media, "title": "作业结果"})
        out["links"].append({"rel": "result", "href": f"/jobs/{job_id}/result", "type": media, "title": "作业结果（旧地址）"})
    if row["error"]:
        out["error"] = row["error"]
    return out


class JobDismissed(Exception):
    """Raised inside a job's thread at its next step once the job was dismissed: the work stops."""


class JobManager:
    """At most `threads` jobs of this process run at once; the rest wait in order.

    Every method blocks on the store: the router calls them off the event loop.
    """

    def __init__(self, jobs: JobStore, *, threads: int = 1, keep: int = 50, stale_s: float = 60.0, heartbeat_s: float = 5.0):
        self.jobs = jobs
        self.keep = keep
        self.stale_s = stale_s
        self.heartbeat_s = heartbeat_s
        self.worker = worker_identity()
        jobs.ensure()
        self._pool = ThreadPoolExecutor(max_workers=max(1, threads), thread_name_prefix="landgis-job")
        self._active: set[str] = set()
        self._lock = threading.Lock()
        self._beat: threading.Thread | None = None
        self._futures: dict[str, Future] = {}

    def submit(self, kind: str, owner: str | None, total_steps: int, work: Work, *, role: str = "analyst") -> dict:
        """Queue `work` as a job of process `kind` that callers with `role` may see; returns its statusInfo.
        `future(job_id)` then gives the running work, for a synchronous execution to await."""
        job_id = uuid.uuid4().hex[:16]
        self.jobs.insert(id=job_id, kind=kind, owner=owner, total_steps=total_steps, created=_now(), worker=self.worker, role=role)
        with self._lock:
            self._active.add(job_id)
            self._start_heartbeat()
        try:
            self.jobs.prune(self.keep)
        except JobStoreBusy as exc:  # pruning can wait for the next job
            log.warning("作业清理未完成：%s", exc.detail)
        accepted = self.get(job_id)  # read before the pool starts it: the 201 answers what was accepted, not a race
        future = self._pool.submit(self._run, job_id, work)
        with self._lock:
            self._futures[job_id] = future
        future.add_done_callback(lambda _f: self._forget(job_id))
        return accepted

    def _forget(self, job_id: str) -> None:
        with self._lock:
            self._futures.pop(job_id, None)

    def future(self, job_id: str) -> Future | None:
        """The running work of a job this process accepted (None once it is done, or elsewhere)."""
        with self._lock:
            return self._futures.get(job_id)

    def row(self, job_id: str) -> dict:
        """The job's record, orphan-checked; NotFoundError for an unknown id."""
        row = self.jobs.get(job_id) if JOB_ID.fullmatch(job_id) else None
        if row is None:
            raise NotFoundError(f"作业 {job_id} 不存在（或已被清理）。")
        return check_orphan(self.jobs, row, self.stale_s)

    def get(self, job_id: str) -> dict:
        return to_dict(self.row(job_id))

    def recent(self, limit: int, roles: tuple[str, ...]) -> list[dict]:
        """The newest jobs a caller holding `roles` may see, as statusInfo documents."""
        return [to_dict(check_orphan(self.jobs, row, self.stale_s)) for row in self.jobs.recent(limit, roles=roles)]

    def dismiss(self, job_id: str) -> dict:
        """Dismiss a job (its result is deleted; a running one stops at its next step)."""
        self.row(job_id)
        self.jobs.dismiss(job_id, at=_now())
        return self.get(job_id)

    def result(self, job_id: str) -> tuple[bytes, str, str]:
        job = self.get(job_id)
        if job["status"] != "successful":
            if job["status"] == "dismissed":
                raise NotFoundError(f"作业 {job_id} 已撤销，结果已删除。")
            if job["status"] == "failed":
                raise InputError(f"作业 {job_id} 已失败，没有结果：{job['error']['detail']}", hint="请重新提交作业。")
            raise InputError(f"作业 {job_id} 尚未完成（状态：{job['status']}）。", hint="请稍后再试，或查看 GET /jobs/{id} 的进度。")
        data = self.jobs.read_result(job_id)
        row = self.jobs.get(job_id)
        if data is None or row is None:
            raise NotFoundError(f"作业 {job_id} 的结果已被清理，请重新提交。")
        return data, row["media_type"] or "application/octet-stream", row["filename"] or "result"

    # --- the worker side ------------------------------------------------------------------
    def _run(self, job_id: str, work: Work) -> None:
        steps: list[str] = []

        def step(text: str) -> None:
            steps.append(text)
            try:
                alive = self.jobs.progress(job_id, status="running", steps=list(steps), at=_now())
            except JobStoreBusy as exc:  # the next step writes the whole list again
                log.warning("作业 %s 进度未能写入：%s", job_id, exc.detail)
                return
            if not alive:
                raise JobDismissed(job_id)

        try:
            try:
                alive = self.jobs.progress(job_id, status="running", steps=[], at=_now())
            except JobStoreBusy as exc:
                log.warning("作业 %s 状态未能写入：%s", job_id, exc.detail)
                alive = True
            if not alive:
                return  # dismissed while it waited in the queue
            try:
                data, media_type, filename = work(step)
            except JobDismissed:
                log.info("作业 %s 已撤销，停止执行", job_id)
            except InputError as exc:
                error = {"status": getattr(exc, "status_code", 422), "detail": exc.detail, "errors": exc.error_dicts()}
                self._final(lambda: self.jobs.fail(job_id, steps=steps, finished=_now(), error=error))
            except Exception as exc:  # noqa: BLE001 - recorded on the job, never lost in a thread
                error = {"status": 500, "detail": f"作业执行失败：{type(exc).__name__}: {exc}"}
                self._final(lambda: self.jobs.fail(job_id, steps=steps, finished=_now(), error=error))
            else:
                self._final(lambda: self.jobs.succeed(job_id, steps=steps, finished=_now(), data=data, media_type=media_type, filename=filename))
        finally:
            with self._lock:
                self._active.discard(job_id)

    def _final(self, write: Callable[[], object]) -> None:
        for attempt in range(FINAL_WRITE_ATTEMPTS):
            try:
                write()
                return
            except JobStoreBusy as exc:
                log.warning("作业结果写入失败（第 %d 次）：%s", attempt + 1, exc.detail)
                time.sleep(1.0)
        log.error("作业结果多次写入失败，作业将在心跳超时后显示为中断。")

    def _start_heartbeat(self) -> None:
        """One daemon thread per process renews the heartbeat of its queued and running jobs."""
        if self._beat is not None and self._beat.is_alive():
            return

        def beat() -> None:
            while True:
                time.sleep(self.heartbeat_s)
                with self._lock:
                    ids = sorted(self._active)
                try:
                    self.jobs.heartbeat(ids)
                except Exception as exc:  # noqa: BLE001 - a missed beat is retried; `stale_s` allows many
                    log.warning("作业心跳未能写入：%s", exc)

        self._beat = threading.Thread(target=beat, name="landgis-job-heartbeat", daemon=True)
        self._beat.start()


_create = threading.Lock()


def manager(state) -> JobManager:
    """The process's JobManager on `app.state`, made on first use (it creates the job table if
    absent). Blocks on the store: call it off the event loop."""
    if getattr(state, "jobs", None) is None:
        with _create:
            if getattr(state, "jobs", None) is None:
                settings, store = state.settings, state.store
                table = JobStore.for_store(store, results_dir=settings.jobs_dir)
                state.jobs = JobManager(table, threads=settings.jobs_threads, keep=settings.jobs_keep, stale_s=settings.jobs_stale_s)
    return state.jobs
