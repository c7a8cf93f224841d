"""Core unit tests: in-memory fakes (core_fakes.py, importable as a top-level module), no sockets."""

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
    """Unit tests never open a network connection; a test that tries fails loudly.

    Fake credentials keep botocore from asking the instance metadata service when a client is built.
    """
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "ap-south-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"unit test tried to open a socket: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture(scope="session")
def dev_key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One development issuer key for the whole session (RSA generation costs ~0.1 s)."""
    from mantra.auth.tokens import DevIssuer

    path = tmp_path_factory.mktemp("keys") / "dev-issuer.pem"
    DevIssuer.from_file(path, "https://issuer.test/auth", "client-test", 3600)
    return path


@pytest.fixture(scope="session")
def other_rsa_pem() -> bytes:
    """A second RSA key that the validator does not trust."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
