"""The fault suite's local platform: the stand-ins on disk in a temp data dir (so a stand-in killed with -9 comes
back with its data), the local function runtime and the API as child processes, each of which a case can kill
and restart. Started with the same code as `mantra dev` (devtools.standins, devtools.supervisor).

Figures a case measures (recovery times, failover time, candle gaps) are printed at the end of the run and
written to ``MANTRA_FAULTS_REPORT`` when set.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from faultkit import FIGURES, AlertWatch, FaultPlatform, Receiver, wait_api
from mantra.cli.stripe import sync_from_settings
from mantra.container import get_container
from mantra.devtools import bootstrap, standins, supervisor
from mantra.store import tables

REPO = Path(__file__).resolve().parents[2]
ADMIN = "admin@demo.trademantra.in"  # Institutional: webhooks, and room for many alerts


@pytest.fixture(scope="session")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultPlatform]:
    data = tmp_path_factory.mktemp("faults")
    env = standins.free_platform_env(data, REPO / ".standins", "flt")
    with standins.environment(env) as settings:
        log_dir = data / "logs"
        # on disk (not in memory): a stand-in killed with -9 restarts on the data it had
        procs = standins.start_all(settings, in_memory=False, log_dir=log_dir)
        platform = FaultPlatform(settings, log_dir, {p.name: p for p in procs})
        try:
            bootstrap.provision(settings)
            bootstrap.seed(settings)
            tables.configure(settings)
            sync_from_settings(settings)
            for p in supervisor.start_platform_processes(settings, {**os.environ}, log_dir, feed=False):
                platform.children[p.name] = p
            wait_api(f"http://127.0.0.1:{settings.api_port}")
            yield platform
        finally:
            standins.stop_all(list(platform.children.values()))


@pytest.fixture(scope="session")
def receiver(faulty: FaultPlatform) -> Iterator[Receiver]:
    """One webhook receiver, registered for the admin's tenant (every alert.triggered event goes to it)."""
    state = Receiver()
    server = state.start()
    container = get_container(faulty.settings)
    admin = container.users.by_email(ADMIN)[0]  # type: ignore[index]
    container.webhooks.create(admin, state.url, "fault suite", ["alert.triggered"])
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def watch(faulty: FaultPlatform, receiver: Receiver) -> AlertWatch:
    admin = get_container(faulty.settings).users.by_email(ADMIN)[0]  # type: ignore[index]
    return AlertWatch(faulty.settings, admin, receiver)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.faults)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not FIGURES:
        return
    terminalreporter.section("fault figures")
    for what, value in FIGURES:
        terminalreporter.write_line(f"{what}: {value}")
    out = os.environ.get("MANTRA_FAULTS_REPORT")
    if out:
        Path(out).write_text(json.dumps(FIGURES, indent=1))
