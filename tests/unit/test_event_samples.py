"""Every function in the catalog has a sample event, and the samples parse into the contracts."""

from __future__ import annotations

import json
from pathlib import Path

from mantra.catalog import FUNCTIONS

from events.contracts import AlertTriggeredMessage, OutboxRecord, PlanChangedMessage, TickRecord
from events.scheduled import ScheduledInvocation

SAMPLES = Path(__file__).resolve().parents[2] / "events" / "samples"


def _load(name: str) -> dict:
    return json.loads((SAMPLES / f"{name}.json").read_text())


def test_every_catalog_function_has_a_sample_event():
    missing = [f.name for f in FUNCTIONS if not (SAMPLES / f"{f.name}.json").exists()]
    assert missing == []


def test_tick_sample_has_two_good_ticks_and_one_malformed_record():
    records = _load("tick_processor")["Records"]
    parsed = []
    for r in records:
        try:
            parsed.append(TickRecord.model_validate(r).kinesis.data)
        except ValueError:
            parsed.append(None)
    assert [p.seq if p else None for p in parsed] == [1, 2, None]  # type: ignore[attr-defined]


def test_outbox_and_dispatch_samples_carry_the_same_alert_event():
    outbox = OutboxRecord.model_validate(_load("outbox_relay")["Records"][0])
    message = AlertTriggeredMessage.model_validate(_load("alert_dispatch")["Records"][0])
    assert outbox.dynamodb.NewImage is not None
    assert json.loads(outbox.dynamodb.NewImage["detail"])["trigger_id"] == message.body.detail.trigger_id


def test_schedule_samples_parse():
    for name in ("scheduled_scan", "instrument_refresh", "eod_ingest"):
        assert ScheduledInvocation.model_validate(_load(name)).scheduled_time.tzinfo is not None


def test_plan_changed_sample_parses_into_the_contract():
    message = PlanChangedMessage.model_validate(_load("plan_limits")["Records"][0])
    assert message.body.detail_type == "plan.changed"
    assert (message.body.detail.tenant_id, message.body.detail.plan_id) == ("ten_demo", "starter")
