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
        if size > self.max_bytes:
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

    def get_or_compute(self, revision: Hashable | None, key: Hashable, compute: Callable[[], T]) -> T:
        """The cached value for `key` at `revision`, computing it once on a miss.

        `revision` None means the store cannot vouch for the data: computed every time."""
        if revision is None or self.max_bytes <= 0:
            return compute()
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
            with self._lock:
                self.misses += 1
            value = compute()
            self.put(full, value)
            return value
        finally:
            if got:
                gate.release()
            with self._lock:
                if not gate.locked():
                    self._computing.pop(full, None)


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
                cache = self._caches[name] = RevisionCache(name, self._budgets.get(name, self._default))
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
