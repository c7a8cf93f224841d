"""The running local platform: `mantra dev --in-memory` on free ports, driven over real HTTP."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from mantra.devtools.local_platform import LocalPlatform, start

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]
Platform = LocalPlatform


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    # a zero-day dunning grace period lets the billing story reach the downgrade in one run (the 7-day default
    # is exercised by the unit and integration tests)
    running = start(
        REPO, data_dir=tmp_path_factory.mktemp("platform"), extra_env={"MANTRA_BILLING_GRACE_DAYS": "0"}
    )
    yield running
    # Ctrl-C stops every process it started, cleanly
    assert running.stop() == 0, running.log_tail()


def wait_for(predicate: Callable[[], Any], timeout_s: float = 30.0, every_s: float = 0.1) -> Any:
    """Poll until ``predicate`` returns something truthy, and return it."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every_s)
    raise AssertionError(f"not within {timeout_s}s")
