"""The fault suite's handle on the platform it started: kill and restart its parts, and the figures measured."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
from mantra.container import get_container
from mantra.devtools import standins
from mantra.devtools.smtp_sink import read_messages
from mantra.domain import Alert, AlertCondition, Channel, User
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


@dataclass
class Receiver:
    """A webhook receiver on 127.0.0.1: answers ``status`` (settable) and keeps every request it got."""

    port: int = 0
    status: int = 200
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> ThreadingHTTPServer:
        state = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                with state._lock:
                    state.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(state.status)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = server.server_address[1]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server

    def requests_by_alert(self) -> Counter[str]:
        with self._lock:
            return Counter(json.loads(b)["data"].get("alert_id", "") for _, b in self.received)


@dataclass
class AlertWatch:
    """One-shot price alerts of one user on every channel that can be counted: in-app, e-mail, webhook."""

    settings: Settings
    user: User
    receiver: Receiver
    alerts: list[Alert] = field(default_factory=list)

    def cross_above(self, symbol: str, levels: list[int]) -> None:
        service = get_container(self.settings).alert_service
        channels = (Channel.IN_APP, Channel.EMAIL, Channel.WEBHOOK)
        for level in levels:
            self.alerts.append(
                service.create(self.user, symbol, AlertCondition.CROSSES_ABOVE, level, channels, "faults")
            )

    def trigger_ids(self) -> dict[str, str]:
        repo = get_container(self.settings).alerts
        out = {}
        for a in self.alerts:
            stored = repo.get(a.tenant_id, a.alert_id)
            if stored is not None and stored.trigger_id:
                out[a.alert_id] = stored.trigger_id
        return out

    def counts(self) -> dict[str, tuple[int, int, int]]:
        """Per alert: (inbox notifications, e-mails, webhook requests)."""
        triggers = self.trigger_ids()
        inbox = Counter(
            n.notification_id for n in get_container(self.settings).inbox.list(self.user, limit=1000)
        )
        mails = Counter(m["X-Mantra-Trigger-Id"] for m in read_messages(self.settings.data_dir / "mail"))
        hooks = self.receiver.requests_by_alert()
        return {
            a.alert_id: (
                inbox.get(triggers.get(a.alert_id, "-"), 0),
                mails.get(triggers.get(a.alert_id, "-"), 0),
                hooks.get(a.alert_id, 0),
            )
            for a in self.alerts
        }

    def wait_all_delivered(
        self, timeout_s: float = 60, settle_s: float = 3
    ) -> dict[str, tuple[int, int, int]]:
        """Until every alert reached every channel, then ``settle_s`` more for anything doubled to show."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if all(min(c) >= 1 for c in self.counts().values()):
                break
            time.sleep(0.3)
        time.sleep(settle_s)
        return self.counts()
