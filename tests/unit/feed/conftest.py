"""Feed unit tests: fakes (feed_fakes.py, importable as a top-level module), no sockets."""

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
    def refuse(*_: object, **__: object) -> None:
        raise RuntimeError("unit tests open no network connections")

    monkeypatch.setattr(socket.socket, "connect", refuse)
