"""Real stand-ins for the whole session: DynamoDB Local (in memory), kinesalite, moto server, SMTP sink."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from mantra.devtools import bootstrap, standins
from mantra.settings import Settings, get_settings
from mantra.store import aws, tables

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    data = tmp_path_factory.mktemp("data")
    ports = {
        k: standins.free_port()
        for k in ("dynamodb_port", "kinesis_port", "moto_port", "smtp_port", "api_port", "stripe_port")
    }
    base = Settings(data_dir=data, standins_dir=REPO / ".standins", stage="it", **ports)  # type: ignore[arg-type]
    env = {
        **standins.endpoint_env(base),
        **standins.local_settings_env(base),
        "MANTRA_STAGE": "it",
        **{f"MANTRA_{k.upper()}": str(v) for k, v in ports.items()},
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    get_settings.cache_clear()
    aws.client.cache_clear()
    settings = Settings()
    procs = standins.start_all(settings, in_memory=True, log_dir=data / "logs")
    try:
        bootstrap.provision(settings)
        bootstrap.seed(settings)
        tables.configure(settings)
        yield settings
    finally:
        standins.stop_all(procs)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
