"""A small in-process TTL cache for hot reads (quotes, candles, the instrument master).

Per process (a Lambda container, a uvicorn worker): it saves the table a read per request, never holds data
longer than its TTL, and is bounded (oldest entries go first). Thread-safe; ``now`` is injectable for tests.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from threading import Lock
from typing import Generic, TypeVar

V = TypeVar("V")


class TTLCache(Generic[V]):
    def __init__(
        self, ttl_s: float, max_entries: int = 4096, now: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl_s, self.max_entries, self._now = ttl_s, max_entries, now
        self._items: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()
        self._lock = Lock()
        self.hits = self.misses = 0

    def get(self, key: Hashable, ttl_s: float | None = None) -> V | None:
        ttl = self.ttl_s if ttl_s is None else ttl_s
        with self._lock:
            hit = self._items.get(key)
            if hit is not None and self._now() - hit[0] < ttl:
                self.hits += 1
                return hit[1]
            self.misses += 1
            return None

    def put(self, key: Hashable, value: V) -> None:
        with self._lock:
            self._items[key] = (self._now(), value)
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)

    def get_or_load(
        self, key: Hashable, load: Callable[[], V | None], ttl_s: float | None = None
    ) -> V | None:
        """The cached value, or ``load()`` stored under ``key``; ``None`` results are not cached."""
        found = self.get(key, ttl_s)
        if found is not None:
            return found
        value = load()
        if value is not None:
            self.put(key, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
