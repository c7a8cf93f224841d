"""The hot-read cache: entries live for their TTL only, misses (None) are not cached, size is bounded."""

from __future__ import annotations

from mantra.market.cache import TTLCache


def test_an_entry_is_served_until_its_ttl_then_reloaded() -> None:
    now = [0.0]
    cache: TTLCache[int] = TTLCache(1.0, now=lambda: now[0])
    loads = []

    def load() -> int:
        loads.append(1)
        return len(loads)

    assert [cache.get_or_load("q", load) for _ in range(5)] == [1] * 5
    now[0] = 0.99
    assert cache.get_or_load("q", load) == 1
    now[0] = 1.0
    assert cache.get_or_load("q", load) == 2 and len(loads) == 2
    # a shorter TTL per read (the forming candle) expires sooner
    now[0] = 1.5
    assert cache.get_or_load("q", load, ttl_s=0.25) == 3


def test_a_missing_value_is_not_cached_and_the_oldest_entries_go_first() -> None:
    cache: TTLCache[str] = TTLCache(30.0, max_entries=2)
    assert cache.get_or_load("x", lambda: None) is None
    assert cache.get_or_load("x", lambda: "now there") == "now there"
    cache.put("y", "y")
    cache.put("z", "z")
    assert cache.get("x") is None and cache.get("z") == "z"
