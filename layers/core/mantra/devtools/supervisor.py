"""`mantra dev`: the whole platform on this machine, started in order and stopped together."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

from mantra.devtools import bootstrap, standins
from mantra.devtools.lockfile import LOCK_NAME, PORTS, alive
from mantra.runtime.main import PROCESS_GROUPS
from mantra.settings import Settings


class AlreadyRunning(RuntimeError):
    pass


def acquire_lock(settings: Settings) -> Path:
    lock = settings.data_dir.resolve() / LOCK_NAME
    if lock.exists():
        try:
            info = json.loads(lock.read_text())
        except ValueError:
            info = {}
        if info.get("pid") and alive(int(info["pid"])):
            raise AlreadyRunning(
                f"Trade Mantra is already running (pid {info['pid']}, API on {info.get('api', '?')}). "
                "Stop it with Ctrl-C in its terminal, or use other ports and data folder "
                "(MANTRA_API_PORT, MANTRA_DATA_DIR, ...)."
            )
    if standins.port_open(settings.api_port):
        raise AlreadyRunning(f"port {settings.api_port} is taken by another program; set MANTRA_API_PORT")
    lock.parent.mkdir(parents=True, exist_ok=True)
    ports = {name: getattr(settings, name) for name in PORTS}
    lock.write_text(
        json.dumps({"pid": os.getpid(), "api": f"http://127.0.0.1:{settings.api_port}", "ports": ports})
    )
    return lock


def _child(name: str, argv: list[str], log_dir: Path, env: dict[str, str]) -> standins.Standin:
    return standins.spawn(name, argv, 0, log_dir / f"{name}.log", env=env)


def start_platform_processes(
    settings: Settings, env: dict[str, str], log_dir: Path, feed: bool = True
) -> list[standins.Standin]:
    """What runs on top of the stand-ins: one runtime process per group of functions, the broker feed (unless
    ``feed`` is False) and the API behind the local gateway. Each can be killed and restarted on its own."""
    py = sys.executable
    procs = [
        _child(f"runtime-{group}", [py, "-m", "mantra.runtime.main", str(group)], log_dir, env)
        for group in range(len(PROCESS_GROUPS) + 1)  # one runtime process per group of functions
    ]
    if feed:
        procs.append(_child("broker_feed", [py, "-m", "functions.broker_feed.main"], log_dir, env))
    procs.append(
        _child(
            "api",
            [
                py,
                "-m",
                "uvicorn",
                "mantra.runtime.gateway:create_gateway",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(settings.api_port),
                "--log-level",
                "warning",
            ],
            log_dir,
            env,
        )
    )
    return procs


def wait_healthy(base_url: str, timeout_s: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    last: dict[str, Any] = {}
    while time.monotonic() < deadline:
        try:
            resp = httpx.get(f"{base_url}/api/health", timeout=2)
            last = resp.json()
            if resp.status_code == 200:
                return last
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.25)
    raise RuntimeError(f"platform not healthy after {timeout_s:.0f}s: {json.dumps(last)[:500]}")


def _seed_billing(settings: Settings) -> str:
    """The paid demo users' subscriptions, through the stand-in's checkout and webhooks (see billing_seed)."""
    from mantra.container import get_container
    from mantra.devtools.billing_seed import seed_billing

    try:
        return ", ".join(f"{t}: {s}" for t, s in seed_billing(get_container(settings)).items())
    except Exception as exc:  # the platform still runs; billing routes then say the plan is the free one
        return f"demo billing NOT seeded ({type(exc).__name__}: {exc})"


def _sync_stripe_prices(settings: Settings) -> str:
    """The plans' prices into the Stripe stand-in (idempotent), so checkout finds them by lookup key."""
    from mantra.cli.stripe import sync_from_settings

    try:
        synced = sync_from_settings(settings)
    except Exception as exc:  # the platform still runs; checkout says to run `mantra stripe sync`
        return f"Stripe prices NOT synced ({type(exc).__name__}: {exc}); run `mantra stripe sync`"
    created = sum(1 for s in synced if s.action == "created")
    return f"Stripe stand-in on {settings.stripe_api_base}: {len(synced)} plan prices ({created} new)"


@contextlib.contextmanager
def _step(say: Callable[[str], None], label: str) -> Iterator[Callable[[str], None]]:
    """Say what starts, then how long it took (and what it found): no silent stretch in `make run`."""
    said: list[str] = []
    started = time.monotonic()
    say(f"{label} ...")
    yield said.append
    detail = f" ({said[-1]})" if said else ""
    say(f"  done in {time.monotonic() - started:.1f} s{detail}")


def run(settings: Settings, in_memory: bool = False, say: Callable[[str], None] = print) -> int:
    lock = acquire_lock(settings)
    procs: list[standins.Standin] = []
    stop = {"requested": False}

    def request_stop(*_: Any) -> None:
        stop["requested"] = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    try:
        env = {**os.environ, **standins.endpoint_env(settings), **standins.local_settings_env(settings)}
        os.environ.update(env)
        settings = Settings()
        log_dir = settings.data_dir / "logs"
        with _step(say, f"stand-ins (data in {settings.data_dir}{', in memory' if in_memory else ''})"):
            procs += standins.start_all(settings, in_memory=in_memory, log_dir=log_dir)
        with _step(say, "tables, stream, bus and queues"):
            bootstrap.provision(settings)
        with _step(say, "demo data (instruments, plans, users, real NSE history)") as done:
            done(str(bootstrap.seed(settings)))
        with _step(say, "Stripe stand-in prices") as done:
            done(_sync_stripe_prices(settings))
        with _step(say, "functions, feed and API processes"):
            procs += start_platform_processes(settings, env, log_dir)
        base = f"http://127.0.0.1:{settings.api_port}"
        with _step(say, f"waiting for {base}/api/health"):
            wait_healthy(base, timeout_s=90)
        with _step(say, "demo billing (Stripe customers, subscriptions, first invoices)") as done:
            done(_seed_billing(settings))
        say(
            f"\nTrade Mantra is up.\n  API      {base}\n  Docs     {base}/docs\n"
            f"  Sign in  pro@demo.trademantra.in / {bootstrap.DEMO_PASSWORD}\n"
            f"  E-mail   {settings.data_dir / 'mail'} (Maildir)\n  Logs     {log_dir}\nPress Ctrl-C to stop.\n"
        )
        while not stop["requested"]:
            for p in procs:
                if p.process.poll() is not None:
                    say(
                        f"{p.name} exited with code {p.process.returncode}; see {log_dir / (p.name + '.log')}"
                    )
                    return 1
            time.sleep(0.5)
        say("stopping ...")
        return 0
    finally:
        standins.stop_all(procs)
        lock.unlink(missing_ok=True)
