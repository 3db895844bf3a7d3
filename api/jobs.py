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
from concurrent.futures import ThreadPoolExecutor
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


def to_dict(row: dict) -> dict:
    """The public view of a job record (unchanged since jobs lived in memory)."""
    steps = list(row["steps"])
    status = row["status"]
    progress = 1.0 if status == "succeeded" else round(min(len(steps) / max(int(row["total_steps"]), 1), 0.99), 3)
    out = {
        "id": row["id"],
        "kind": row["kind"],
        "status": status,
        "progress": progress,
        "steps": steps,
        "created": row["created"],
        "finished": row["finished"],
        "links": [{"rel": "self", "href": f"/jobs/{row['id']}"}],
    }
    if status == "succeeded":
        out["links"].append({"rel": "result", "href": f"/jobs/{row['id']}/result", "type": row["media_type"]})
    if row["error"]:
        out["error"] = row["error"]
    return out


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

    def submit(self, kind: str, owner: str | None, total_steps: int, work: Work) -> dict:
        job_id = uuid.uuid4().hex[:16]
        self.jobs.insert(id=job_id, kind=kind, owner=owner, total_steps=total_steps, created=_now(), worker=self.worker)
        with self._lock:
            self._active.add(job_id)
            self._start_heartbeat()
        try:
            self.jobs.prune(self.keep)
        except JobStoreBusy as exc:  # pruning can wait for the next job
            log.warning("作业清理未完成：%s", exc.detail)
        self._pool.submit(self._run, job_id, work)
        return self.get(job_id)

    def get(self, job_id: str) -> dict:
        row = self.jobs.get(job_id) if JOB_ID.fullmatch(job_id) else None
        if row is None:
            raise NotFoundError(f"作业 {job_id} 不存在（或已被清理）。")
        return to_dict(check_orphan(self.jobs, row, self.stale_s))

    def result(self, job_id: str) -> tuple[bytes, str, str]:
        job = self.get(job_id)
        if job["status"] != "succeeded":
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
                self.jobs.progress(job_id, status="running", steps=list(steps))
            except JobStoreBusy as exc:  # the next step writes the whole list again
                log.warning("作业 %s 进度未能写入：%s", job_id, exc.detail)

        try:
            try:
                self.jobs.progress(job_id, status="running", steps=[])
            except JobStoreBusy as exc:
                log.warning("作业 %s 状态未能写入：%s", job_id, exc.detail)
            try:
                data, media_type, filename = work(step)
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
