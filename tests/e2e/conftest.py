"""The running local platform: `mantra dev --in-memory` on free ports, driven over real HTTP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from mantra.devtools.standins import free_port
from mantra.devtools.supervisor import wait_healthy

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]


@dataclass
class Platform:
    base_url: str
    data_dir: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes]

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=10)

    def token(self, email: str = "pro@demo.trademantra.in") -> str:
        resp = httpx.post(f"{self.base_url}/auth/token", data={"username": email, "password": "mantra-demo"})
        resp.raise_for_status()
        token: str = resp.json()["access_token"]
        return token


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    data = tmp_path_factory.mktemp("platform")
    ports = {name: free_port() for name in ("API", "DYNAMODB", "KINESIS", "MOTO", "SMTP")}
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MANTRA_"))},
        **{f"MANTRA_{k}_PORT": str(v) for k, v in ports.items()},
        "MANTRA_DATA_DIR": str(data),
        "MANTRA_STANDINS_DIR": str(REPO / ".standins"),
    }
    log = open(data / "dev.out", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "mantra.cli.main", "dev", "--in-memory"],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{ports['API']}"
    try:
        wait_healthy(base, timeout_s=120)
    except Exception:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)
        raise RuntimeError((data / "dev.out").read_text()[-3000:]) from None
    yield Platform(base, data, env, proc)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(60) == 0, (data / "dev.out").read_text()[-3000:]
