"""Saved scanners on the real stand-ins: the scheduled_scan handler runs a due scanner over stored candles (with
simulated backfill), stores each new hit as a signal and writes one signal.detected outbox event per hit, once,
even when the same schedule is delivered twice; the API lists the signals to their tenant only."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from fastapi.testclient import TestClient
from mantra.clock import IST
from mantra.container import get_container
from mantra.domain import Candle
from mantra.market.history import slots_before
from mantra.scans.models import Every
from mantra.settings import Settings
from mantra.store.models import OutboxItem
from mantra.store.repositories import DynamoUserRepository

from frontend_api.app import create_app
from functions.scheduled_scan.handler import lambda_handler

REPO = Path(__file__).resolve().parents[2]
AT = datetime(2026, 11, 23, 10, 5, tzinfo=IST)  # Monday, in the session; due: 1m and 5m


class _Context:
    function_name = "scheduled_scan"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:ap-south-1:000000000000:function:scheduled_scan"
    aws_request_id = "req-1"


def _stored_daily(symbol: str, n: int, end_ms: int, last_close: int) -> list[Candle]:
    starts = slots_before("1d", end_ms, n)
    out = []
    for i, s in enumerate(starts):
        close = last_close - (n - 1 - i) * 100  # a steady climb into the scan time
        out.append(
            Candle(
                symbol=symbol,
                timeframe="1d",
                start_ms=s,
                open_paise=close - 50,
                high_paise=close + 100,
                low_paise=close - 150,
                close_paise=close,
                volume=1_000 + i,
                ticks=10,
                first_tick_ms=s,
                last_tick_ms=s + 1,
            )
        )
    return out


def test_scheduled_scanner_stores_signals_and_publishes_each_hit_once(platform: Settings) -> None:
    # Given the Pro user's scanner over two symbols, run every 5 minutes, and 40 stored daily candles of RELIANCE
    container = get_container(platform)
    pro = DynamoUserRepository().by_email("pro@demo.trademantra.in")[0]  # type: ignore[index]
    starter = DynamoUserRepository().by_email("starter@demo.trademantra.in")[0]  # type: ignore[index]
    at_ms = int(AT.timestamp() * 1000)
    container.candles.put_many(_stored_daily("RELIANCE", 40, at_ms, 130_000))
    scanner = container.scans.create(
        pro, "climbers", "close > sma(close, 20) and close > 0", "1d", "RELIANCE,TCS", Every.FIVE_MINUTES
    )
    event = json.loads((REPO / "events/samples/scheduled_scan.json").read_text())
    event["scheduled_time"] = AT.isoformat()

    # When the schedule fires, and is delivered a second time
    first = lambda_handler(event, _Context())  # type: ignore[arg-type]
    second = lambda_handler(event, _Context())  # type: ignore[arg-type]

    # Then RELIANCE (stored, rising above its average) is a signal, stored and announced once
    assert first["saved"]["due"] == ["1m", "5m"]
    assert first["saved"]["scanners_run"] >= 1
    signals = container.scans.signals(pro, scanner.scanner_id)
    reliance = [s for s in signals if s.symbol == "RELIANCE"]
    assert len(reliance) == 1
    assert reliance[0].price_paise == 130_000 and reliance[0].simulated is False
    assert second["saved"]["signals"] == 0 and second["saved"]["new_events"] == 0
    stored = OutboxItem.get(reliance[0].signal_id)
    assert stored.detail_type == "signal.detected"
    assert stored.detail["symbol"] == "RELIANCE" and stored.detail["price"] == "1300.00"
    assert stored.detail["tenant_id"] == pro.tenant_id

    # And the API lists the signal to its tenant, and not to another
    client = TestClient(create_app(platform, container))
    issuer = client.app.state.dev_issuer  # type: ignore[attr-defined]
    now_s = container.clock.now_ms() // 1000
    mine = client.get("/api/signals", headers={"Authorization": f"Bearer {issuer.issue(pro, now_s)}"})
    theirs = client.get("/api/signals", headers={"Authorization": f"Bearer {issuer.issue(starter, now_s)}"})
    assert mine.status_code == 200 and "RELIANCE" in {s["symbol"] for s in mine.json()}
    assert theirs.status_code == 200 and theirs.json() == []
    other = client.get(
        f"/api/scanners/{scanner.scanner_id}",
        headers={"Authorization": f"Bearer {issuer.issue(starter, now_s)}"},
    )
    assert other.status_code == 404
