"""kinesalite and DynamoDB Local killed with -9 mid-traffic and restarted on their data: the feed's runner keeps
publishing through the outage (its buffer holds what Kinesis refused), the running tick_processor and
alert_dispatch pick up where they were, and nothing is lost or doubled: candles, quotes, and each alert's inbox
item, e-mail and webhook delivery."""

from __future__ import annotations

import time

import pytest
from faultkit import AlertWatch, FaultPlatform, record
from mantra.store.aws import client
from traffic import (
    BASE_PRICES,
    Tape,
    TapeProvider,
    candle_mismatches,
    live_feed,
    quote_seq,
    resend_last,
    wait_drained,
)

DOWN_S = 4.0  # how long the stand-in stays dead


def _rising(i: int) -> int:
    return i * 10 - 1200  # 20 ticks a second: crosses base-300 after ~4.5 s and base+400 after ~8 s


@pytest.mark.parametrize(
    ("standin", "symbols"),
    [("kinesis", ("RELIANCE", "TCS", "ITC")), ("dynamodb", ("LT", "SBIN", "INFY"))],
)
def test_standin_killed_mid_traffic_loses_and_doubles_nothing(
    faulty: FaultPlatform, watch: AlertWatch, standin: str, symbols: tuple[str, ...]
):
    # Given the feed streaming three instruments, and alerts the rising first one crosses during and after
    # the outage
    settings = faulty.settings
    lead = symbols[0]
    watch.cross_above(lead, [BASE_PRICES[lead] - 300, BASE_PRICES[lead] + 400])
    tape = Tape.fresh()
    provider = TapeProvider(tape, {lead: _rising, **dict.fromkeys(symbols[1:])})
    with live_feed(settings, provider):
        time.sleep(3)
        # When the stand-in is killed with -9 mid-traffic, stays down, and is started again on its data
        killed_at = time.monotonic()
        faulty.kill(standin)
        time.sleep(DOWN_S)
        listening_s = faulty.restart(standin)
        back_at = time.monotonic()
        due = provider.last_seq[lead]
        while quote_seq(lead) < due and time.monotonic() - back_at < 60:
            time.sleep(0.05)
        caught_up_s = time.monotonic() - back_at
        time.sleep(5)  # traffic goes on after the restart
    last = resend_last(client("kinesis", settings.region), settings.name("ticks"), tape)
    drained_s = wait_drained(faulty.checkpoint_dir(), last, timeout_s=120)

    # Then every tick sent is in its candles once and the quotes stand at the last tick
    assert candle_mismatches(tape) == []
    # And each alert crossed reached the inbox, the mailbox and the webhook receiver exactly once
    counts = watch.wait_all_delivered(timeout_s=90)
    assert list(counts.values()) == [(1, 1, 1)] * 2, counts
    record(
        f"{standin} kill -9",
        f"dead {DOWN_S:.0f} s, listening {listening_s:.1f} s after its restart ({back_at - killed_at:.1f} s after"
        f" the kill), pipeline caught up {caught_up_s:.1f} s later;"
        f" {tape.total_ticks()} ticks, 2 alerts x 3 channels exact (drained {drained_s:.1f} s after the feed)",
    )
