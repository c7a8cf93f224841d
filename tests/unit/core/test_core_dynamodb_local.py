"""The stream indexes the local platform adds to DynamoDB Local's database (see mantra.devtools.dynamodb_local)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from mantra.devtools.dynamodb_local import DB_FILE, STREAM_INDEXES, add_stream_indexes

# DynamoDB Local's own schema for stream records (from its jar), so the query plans below are the real ones
US_TABLE = (
    "CREATE TABLE us (StreamID TEXT, ShardID TEXT, SequenceNumber INTEGER, CreationDateTime INTEGER, "
    "StreamRecord BLOB, OperationType TEXT, PRIMARY KEY(SequenceNumber))"
)


def _database(tmp_path: Path) -> Path:
    with sqlite3.connect(tmp_path / DB_FILE) as db:
        db.execute(US_TABLE)
    return tmp_path


def _plan(db_dir: Path, sql: str) -> str:
    with sqlite3.connect(db_dir / DB_FILE) as db:
        return " ".join(row[-1] for row in db.execute(f"EXPLAIN QUERY PLAN {sql}", ("s",)))


def test_the_lookups_behind_every_stream_read_use_an_index_instead_of_scanning_all_records(tmp_path) -> None:
    db_dir = _database(tmp_path)
    oldest = "SELECT MIN(SequenceNumber) FROM us WHERE StreamID = ?"
    latest = "SELECT SequenceNumber FROM us WHERE ShardID = ? ORDER BY SequenceNumber DESC LIMIT 1"
    # DynamoDB Local as shipped: walks the records of every stream until it meets one of this stream's
    assert "INDEX" not in _plan(db_dir, oldest) and "INDEX" not in _plan(db_dir, latest)

    assert sorted(add_stream_indexes(db_dir)) == sorted(STREAM_INDEXES)

    assert "USING COVERING INDEX mantra_us_stream_seq" in _plan(db_dir, oldest)
    assert "USING COVERING INDEX mantra_us_shard_seq" in _plan(db_dir, latest)


def test_adding_the_indexes_again_changes_nothing(tmp_path) -> None:
    db_dir = _database(tmp_path)
    add_stream_indexes(db_dir)
    assert add_stream_indexes(db_dir) == []


def test_no_database_or_no_stream_table_is_a_warning_not_a_failure(tmp_path, caplog) -> None:
    assert add_stream_indexes(tmp_path) == []
    sqlite3.connect(tmp_path / DB_FILE).close()  # a database DynamoDB Local has not initialised yet
    assert add_stream_indexes(tmp_path) == []
    assert "could not index" in caplog.text and "no DynamoDB Local database" in caplog.text
