"""Market data on DynamoDB Local: the instrument refresh and the by-underlying index, late and duplicated ticks
through the real per-instrument transaction, and the holiday skip of the scheduled scan."""

from __future__ import annotations

import random
from typing import Any

import timebase
from mantra.clock import SystemClock, ist_from_ms
from mantra.devtools.bootstrap import simulated_option_contracts
from mantra.domain import Tick
from mantra.market.instrument_master import (
    BUNDLED_KITE,
    InstrumentCatalog,
    InstrumentQuery,
    load_dump,
    parse_angel,
    parse_kite,
    refresh,
)
from mantra.market.ticks import TickProcessor
from mantra.settings import Settings
from mantra.store.repositories import (
    DynamoAlertRepository,
    DynamoCandleRepository,
    DynamoInstrumentRepository,
    DynamoQuoteRepository,
)

T0 = timebase.SESSION_10AM + 3_600_000  # 11:00 IST on a session day after the suite's moment


KITE_RELIANCE = "738561"  # RELIANCE in the bundled Kite instruments sample


def _tick(symbol: str, seq: int, ts_ms: int, price: int, qty: int = 1) -> Tick:
    return Tick(
        tick_id=f"{symbol}-{seq}",
        seq=seq,
        symbol=symbol,
        token="it",
        ts_ms=ts_ms,
        ltp_paise=price,
        last_qty=qty,
        volume=seq,
    )


def test_refresh_loads_the_dump_and_the_chain_is_an_index_query(platform: Settings) -> None:
    repo = DynamoInstrumentRepository()
    now_ms = SystemClock().now_ms()
    today = ist_from_ms(now_ms).date().isoformat()
    simulated = {i.symbol: i for i in simulated_option_contracts(platform, now_ms)}
    angel, kite = load_dump(platform.instrument_source), load_dump(BUNDLED_KITE)
    live = {i.symbol: i for i in angel.instruments if i.expiry is None or i.expiry >= today}
    # Given the master seeded at start-up (the Angel sample, the demo set and today's simulated option chains)
    before = {i.symbol for i in repo.all()}
    assert set(simulated) <= before
    # When the Angel sample is loaded again, then the Kite one, on today's date
    first = refresh(repo, angel, ist_from_ms(now_ms).date())
    second = refresh(repo, kite, ist_from_ms(now_ms).date())
    # Then the first finds every live row already there (the demo set's names differ), skips the contracts that
    # expired before today, and removes nothing: the simulated contracts the dump lacks stay, reported as such
    assert first.added == 0 and first.added + first.changed + first.unchanged == first.loaded == len(live)
    assert first.skipped.get("expired", 0) == len(angel.instruments) - len(live)
    assert first.not_in_dump == len(before - set(live)) >= len(set(simulated) - set(live))
    assert second.added == 0 and second.loaded == first.loaded
    reliance = repo.get("RELIANCE")
    assert reliance is not None and reliance.isin == "INE002A01018"
    # And each broker's own token is kept, so failing over from Angel One to Kite subscribes the right one
    assert reliance.token_for("angel") == "2885" and reliance.token_for("kite") == KITE_RELIANCE
    assert reliance.token == "2885"
    # And a chain of one expiry (the dump's last live NIFTY expiry, or the simulated one once the dump's have
    # passed) comes from the by_underlying index, and no expired contract is in it
    nifty = [i for i in [*live.values(), *simulated.values()] if i.underlying == "NIFTY" and i.expiry]
    expiry = max(i.expiry for i in nifty if i.expiry)
    chain = repo.by_underlying("NIFTY", expiry)
    assert len(chain) == len({i.symbol for i in nifty if i.expiry == expiry}) > 0
    assert all(i.expiry is not None and i.expiry >= today for i in repo.by_underlying("NIFTY"))
    # And text search keeps answering RELI with exactly RELIANCE
    catalog = InstrumentCatalog(repo)
    assert [i.symbol for i in catalog.search(InstrumentQuery("RELI"))] == ["RELIANCE"]
    puts = catalog.search(InstrumentQuery(underlying="BANKNIFTY", instrument_type="PE", limit=500))
    dump_puts = {s for s, i in live.items() if i.underlying == "BANKNIFTY" and i.instrument_type == "PE"}
    assert {i.symbol for i in puts} == dump_puts | {s for s, i in simulated.items() if i.underlying == "BANKNIFTY" and i.instrument_type == "PE"}  # fmt: skip


