"""Waiting out a dependency that is down, inside one invocation, instead of failing the records with it.

A stream consumer that raises lets its event source mapping retry the batch a few times, then discard its
records to the failure destination (``MaximumRetryAttempts``): right for a record that can never be processed,
wrong for good records whose database was unreachable for a few seconds. So the consumer retries what it could
not do because a dependency was *unavailable* (``is_unavailable`` says which errors those are: the data-access
layer knows them), with backoff, for as long as the invocation has time; any other error is raised at once.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


def wait_out_outage(
    work: Callable[[], T],
    is_unavailable: Callable[[BaseException], bool],
    budget_s: float,
    base_s: float = 0.2,
    cap_s: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
    rng: random.Random | None = None,
) -> T:
    """``work()``, again after each unavailable-dependency error until ``budget_s`` would be exceeded; ``work``
    must be idempotent (a retry may follow a write whose answer was lost)."""
    rng = rng or random.Random()
    deadline = monotonic() + budget_s
    attempt = 0
    while True:
        try:
            return work()
        except Exception as exc:
            attempt += 1
            delay = min(cap_s, base_s * 2 ** (attempt - 1)) * (0.5 + rng.random() / 2)
            if not is_unavailable(exc) or monotonic() + delay > deadline:
                raise
            log.warning(
                "a dependency is unavailable (%s); retry %d in %.1fs", type(exc).__name__, attempt, delay
            )
            sleep(delay)
