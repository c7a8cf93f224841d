"""The fault suite's handle on the platform it started: kill and restart its parts, and the figures measured."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from mantra.devtools import standins
from mantra.settings import Settings

FIGURES: list[tuple[str, str]] = []  # (what, value), in the order measured


def record(what: str, value: str) -> None:
    """A measured figure for the end-of-run report (and bench/README.md)."""
    FIGURES.append((what, value))
    print(f"[faults] {what}: {value}")


@dataclass
class FaultPlatform:
    settings: Settings
    log_dir: Path
    children: dict[str, standins.Standin] = field(default_factory=dict)

    def kill(self, name: str) -> None:
        """kill -9: no shutdown hook, nothing flushed."""
        standins.kill(self.children[name])

    def restart(self, name: str) -> float:
        """Start it again on its port and data; seconds until it listens."""
        return standins.restart(self.children[name])

    def alive(self, name: str) -> bool:
        return self.children[name].process.poll() is None

    def log(self, name: str, chars: int = 4000) -> str:
        path = self.log_dir / f"{name}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    def checkpoint_dir(self) -> Path:
        return self.settings.data_dir / "checkpoints"


def wait_api(base: str, timeout_s: float = 90) -> None:
    """Up when every component but the broker feed answers (the suite runs its own feeds)."""
    deadline = time.monotonic() + timeout_s
    last = ""
    while time.monotonic() < deadline:
        try:
            report = httpx.get(f"{base}/api/health", timeout=2).json()
            down = [c["name"] for c in report["components"] if not c["ok"] and "feed" not in c["name"]]
            if not down:
                return
            last = f"down: {down}"
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            last = repr(exc)
        time.sleep(0.25)
    raise RuntimeError(f"the API did not come up within {timeout_s:.0f}s ({last})")
