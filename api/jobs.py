"""Long work as jobs with progress (SPEC §8.3): start, poll `GET /jobs/{id}`, fetch the result.

Jobs run on a small thread pool inside the service process and live in memory: a restart
forgets them (the caller simply starts again), which keeps the service free of a broker for
work that takes seconds to minutes. Each job records its steps, so an official watching a
long study sees where it is.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

from gis.errors import InputError, NotFoundError


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass
class Job:
    id: str
    kind: str
    owner: str | None
    total_steps: int
    status: str = "queued"  # queued | running | succeeded | failed
    steps: list[str] = field(default_factory=list)
    created: str = field(default_factory=_now)
    finished: str | None = None
    error: dict | None = None
    result: bytes | None = field(default=None, repr=False)
    media_type: str = "application/octet-stream"
    filename: str = "result"

    @property
    def progress(self) -> float:
        if self.status == "succeeded":
            return 1.0
        return round(min(len(self.steps) / max(self.total_steps, 1), 0.99), 3)

    def to_dict(self) -> dict:
        out = {
            "id": self.id,
            "kind": self.kind,
            "status": self.status,
            "progress": self.progress,
            "steps": list(self.steps),
            "created": self.created,
            "finished": self.finished,
            "links": [{"rel": "self", "href": f"/jobs/{self.id}"}],
        }
        if self.status == "succeeded":
            out["links"].append({"rel": "result", "href": f"/jobs/{self.id}/result", "type": self.media_type})
        if self.error:
            out["error"] = self.error
        return out


class JobManager:
    """At most `workers` jobs run at once; the rest wait in order."""

    def __init__(self, workers: int = 1, keep: int = 50):
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="landgis-job")
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._keep = keep

    def submit(self, kind: str, owner: str | None, total_steps: int, work: Callable[[Callable[[str], None]], tuple[bytes, str, str]]) -> Job:
        job = Job(id=uuid.uuid4().hex[:16], kind=kind, owner=owner, total_steps=total_steps)
        with self._lock:
            self._jobs[job.id] = job
            done = [j for j in self._jobs.values() if j.finished]
            for old in done[: max(0, len(done) - self._keep)]:
                self._jobs.pop(old.id, None)

        def run() -> None:
            job.status = "running"
            try:
                data, media_type, filename = work(job.steps.append)
                job.result, job.media_type, job.filename = data, media_type, filename
                job.status = "succeeded"
            except InputError as exc:
                job.status = "failed"
                job.error = {"status": getattr(exc, "status_code", 422), "detail": exc.detail, "errors": exc.error_dicts()}
            except Exception as exc:  # noqa: BLE001 - recorded on the job, never lost in a thread
                job.status = "failed"
                job.error = {"status": 500, "detail": f"作业执行失败：{type(exc).__name__}: {exc}"}
            finally:
                job.finished = _now()

        self._pool.submit(run)
        return job

    def get(self, job_id: str) -> Job:
        job = self._jobs.get(job_id)
        if job is None:
            raise NotFoundError(f"作业 {job_id} 不存在（服务重启后作业记录会清空）。")
        return job
