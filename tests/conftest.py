"""Shared by every suite: puts ``tests/`` on the import path (for ``timebase``) and says which moment the run is at."""

from __future__ import annotations

import pytest
import timebase
from mantra.clock import utc_from_ms


def pytest_report_header(config: pytest.Config) -> str:
    return f"test moment (MANTRA_TEST_NOW or the wall clock): {utc_from_ms(timebase.NOW_MS).isoformat()}; session day {timebase.SESSION_DAY}"
