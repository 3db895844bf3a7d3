"""Bounded pools of child processes that run one job each and can die without harm.

Why: two pieces of work must not run in the server's own process. A CQL2 filter is parsed by a
library whose parser can overflow its stack on hostile input (a crash there used to kill the
server), and a GeoPackage vector tile is Python work that holds the GIL (threads would render one
tile at a time on one core). Both go to children spoken to over pipes, and both need the same
care, which lives here once:

- a request waits at most `wait_s` for a free worker (`PoolBusy`), then at most `timeout` for the
  answer;
- a worker that dies, overruns or answers garbage is killed and replaced by the next request
  (`WorkerLost`); an exception inside the worker's handler comes back as `WorkerError` and the
  worker lives on;
- workers start on demand, are reused, and are forgotten after a fork (a child must not share
  its parent's pipes).

Frames are length-prefixed; what is inside is the caller's codec: pickles for tiles (this process
and its own children only), JSON for the CQL2 parser, whose worker handles text from anyone, so
nothing it sends back is ever unpickled.
"""

from __future__ import annotations

import json
import os
import pickle
import select
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
"""The repository root: a worker's program puts it on sys.path to import its handler."""


@dataclass(frozen=True)
class Codec:
    """How requests and answers become bytes. `name` tells the worker which to use."""

    name: str
    dumps: Callable[[Any], bytes]
    loads: Callable[[bytes], Any]


PICKLE = Codec("pickle", lambda obj: pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL), pickle.loads)
JSON = Codec("json", lambda obj: json.dumps(obj, ensure_ascii=False).encode("utf-8"), json.loads)
CODECS = {c.name: c for c in (PICKLE, JSON)}


class PoolBusy(Exception):
    """No worker became free within the pool's wait (or the pool has none)."""


class WorkerLost(Exception):
    """The worker died ("crash"), overran its time ("timeout") or answered garbage ("garbled");
    it has been killed, and the next request starts a fresh one."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class WorkerError(Exception):
    """The worker's handler raised; its message. The worker is kept."""


def program(handler: str, codec: Codec) -> str:
    """The `python -c` text of a worker serving `handler` ("module:function" returning the
    request handler) with `codec`."""
    module, _, factory = handler.partition(":")
    return (
        f"import sys; sys.path.insert(0, {ROOT!r}); from {module} import {factory} as make; "
        f"from gis.workers import serve; serve(make(), {codec.name!r})"
    )


def _frame(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


class PipeWorker:
    """One child process answering length-prefixed frames over its stdin/stdout."""

    def __init__(self, program_text: str, codec: Codec):
        self.codec = codec
        self.proc = subprocess.Popen([sys.executable, "-c", program_text], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0)
        self.buf = b""

    def _read(self, n: int, deadline: float) -> bytes:
        fd = self.proc.stdout.fileno()
        while len(self.buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise WorkerLost("timeout")
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, max(1 << 16, n - len(self.buf)))
                if not chunk:
                    raise WorkerLost("crash")
                self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def ask(self, request: Any, timeout: float) -> Any:
        deadline = time.monotonic() + timeout
        try:
            self.proc.stdin.write(_frame(self.codec.dumps(request)))
        except OSError as exc:
            raise WorkerLost("crash") from exc
        (n,) = struct.unpack(">I", self._read(4, deadline))
        try:
            status, payload = self.codec.loads(self._read(n, deadline))
        except WorkerLost:
            raise
        except Exception as exc:  # noqa: BLE001 — anything unreadable is a lost worker
            raise WorkerLost("garbled") from exc
        if status != "ok":
            raise WorkerError(str(payload))
        return payload

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass


class WorkerPool:
    """Up to `size` `PipeWorker`s running `program_text`, started on demand and reused."""

    def __init__(self, program_text: str, codec: Codec, size: int, wait_s: float):
        self.program_text, self.codec, self.size, self.wait_s = program_text, codec, size, wait_s
        self.idle: list[PipeWorker] = []
        self.lock = threading.Lock()
        self.slots = threading.BoundedSemaphore(max(size, 1))
        self.pid = os.getpid()

    def ask(self, request: Any, timeout: float) -> Any:
        """The worker's answer to `request`. PoolBusy, WorkerLost or WorkerError otherwise."""
        if self.size <= 0 or not self.slots.acquire(timeout=self.wait_s):
            raise PoolBusy()
        try:
            with self.lock:
                if self.pid != os.getpid():
                    self.idle, self.pid = [], os.getpid()
                worker = self.idle.pop() if self.idle else None
            if worker is None or worker.proc.poll() is not None:
                worker = PipeWorker(self.program_text, self.codec)
            try:
                answer = worker.ask(request, timeout)
            except WorkerLost:
                worker.close()
                raise
            except WorkerError:
                self._keep(worker)
                raise
            self._keep(worker)
            return answer
        finally:
            self.slots.release()

    def _keep(self, worker: PipeWorker) -> None:
        with self.lock:
            self.idle.append(worker)

    def close(self) -> None:
        with self.lock:
            idle, self.idle = self.idle, []
        for w in idle:
            w.close()


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


def serve(handle: Callable[[Any], Any], codec_name: str) -> None:
    """Worker main loop: each request frame → ("ok", handle(request)) or ("error", message)."""
    codec = CODECS[codec_name]
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        head = _read_exact(stdin, 4)
        if head is None:
            return
        body = _read_exact(stdin, struct.unpack(">I", head)[0])
        if body is None:
            return
        try:
            answer = ("ok", handle(codec.loads(body)))
            data = codec.dumps(answer)
        except RecursionError:  # an answer nested too deep to encode
            data = codec.dumps(("error", "nesting too deep"))
        except Exception as exc:  # noqa: BLE001 — reported to the parent
            data = codec.dumps(("error", f"{type(exc).__name__}: {exc}"))
        stdout.write(_frame(data))
        stdout.flush()
