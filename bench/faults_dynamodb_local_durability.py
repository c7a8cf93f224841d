"""Does DynamoDB Local keep a write it acknowledged when it is killed with -9? (The fault suite's DynamoDB case
depends on it.) Transactions of two puts in a loop; kill -9 after 3 s; restart on the same data; count the
acknowledged transactions missing (or half there). Run: .venv/bin/python bench/faults_dynamodb_local_durability.py
"""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path

import boto3
from mantra.devtools import standins

REPO = Path(__file__).resolve().parents[1]


def one_kill() -> tuple[int, list[int], list[int]]:
    jar = standins.dynamodb_jar_dir(standins.ensure_npm_standins(REPO / ".standins"))
    port, data = standins.free_port(), tempfile.mkdtemp(prefix="ddb-durability-")
    argv = [
        "java",
        f"-Djava.library.path={jar / 'DynamoDBLocal_lib'}",
        "-jar",
        str(jar / "DynamoDBLocal.jar"),
    ]
    argv += ["-port", str(port), "-sharedDb", "-disableTelemetry", "-dbPath", data]
    ddb = standins.spawn("dynamodb", argv, port, Path(data) / "log", cwd=jar)
    standins.wait_ready([ddb])
    c = boto3.client(
        "dynamodb",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="ap-south-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",  # noqa: S106 - DynamoDB Local takes any
    )
    table = "durability"
    c.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    acked: list[int] = []

    def writer() -> None:
        i = 0
        while True:
            items = [{"Put": {"TableName": table, "Item": {"k": {"S": f"{side}{i}"}}}} for side in "ab"]
            try:
                c.transact_write_items(TransactItems=items)
            except Exception:
                return
            acked.append(i)
            i += 1

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    time.sleep(3)
    standins.kill(ddb)
    thread.join(30)
    standins.restart(ddb)
    keys: set[str] = set()
    for page in c.get_paginator("scan").paginate(TableName=table):
        keys |= {it["k"]["S"] for it in page["Items"]}
    standins.stop_all([ddb])
    lost = [i for i in acked if f"a{i}" not in keys or f"b{i}" not in keys]
    half = [i for i in range(len(acked) + 1) if (f"a{i}" in keys) != (f"b{i}" in keys)]
    return len(acked), lost, half


if __name__ == "__main__":
    for _ in range(5):
        n, lost, half = one_kill()
        print(
            f"{n} transactions acknowledged; lost after kill -9: {lost or 'none'}; half-applied: {half or 'none'}"
        )
