"""Saved scanners on the real stand-ins: the scheduled_scan handler runs a due scanner over the stored real
history (the demo seed's NSE daily reports), stores each new hit as a signal and writes one signal.detected outbox event per hit, once,
even when the same schedule is delivered twice; the API lists the signals to their tenant only."""

from __future__ import annotations

import json
from datetime import datetime, time
from pathlib import Path

from fastapi.testclient import TestClient
from mantra.clock import IST, ist_from_ms
from mantra.container import get_container
from mantra.scans.models import Every
from mantra.settings import Settings
from mantra.store.models import OutboxItem
from mantra.store.repositories import DynamoUserRepository
from nse_files import daily_panel
from timebase import SESSION_DAY

from frontend_api.app import create_app
from functions.scheduled_scan.handler import lambda_handler

REPO = Path(__file__).resolve().parents[2]
# a trading Monday after the suite's moment, in the session (due: 1m and 5m): outbox rows expire 7 days after
# they are written, and DynamoDB Local sweeps expired rows, so a fixed past date loses them as the calendar moves
AT = datetime.combine(SESSION_DAY, time(10, 5), tzinfo=IST)


class _Context:
    function_name = "scheduled_scan"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:ap-south-1:000000000000:function:scheduled_scan"
    aws_request_id = "req-1"


def test_scheduled_scanner_stores_signals_and_publishes_each_hit_once(platform: Settings) -> None:
    # Given the Pro user's scanner over two symbols, run every 5 minutes, that RELIANCE's last real close
    # meets and TCS's does not
    container = get_container(platform)
    pro = DynamoUserRepository().by_email("pro@demo.trademantra.in")[0]  # type: ignore[index]
    starter = DynamoUserRepository().by_email("starter@demo.trademantra.in")[0]  # type: ignore[index]
    panel = daily_panel(["RELIANCE", "TCS"])
    reliance_close, tcs_close = panel.close[-1]
    assert reliance_close < tcs_close
    line = (reliance_close + tcs_close) / 2
    scanner = container.scans.create(
        pro,
        "below the line",
        f"close < {line:.2f}",
        "1d",
        "RELIANCE,TCS",
        Every.FIVE_MINUTES,
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
    assert reliance[0].price_paise == round(reliance_close * 100)
    assert ist_from_ms(reliance[0].bar_ms).date() == panel.days[-1]  # the latest real session, named
    assert not [s for s in signals if s.symbol == "TCS"]
    assert second["saved"]["signals"] == 0 and second["saved"]["new_events"] == 0
    stored = OutboxItem.get(reliance[0].signal_id)
    assert stored.detail_type == "signal.detected"
    assert stored.detail["symbol"] == "RELIANCE" and stored.detail["price"] == f"{reliance_close:.2f}"
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
