"""The one revision-keyed cache (gis/store/cache.py): never stale, bounded, computed once."""

from __future__ import annotations

import threading
import time

from gis.store.cache import RevisionCache, StoreCaches


def test_a_new_revision_misses_and_none_never_caches():
    cache = RevisionCache("t", 1 << 20)
    calls = []

    def compute():
        calls.append(1)
        return len(calls)

    assert cache.get_or_compute("r1", "k", compute) == 1
    assert cache.get_or_compute("r1", "k", compute) == 1
    assert cache.get_or_compute("r2", "k", compute) == 2  # a write gave a new revision
    assert cache.get_or_compute(None, "k", compute) == 3
    assert cache.get_or_compute(None, "k", compute) == 4  # a store that cannot vouch: every time
    assert (cache.hits, cache.misses) == (1, 2)


def test_least_recently_used_goes_first_within_the_byte_budget():
    cache = RevisionCache("t", 3 * (1000 + 64))
    for k in "abc":
        cache.get_or_compute("r", k, lambda: b"x" * 1000)
    cache.get_or_compute("r", "a", lambda: b"never")  # touch a
    cache.get_or_compute("r", "d", lambda: b"y" * 1000)  # evicts b, the least recent
    assert cache.get(("r", "b")) is None and cache.get(("r", "a")) == b"x" * 1000
    assert cache.bytes <= cache.max_bytes
    cache.get_or_compute("r", "huge", lambda: b"z" * 10_000)  # larger than the budget: not kept
    assert cache.get(("r", "huge")) is None


def test_concurrent_misses_compute_once():
    cache = RevisionCache("t", 1 << 20)
    calls = []

    def slow():
        calls.append(1)
        time.sleep(0.2)
        return "page"

    out = []
    threads = [threading.Thread(target=lambda: out.append(cache.get_or_compute("r", "k", slow))) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert out == ["page"] * 6 and len(calls) == 1


def test_a_stuck_computation_does_not_freeze_the_others():
    cache = RevisionCache("t", 1 << 20)
    cache.wait_seconds = 0.2
    release = threading.Event()
    threading.Thread(target=lambda: cache.get_or_compute("r", "k", lambda: release.wait(5) and "late"), daemon=True).start()
    time.sleep(0.05)
    started = time.monotonic()
    assert cache.get_or_compute("r", "k", lambda: "mine") == "mine"
    assert time.monotonic() - started < 2
    release.set()


def test_store_caches_are_named_and_resizable():
    caches = StoreCaches({"tiles": 100})
    assert caches("tiles").max_bytes == 100 and caches("tiles") is caches("tiles")
    caches("tiles").put("k", "v")
    caches.set_budget("tiles", 0)
    assert len(caches("tiles")) == 0 and caches("tiles").get_or_compute("r", "k", lambda: 7) == 7
    assert set(caches.stats()) == {"tiles"}
