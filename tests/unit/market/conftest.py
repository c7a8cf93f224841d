"""Market data unit tests: pure functions and in-memory fakes (market_fakes.py), no sockets."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)


@pytest.fixture(autouse=True)
def _no_sockets(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise RuntimeError("unit tests do not open sockets")

    monkeypatch.setattr(socket.socket, "connect", refuse)