def test_one_symbol_on_nse_and_bse_is_stored_twice_and_a_bare_symbol_is_the_nse_one(
    platform: Settings,
) -> None:
    # Given Kite's dump listing one company on NSE and on BSE (a symbol of its own, so no other test's
    # search sees two rows), and Angel's listing the BSE one
    repo = DynamoInstrumentRepository()
    kite = parse_kite(
        "instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,tick_size,lot_size,"
        "instrument_type,segment,exchange\n"
        "7799041,30465,ITRKEYS,ITR KEYS LTD,812.35,,0,0.05,1,EQ,NSE,NSE\n"
        "139896580,546471,ITRKEYS,ITR KEYS LTD,812.40,,0,0.01,1,EQ,BSE,BSE\n"
    )
    angel = parse_angel([
        {"token": "546471", "symbol": "ITRKEYS", "name": "ITRKEYS", "expiry": "", "strike": "-1.000000",
         "lotsize": "1", "instrumenttype": "", "exch_seg": "BSE", "tick_size": "5.000000"},
    ])  # fmt: skip
    # When both are loaded into the table, Kite first
    report = refresh(repo, [kite, angel])
    # Then both listings are there, each under its own key, and the brokers' tick disagreement is reported
    assert report.added == 2 and report.bad_rows == 0
    assert report.conflict_list == ["BSE:ITRKEYS: tick_size_paise differs (kite says 1, angel says 5)"]
    nse, bse = repo.get("ITRKEYS"), repo.get("BSE:ITRKEYS")
    assert nse is not None and bse is not None and repo.get("NSE:ITRKEYS") == nse
    assert (nse.exchange, nse.token, nse.tick_size_paise) == ("NSE", "7799041", 5)
    assert (bse.exchange, bse.symbol, bse.tick_size_paise) == ("BSE", "ITRKEYS", 1)
    assert bse.broker_tokens == {"kite": "139896580", "kite_exchange": "546471", "angel": "546471"}
    # And a second load of the same dumps changes nothing
    again = refresh(repo, [kite, angel])
    assert again.written == 0 and {i.exchange for i in repo.all() if i.symbol == "ITRKEYS"} == {"NSE", "BSE"}


def test_reordered_and_duplicated_ticks_through_real_transactions_give_the_clean_candles(
    platform: Settings,
) -> None:
    quotes, candles = DynamoQuoteRepository(), DynamoCandleRepository()

    def processor() -> TickProcessor:
        return TickProcessor(
            quotes, candles, DynamoAlertRepository(), SystemClock(), ("1m", "5m"), max_workers=4
        )

    rng = random.Random(5)
    clean = [_tick(s, n, T0 + n * 7_000, 10_000 + rng.randint(-300, 300), rng.randint(1, 9)) for s in ("ITR1", "ITR2") for n in range(1, 61)]  # fmt: skip
    # Given the clean stream applied under one set of symbols...
    p = processor()
    for i in range(0, len(clean), 25):
        p.process(clean[i : i + 25])
    # ...and the same ticks, shuffled and partly repeated, under another
    messy = [t.model_copy(update={"symbol": t.symbol + "X", "tick_id": t.tick_id + "X"}) for t in clean]
    messy += rng.sample(messy, 30)
    rng.shuffle(messy)
    summaries = [p.process(messy[i : i + 17]) for i in range(0, len(messy), 17)]
    # Then the stored candles are the same, and late ones are flagged on the candle
    late = 0
    for sym in ("ITR1", "ITR2"):
        for tf in ("1m", "5m"):
            a = candles.range(sym, tf, T0 - 3_600_000, T0 + 3_600_000, 100)
            b = candles.range(sym + "X", tf, T0 - 3_600_000, T0 + 3_600_000, 100)
            strip = {"symbol", "late_ticks"}
            assert [c.model_dump(exclude=strip) for c in a] == [c.model_dump(exclude=strip) for c in b]
            late += sum(c.late_ticks for c in b if tf == "1m")
    assert sum(s.applied for s in summaries) == len(clean) and sum(s.duplicates for s in summaries) == 30
    assert late == sum(s.late_ticks for s in summaries) > 0
    # And redelivering everything changes nothing
    before = candles.range("ITR1X", "1m", T0 - 3_600_000, T0 + 3_600_000, 100)
    again = p.process(messy)
    assert again.applied == 0 and candles.range("ITR1X", "1m", T0 - 3_600_000, T0 + 3_600_000, 100) == before


def test_scheduled_scan_skips_an_nse_holiday(platform: Settings) -> None:
    from functions.scheduled_scan.handler import lambda_handler

    class Ctx:
        function_name, memory_limit_in_mb, aws_request_id = "scheduled_scan", 128, "it-holiday"
        invoked_function_arn = "arn:aws:lambda:ap-south-1:000000000000:function:scheduled_scan"

    event: dict[str, Any] = {"schedule": "scan-every-minute", "scheduled_time": "2026-11-24T04:30:00Z"}
    assert lambda_handler(event, Ctx()) == {"skipped": "holiday", "date": "2026-11-24"}  # type: ignore[arg-type]
    # the schedule fires every day until 20:00 IST; a normal day's evening is no session
    evening = {**event, "scheduled_time": "2026-11-23T12:30:00Z"}  # Monday 18:00 IST
    assert lambda_handler(evening, Ctx()) == {"skipped": "outside the session", "date": "2026-11-23"}  # type: ignore[arg-type]
