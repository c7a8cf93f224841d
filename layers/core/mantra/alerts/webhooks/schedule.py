"""When a failed attempt is tried again: exponential-ish steps over hours, with jitter so receivers coming back
up are not hit by every sender at the same second."""

from __future__ import annotations

import random
from collections.abc import Sequence

# Delays after attempt 1, 2, ... : attempts land at ~0 s, 30 s, 2 min, 10 min, 1 h, 3 h, 8 h, then we give up.
DEFAULT_DELAYS_S: tuple[int, ...] = (30, 120, 600, 3600, 3 * 3600, 8 * 3600)


class RetrySchedule:
    def __init__(
        self,
        delays_s: Sequence[int] = DEFAULT_DELAYS_S,
        jitter: float = 0.2,
        rng: random.Random | None = None,
    ) -> None:
        if not 0 <= jitter < 1:
            raise ValueError("jitter is a fraction from 0 up to (not including) 1")
        self._delays = tuple(delays_s)
        self._jitter = jitter
        self._rng = rng or random.Random()

    @property
    def max_attempts(self) -> int:
        return len(self._delays) + 1

    def bounds_ms(self, attempt: int) -> tuple[int, int] | None:
        """The window the next attempt falls in after ``attempt`` (1-based) failed; None: give up."""
        if not 1 <= attempt <= len(self._delays):
            return None
        base = self._delays[attempt - 1] * 1000
        return int(base * (1 - self._jitter)), int(base * (1 + self._jitter))

    def delay_ms(self, attempt: int) -> int | None:
        bounds = self.bounds_ms(attempt)
        if bounds is None:
            return None
        return self._rng.randint(*bounds)
