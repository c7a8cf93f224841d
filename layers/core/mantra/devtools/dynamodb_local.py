"""DynamoDB Local's own SQLite database, and the two indexes its stream tables lack.

DynamoDB Local keeps every stream record of every table in one SQLite table (``us``) with no index on the
stream. Each GetRecords and DescribeStream runs ``SELECT MIN(SequenceNumber) FROM us WHERE StreamID = ?``,
a scan of every stream record written in the last 24 hours, on the single thread that serves all requests.
Measured on the local platform: GetRecords went from ~5 ms at start to ~700 ms after five minutes, and every
other request queued behind it. With the indexes it stays at a few milliseconds.

So the local platform never uses ``-inMemory`` (an in-memory database cannot be reached from outside): an
"in memory" run keeps the database file on tmpfs (``/dev/shm``) instead, which is as fast, and the stand-ins
add the indexes as soon as DynamoDB Local has made its database, before any traffic.
"""

from __future__ import annotations

import logging
import sqlite3
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

DB_FILE = "shared-local-instance.db"  # the name DynamoDB Local gives its database with -sharedDb
STREAM_INDEXES = {
    "mantra_us_stream_seq": "us (StreamID, SequenceNumber)",
    "mantra_us_shard_seq": "us (ShardID, SequenceNumber)",
}


def scratch_dir() -> Path:
    """A fresh directory for a throw-away database: on tmpfs when the machine has it."""
    shm = Path("/dev/shm")  # noqa: S108 - mkdtemp below makes a private directory with a random name
    base = shm if shm.is_dir() and shm.stat().st_mode & 0o002 else None
    return Path(tempfile.mkdtemp(prefix="mantra-dynamodb-", dir=base))


def add_stream_indexes(db_dir: Path) -> list[str]:
    """Create the missing stream indexes; returns the names created. Never fails the caller: without them the
    platform is only slower."""
    path = db_dir / DB_FILE
    if not path.exists():
        log.warning(
            "no DynamoDB Local database at %s; stream reads will slow down as records accumulate", path
        )
        return []
    created = []
    try:
        with sqlite3.connect(path, timeout=10) as db:
            present = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
            for name, on in STREAM_INDEXES.items():
                if name not in present:
                    db.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {on}")
                    created.append(name)
    except sqlite3.Error:
        log.warning("could not index DynamoDB Local's stream records in %s", path, exc_info=True)
    return created
