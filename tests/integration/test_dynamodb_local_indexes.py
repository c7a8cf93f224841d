"""The stand-ins as `mantra dev --in-memory` starts them: DynamoDB Local's database on tmpfs, its stream records
indexed before any traffic, and the throw-away database gone when the stand-ins stop."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from mantra.devtools import standins
from mantra.devtools.dynamodb_local import DB_FILE, STREAM_INDEXES
from mantra.settings import Settings


def test_in_memory_stand_ins_index_the_stream_records_and_clean_up(tmp_path: Path) -> None:
    ports = {
        f"{n}_port": standins.free_port() for n in ("dynamodb", "kinesis", "moto", "smtp", "stripe", "api")
    }
    settings = Settings(data_dir=tmp_path, standins_dir=Path(".standins").resolve(), **ports)
    procs = standins.start_all(settings, in_memory=True, log_dir=tmp_path / "logs")
    try:
        scratch = procs[0].scratch
        assert scratch is not None and (scratch / DB_FILE).exists()
        if Path("/dev/shm").is_dir():
            assert scratch.parent == Path("/dev/shm")
        with sqlite3.connect(scratch / DB_FILE) as db:
            names = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert set(STREAM_INDEXES) <= names
    finally:
        standins.stop_all(procs)
    assert not scratch.exists()
