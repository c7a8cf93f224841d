"""Start `mantra dev --in-memory` on free ports in a child process: for the e2e suite and the benchmarks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from mantra.devtools.standins import free_port
from mantra.devtools.supervisor import wait_healthy

DEMO_PASSWORD = "mantra-demo"  # noqa: S105 - the seeded users' documented local password


@dataclass
class LocalPlatform:
    base_url: str
    data_dir: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes]

    def token(self, email: str = "pro@demo.trademantra.in") -> str:
        resp = httpx.post(f"{self.base_url}/auth/token", data={"username": email, "password": DEMO_PASSWORD})
        resp.raise_for_status()
        token: str = resp.json()["access_token"]
        return token

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=10)

    def port(self, name: str) -> int:
        """API, DYNAMODB, KINESIS, MOTO, SMTP or STRIPE."""
        return int(self.env[f"MANTRA_{name}_PORT"])

    def log_tail(self, chars: int = 3000) -> str:
        return (self.data_dir / "dev.out").read_text(errors="replace")[-chars:]

    def stop(self, timeout_s: float = 60) -> int:
        """Ctrl-C, as a person would; the exit code (0 when everything stopped cleanly)."""
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout_s)


def start(
    repo: Path, data_dir: Path | None = None, timeout_s: float = 120, extra_env: dict[str, str] | None = None
) -> LocalPlatform:
    data = data_dir or Path(tempfile.mkdtemp(prefix="mantra-platform-"))
    ports = {name: free_port() for name in ("API", "DYNAMODB", "KINESIS", "MOTO", "SMTP", "STRIPE")}
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MANTRA_"))},
        **{f"MANTRA_{k}_PORT": str(v) for k, v in ports.items()},
        "MANTRA_DATA_DIR": str(data),
        "MANTRA_STANDINS_DIR": str(repo / ".standins"),
        **(extra_env or {}),
    }
    log = open(data / "dev.out", "wb")  # noqa: SIM115 - handed to the child process
    proc = subprocess.Popen(
        [sys.executable, "-m", "mantra.cli.main", "dev", "--in-memory"],
        cwd=repo,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    platform = LocalPlatform(f"http://127.0.0.1:{ports['API']}", data, env, proc)
    try:
        wait_healthy(platform.base_url, timeout_s=timeout_s)
    except Exception:
        platform.stop(30)
        raise RuntimeError(f"the local platform did not come up:\n{platform.log_tail()}") from None
    return platform


@contextmanager
def running(repo: Path, **kwargs: object) -> Iterator[LocalPlatform]:
    platform = start(repo, **kwargs)  # type: ignore[arg-type]
    try:
        yield platform
    finally:
        platform.stop()
