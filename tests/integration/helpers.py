from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import timebase
from mantra.domain import Tick
from mantra.settings import Settings
from mantra.store.aws import client


def tick(
    symbol: str, seq: int, price: int, qty: int = 10, ts_ms: int | None = None, token: str = "3045"
) -> Tick:
    ts = ts_ms if ts_ms is not None else timebase.SESSION_10AM + seq  # a Monday in the session
    return Tick(
        tick_id=f"{token}-{seq}",
        seq=seq,
        symbol=symbol,
        token=token,
        ts_ms=ts,
        ltp_paise=price,
        last_qty=qty,
        volume=seq * qty,
        bid_paise=price - 5,
        ask_paise=price + 5,
    )


def put_raw(kinesis: Any, stream: str, records: list[tuple[str, bytes]]) -> None:
    resp = kinesis.put_records(
        StreamName=stream, Records=[{"PartitionKey": k, "Data": d} for k, d in records]
    )
    assert resp["FailedRecordCount"] == 0


def tick_bytes(t: Tick) -> bytes:
    return t.model_dump_json().encode()


def until(predicate: Callable[[], Any], timeout_s: float = 10.0, every_s: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every_s)
    raise AssertionError(f"condition not met within {timeout_s}s")


def sqs_bodies(sqs: Any, url: str) -> list[dict[str, Any]]:
    out = []
    while True:
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
            "Messages", []
        )
        if not msgs:
            return out
        for m in msgs:
            out.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def stream_ticks(settings: Settings, symbol: str) -> list[Tick]:
    """Every tick of ``symbol`` in the tick stream, oldest first per shard (one instrument is on one shard)."""
    kinesis = client("kinesis", settings.region)
    stream = settings.name(settings.tick_stream)
    out: list[Tick] = []
    for shard in kinesis.describe_stream(StreamName=stream)["StreamDescription"]["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            resp = kinesis.get_records(ShardIterator=iterator, Limit=10_000)
            # records are keyed by instrument token; other tests put records that are not ticks at all
            data = (json.loads(r["Data"]) for r in resp["Records"])
            out += [Tick.model_validate(d) for d in data if isinstance(d, dict) and d.get("symbol") == symbol]
            if not resp["Records"] or resp.get("MillisBehindLatest", 0) == 0:
                break
            iterator = resp["NextShardIterator"]
    return out


def user_with_mfa(app: Any, plan_id: str, now_ms: int, role: str = "trader") -> tuple[Any, dict[str, str]]:
    """A new user (own tenant) on ``plan_id`` with two-factor on in the users table, and a bearer token for it:
    for tests of what needs MFA (API keys) without turning it on for a seeded user other tests sign in as."""
    from mantra.domain import Role, User
    from mantra.store.account_repository import DynamoAccounts
    from mantra.store.repositories import DynamoUserRepository

    n = time.time_ns()
    user = User(
        user_id=f"usr_mfa_{n}",
        email=f"mfa{n}@test.trademantra.in",
        name=f"MFA {n}",
        tenant_id=f"tnt_mfa_{n}",
        roles=frozenset({Role(role)}),
        plan_id=plan_id,
    )
    DynamoUserRepository().put(user, "unused", now_ms)
    accounts = DynamoAccounts()
    accounts.set_pending_mfa(user.user_id, "JBSWY3DPEHPK3PXP")
    assert accounts.enable_mfa(user.user_id, "JBSWY3DPEHPK3PXP", now_ms, 0)
    token = app.state.dev_issuer.issue(user, now_ms // 1000)
    return user.model_copy(update={"mfa_enabled": True}), {"Authorization": f"Bearer {token}"}
