"""Real stand-ins for the whole session: DynamoDB Local (in memory), kinesalite, moto server, SMTP sink."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from mantra.devtools import bootstrap, standins
from mantra.settings import Settings
from mantra.store import tables

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    data = tmp_path_factory.mktemp("data")
    env = standins.free_platform_env(data, REPO / ".standins", "it")
    with standins.environment(env) as settings:
        procs = standins.start_all(settings, in_memory=True, log_dir=data / "logs")
        try:
            bootstrap.provision(settings)
            bootstrap.seed(settings)
            tables.configure(settings)
            yield settings
        finally:
            standins.stop_all(procs)
