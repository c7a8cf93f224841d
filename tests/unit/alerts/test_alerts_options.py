"""Option-chain rules: PCR on an underlying, IV on a contract or the ATM, OI change on a contract."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

from mantra.clock import ManualClock

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))

from core_fakes import InMemoryAlerts, InMemoryInstruments
from mantra.alerts.options import OptionAlerts, measure
from mantra.domain import Alert, AlertCondition, AlertStatus, Channel, Instrument
from mantra.errors import NotFound
from mantra.market.option_chain import ChainSummary, OptionChain, OptionLeg, StrikeRow

C = AlertCondition
CALL = "NIFTY26N2424000CE"


def leg(symbol: str, iv: float | None, oi: int | None, change: int | None) -> OptionLeg:
    return OptionLeg(
        symbol=symbol,
        ltp_paise=18_240,
        bid_paise=None,
        ask_paise=None,
        volume=10,
        oi=oi,
        oi_change=change,
        iv=iv,
        iv_status="ok",
        delta=0.5,
        gamma=0.0,
        theta=0.0,
        vega=0.0,
    )


CHAIN = OptionChain(
    underlying="NIFTY",
    expiry="2026-11-24",
    as_of_ms=0,
    rows=(
        StrikeRow(2_400_000, leg(CALL, 0.165, 12_500, 2_500), leg("NIFTY26N2424000PE", 0.171, 9_000, -500)),
    ),
    smile=(0.165,),
    summary=ChainSummary(
        spot_paise=2_401_250,
        forward=24_020.0,
        atm_strike_paise=2_400_000,
        pcr_oi=1.34,
        pcr_volume=0.9,
        max_pain_paise=2_400_000,
        atm_iv=0.168,
        iv_put_call_atm=0.6,
        rr25=-1.0,
        bf25=0.3,
        years_to_expiry=0.003,
        rate=0.065,
    ),
    expiries=("2026-11-24",),
)


class Chains:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None]] = []

    def chain(self, underlying: str, expiry: str | None = None) -> OptionChain:
        self.calls.append((underlying, expiry))
        if underlying != "NIFTY":
            raise NotFound(f"no option contracts for {underlying}")
        return CHAIN


class Alerts(InMemoryAlerts):
    def active_for_symbols(self, symbols):  # type: ignore[no-untyped-def]
        out: dict[str, list[Alert]] = {}
        for a in self.items.values():
            if a.watch_key in set(symbols) and a.status is AlertStatus.ACTIVE:
                out.setdefault(a.watch_key, []).append(a)
        return out


def rule(alert_id: str, condition: AlertCondition, symbol: str, threshold: int) -> Alert:
    return Alert(
        tenant_id="t",
        alert_id=alert_id,
        user_id="u",
        symbol=symbol,
        condition=condition,
        level_paise=0,
        channels=(Channel.IN_APP,),
        note=None,
        status=AlertStatus.ACTIVE,
        created_ms=0,
        threshold_bps=threshold,
    )


def test_each_rule_reads_its_figure_in_its_own_unit():
    assert measure(rule("a", C.PCR_ABOVE, "NIFTY", 120), CHAIN) == (1.34, 2_401_250)
    assert measure(rule("b", C.IV_ABOVE, CALL, 1500), CHAIN)[0] == 16.5  # the contract's IV, percent
    assert measure(rule("c", C.IV_ABOVE, "NIFTY", 1500), CHAIN)[0] == 16.8  # ATM IV of the underlying
    assert measure(rule("d", C.OI_CHANGE_ABOVE, CALL, 2000), CHAIN)[0] == 25.0  # 2,500 on 10,000 at the open


def test_the_schedule_fires_the_rules_whose_figure_crossed_and_reads_each_chain_once():
    alerts, chains = Alerts(), Chains()
    instruments = InMemoryInstruments()
    instruments.put_many(
        [
            Instrument(
                symbol=CALL,
                token="1",
                exchange="NFO",
                name="NIFTY 24000 CE",
                instrument_type="CE",
                underlying="NIFTY",
                expiry="2026-11-24",
                strike_paise=2_400_000,
            )
        ]
    )
    for a in (
        rule("pcr_hit", C.PCR_ABOVE, "NIFTY", 130),
        rule("pcr_miss", C.PCR_BELOW, "NIFTY", 100),
        rule("iv_hit", C.IV_BELOW, CALL, 1700),
        rule("oi_hit", C.OI_CHANGE_ABOVE, CALL, 2000),
        rule("unknown", C.PCR_ABOVE, "SENSEX", 100),
    ):
        alerts.create(a)
    at = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
    runner = OptionAlerts(alerts, chains, instruments, ManualClock(1_795_400_000_000))
    first = runner.run(at)
    per_run = list(chains.calls)
    again = runner.run(at)
    assert (first.fired, first.checked, first.failed) == (3, 4, ["unknown"])
    assert again.fired == 0  # one-shot rules are spent; a retried schedule fires nothing twice
    fired = {d["alert_id"]: d for _, d in alerts.outbox.values()}
    assert set(fired) == {"pcr_hit", "iv_hit", "oi_hit"}
    assert fired["pcr_hit"]["facts"]["value"] == 1.34 and fired["pcr_hit"]["price"] == "24012.50"
    # each chain is read once per run, the contract's rules from its own expiry's chain
    assert sorted(per_run, key=str) == sorted(
        [("NIFTY", None), ("NIFTY", "2026-11-24"), ("SENSEX", None)], key=str
    )
