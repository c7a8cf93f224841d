"""Watchlist unit tests: in-memory fakes, the real F&O master (fo_master), no sockets."""

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
        raise AssertionError(f"unit test tried to open a socket: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture(scope="session")
def access_key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from mantra.auth.tokens import DevIssuer

    path = tmp_path_factory.mktemp("keys") / "dev-issuer.pem"
    DevIssuer.from_file(path, "https://issuer.test/auth", "client-test", 3600)
    return path
