"""One cache type for everything derived from a layer's data: counts, extents, tiles, map pages.

Why keyed by revision and not by time: every store keeps a per-layer data revision that database
triggers bump for every writer (landgis, QGIS/GDAL, psql), so an entry stored under the revision
it was computed at can never be served stale — the next read after any write asks for a new
revision and misses. A store that cannot vouch for a layer (revision None) gets no caching at all.

Why held by the Store instance: the caches used to be module-level dicts keyed by the store URL,
each re-implementing the revision logic (seven of them). A cache that belongs to the store dies
with it, cannot mix two stores that share a URL in tests, and has one eviction rule: least
recently used first, bounded by an approximate byte size.

Concurrent misses of one key are computed once: the first caller computes while the others wait
on that key's lock — bounded by `wait_seconds`, after which they compute alongside rather than
freeze (no lock wait in landgis is unbounded).
"""

from __future__ import annotations

import sys
import threading
import time
from collections import OrderedDict
from typing import Callable, Hashable, TypeVar

T = TypeVar("T")


def approx_size(value: object) -> int:
    """Bytes an entry holds, roughly: exact for bytes/str, shallow otherwise (counts, extents)."""
    if isinstance(value, (bytes, bytearray, str)):
        return len(value) + 64
    return sys.getsizeof(value) + 64


class RevisionCache:
    """Values keyed by (layer, layer revision(s), key), least recently used evicted past `max_bytes`."""

    wait_seconds = 30.0

    entry_share = 1.0
    """An entry larger than this share of the budget is not kept (it would flush everything else)."""

    def __init__(self, name: str, max_bytes: int, sizer: Callable[[object], int] = approx_size):
        self.name = name
        self.max_bytes = max_bytes
        self._sizer = sizer
        self._entries: OrderedDict[Hashable, tuple[object, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._computing: dict[Hashable, threading.Lock] = {}
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def bytes(self) -> int:
        return self._bytes

    def get(self, key: Hashable):
        with self._lock:
            hit = self._entries.get(key)
            if hit is None:
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return hit[0]

    def put(self, key: Hashable, value: object) -> None:
        size = self._sizer(value)
        if size > self.max_bytes * self.entry_share:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._entries[key] = (value, size)
            self._bytes += size
            while self._bytes > self.max_bytes and self._entries:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._bytes -= dropped

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def peek(self, revision: Hashable | None, key: Hashable):
        """The value `get_or_compute(revision, key, …)` would return without computing, or None."""
        if revision is None or self.max_bytes <= 0:
            return None
        return self.get((revision, key))

    def get_or_compute(self, revision: Hashable | None, key: Hashable, compute: Callable[[], T], *, ttl: float | None = None) -> T:
        """The cached value for `key` at `revision`, computing it once on a miss.

        `revision` None means the store cannot vouch for the data: computed every time — unless
        `ttl` is given, in which case the value is kept `ttl` seconds (the fallback of layers
        without a revision, such as a store made by an older landgis opened with init=False)."""
        if self.max_bytes <= 0:
            return compute()
        if revision is None:
            return compute() if ttl is None else self._timed(key, compute, ttl)
        full = (revision, key)
        hit = self.get(full)
        if hit is not None:
            return hit
        with self._lock:
            gate = self._computing.setdefault(full, threading.Lock())
        got = gate.acquire(timeout=self.wait_seconds)
        try:
            hit = self.get(full)
            if hit is not None:
                return hit
            return self._fill(full, compute, stamped=False)
        finally:
            self._release(full, gate, got)

    def _timed(self, key: Hashable, compute: Callable[[], T], ttl: float) -> T:
        """Time-bounded entry for data without a revision. One thread refreshes an expired entry
        while the others answer with the previous value; with no previous value they wait for it
        (bounded by `wait_seconds`)."""
        full = (_UNTRACKED, key)
        with self._lock:
            hit = self._entries.get(full)
        if hit is not None and time.monotonic() - hit[0][0] < ttl:
            with self._lock:
                self.hits += 1
            return hit[0][1]
        with self._lock:
            gate = self._computing.setdefault(full, threading.Lock())
        if hit is not None:
            got = gate.acquire(blocking=False)
            if not got:
                return hit[0][1]
        else:
            got = gate.acquire(timeout=self.wait_seconds)
        try:
            with self._lock:
                again = self._entries.get(full)
            if again is not None and again is not hit and time.monotonic() - again[0][0] < ttl:
                return again[0][1]  # refreshed by the thread we waited for
            return self._fill(full, compute, stamped=True)
        finally:
            self._release(full, gate, got)

    def _fill(self, full: Hashable, compute: Callable[[], T], *, stamped: bool) -> T:
        """A miss: compute and keep (with the time it was made when `stamped`, for TTL entries)."""
        with self._lock:
            self.misses += 1
        value = compute()
        self.put(full, (time.monotonic(), value) if stamped else value)
        return value

    def _release(self, full: Hashable, gate: threading.Lock, got: bool) -> None:
        """Let the waiters of one key go, and forget the key's gate once nobody holds it."""
        if got:
            gate.release()
        with self._lock:
            if not gate.locked():
                self._computing.pop(full, None)


_UNTRACKED = object()
"""The revision slot of time-bounded entries (no real revision ever equals it)."""


def _tile_size(value: object) -> int:
    if isinstance(value, tuple) and value and isinstance(value[0], (bytes, bytearray)):
        return len(value[0])
    return approx_size(value)


class TileCache(RevisionCache):
    """A store's "tiles" cache: entries are (MVT bytes, ETag), sized by their bytes, and one tile
    above 1/8 of the budget is not kept (one huge tile must not flush everything else)."""

    entry_share = 1 / 8

    def __init__(self, max_bytes: int, name: str = "tiles"):
        super().__init__(name, max_bytes, sizer=_tile_size)

    def put(self, key: Hashable, value: object, etag: str | None = None) -> None:
        super().put(key, value if etag is None else (value, etag))

    @property
    def data(self) -> OrderedDict:
        """The entries, least recently used first (for inspection)."""
        return self._entries


_KINDS: dict[str, type[RevisionCache]] = {"tiles": TileCache}
"""Caches whose entries need their own sizing rules; every other name is a plain RevisionCache."""


class StoreCaches:
    """The named caches of one store (created on first use, each with its own byte budget)."""

    def __init__(self, budgets: dict[str, int] | None = None, default_bytes: int = 16 * 1024 * 1024):
        self._budgets = dict(budgets or {})
        self._default = default_bytes
        self._caches: dict[str, RevisionCache] = {}
        self._lock = threading.Lock()

    def __call__(self, name: str) -> RevisionCache:
        with self._lock:
            cache = self._caches.get(name)
            if cache is None:
                kind = _KINDS.get(name, RevisionCache)
                cache = self._caches[name] = kind(name=name, max_bytes=self._budgets.get(name, self._default))
            return cache

    def set_budget(self, name: str, max_bytes: int) -> None:
        """Resize one cache (settings such as LANDGIS_TILE_CACHE_MB arrive after the store opens)."""
        with self._lock:
            self._budgets[name] = max_bytes
            cache = self._caches.get(name)
        if cache is not None:
            cache.max_bytes = max_bytes
            if max_bytes <= 0:
                cache.clear()

    def clear(self) -> None:
        with self._lock:
            caches = list(self._caches.values())
        for cache in caches:
            cache.clear()

    def stats(self) -> dict[str, dict[str, int]]:
        with self._lock:
            caches = dict(self._caches)
        return {n: {"entries": len(c), "bytes": c.bytes, "hits": c.hits, "misses": c.misses} for n, c in caches.items()}
