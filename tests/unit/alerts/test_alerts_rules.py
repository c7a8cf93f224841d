"""Rule kinds beyond price levels, and the lifecycle settings: expiry, pause, market hours, recurrence."""

from __future__ import annotations

from datetime import UTC, datetime

from mantra.alerts.preferences import in_quiet_hours
from mantra.alerts.rules import evaluate_batch
from mantra.clock import IST
from mantra.domain import Alert, AlertCondition, AlertStatus, Channel, Preferences, Quote, Tick

C = AlertCondition
MON_10_IST = int(datetime(2026, 11, 23, 10, 0, tzinfo=IST).timestamp() * 1000)
MON_16_IST = int(datetime(2026, 11, 23, 16, 0, tzinfo=IST).timestamp() * 1000)
SAT_10_IST = int(datetime(2026, 11, 28, 10, 0, tzinfo=IST).timestamp() * 1000)


def alert(condition: AlertCondition, **kw: object) -> Alert:
    base: dict[str, object] = dict(
        tenant_id="t",
        alert_id=f"a-{condition.value}",
        user_id="u",
        symbol="SBIN",
        condition=condition,
        level_paise=0,
        channels=(Channel.IN_APP,),
        note=None,
        status=AlertStatus.ACTIVE,
        created_ms=0,
    )
    return Alert(**{**base, **kw})  # type: ignore[arg-type]


def tick(seq: int, price: int, ts: int = MON_10_IST, **kw: object) -> Tick:
    return Tick(
        tick_id=f"t{seq}",
        seq=seq,
        symbol="SBIN",
        token="3045",
        ts_ms=ts + seq,
        ltp_paise=price,
        last_qty=1,
        volume=seq,
        **kw,
    )  # type: ignore[arg-type]


def quote(ltp: int, prev_close: int = 80_000, open_: int = 81_000) -> dict[str, Quote]:
    return {
        "SBIN": Quote(
            symbol="SBIN",
            ltp_paise=ltp,
            open_paise=open_,
            high_paise=ltp,
            low_paise=ltp,
            prev_close_paise=prev_close,
            bid_paise=None,
            ask_paise=None,
            volume=0,
            tick_ts_ms=MON_10_IST,
            tick_id="t0",
            seq=0,
            session_date="2026-11-23",
        )
    }


def fired(alerts: list[Alert], ticks: list[Tick], prev: dict[str, Quote], volume=None) -> list[str]:  # type: ignore[no-untyped-def]
    return [t.alert.alert_id for t in evaluate_batch({"SBIN": ticks}, {"SBIN": alerts}, prev, volume)]


def test_change_pct_above_fires_once_the_move_from_previous_close_reaches_the_threshold():
    # Given +2.5% from a previous close of 800.00 / When SBIN goes 815 then 820.00
    rule = alert(C.CHANGE_ABOVE, threshold_bps=250, window="1d")
    trig = evaluate_batch({"SBIN": [tick(1, 81_500), tick(2, 82_000)]}, {"SBIN": [rule]}, quote(81_000))
    # Then it fires on the tick at +2.50%, not before
    assert [t.tick.seq for t in trig] == [2]
    assert trig[0].facts["change_pct"] == "2.50"


def test_change_pct_below_with_session_window_measures_from_todays_open():
    rule = alert(C.CHANGE_BELOW, threshold_bps=100, window="session")
    assert fired([rule], [tick(1, 80_200)], quote(81_000, open_=81_000)) == []  # -0.98 %
    assert fired([rule], [tick(1, 80_190)], quote(81_000, open_=81_000)) == [rule.alert_id]  # -1.00 %


def test_volume_spike_fires_against_the_minute_average_and_not_without_history():
    rule = alert(C.VOLUME_SPIKE, threshold_bps=300, lookback=20)
    assert fired([rule], [tick(1, 81_000)], quote(81_000), lambda s, n: (3_100, 1_000.0)) == [rule.alert_id]
    assert fired([rule], [tick(1, 81_000)], quote(81_000), lambda s, n: (2_900, 1_000.0)) == []
    assert fired([rule], [tick(1, 81_000)], quote(81_000), lambda s, n: None) == []


def test_expired_and_paused_alerts_never_fire():
    expired = alert(C.ABOVE, level_paise=100, expires_ms=MON_10_IST - 1)
    paused = alert(C.ABOVE, level_paise=100, alert_id="p", status=AlertStatus.PAUSED)
    live = alert(C.ABOVE, level_paise=100, alert_id="live", expires_ms=MON_10_IST + 60_000)
    assert fired([expired, paused, live], [tick(1, 81_000)], quote(80_000)) == ["live"]


def test_market_hours_only_ignores_ticks_outside_the_ist_session():
    rule = alert(C.ABOVE, level_paise=100, market_hours_only=True)
    assert fired([rule], [tick(1, 81_000, ts=MON_16_IST)], quote(80_000)) == []
    assert fired([rule], [tick(1, 81_000, ts=SAT_10_IST)], quote(80_000)) == []
    assert fired([rule], [tick(1, 81_000, ts=MON_10_IST)], quote(80_000)) == [rule.alert_id]


def test_price_and_change_rules_in_one_batch_each_fire_once():
    up = alert(C.CROSSES_ABOVE, level_paise=81_050)
    move = alert(C.CHANGE_ABOVE, threshold_bps=100, window="1d")
    trig = evaluate_batch({"SBIN": [tick(1, 81_100), tick(2, 81_200)]}, {"SBIN": [up, move]}, quote(81_000))
    assert sorted(t.alert.alert_id for t in trig) == sorted([up.alert_id, move.alert_id])
    assert {t.alert.alert_id: t.prev_paise for t in trig}[up.alert_id] == 81_000


def test_quiet_hours_wrap_past_midnight_in_ist():
    prefs = Preferences(quiet_start="22:00", quiet_end="07:00")
    at = lambda h, m: int(datetime(2026, 11, 23, h, m, tzinfo=IST).timestamp() * 1000)  # noqa: E731
    assert in_quiet_hours(prefs, at(23, 30)) and in_quiet_hours(prefs, at(6, 59))
    assert not in_quiet_hours(prefs, at(7, 0)) and not in_quiet_hours(prefs, at(21, 59))
    assert not in_quiet_hours(Preferences(), at(23, 30))
    # the same instant in UTC is 18:00 -> 23:30 IST: time zones are explicit
    assert in_quiet_hours(prefs, int(datetime(2026, 11, 23, 18, 0, tzinfo=UTC).timestamp() * 1000))
