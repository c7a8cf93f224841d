"""The live chain: IV from the mid (else LTP, flagged) on the expiry's forward (future, parity, spot carry),
OI change and build-up against the previous session's stored F&O report (first tick only without one), PCR
by expiry, and no passed expiry ever listed.

The master and the quotes are the exchange's real NIFTY contracts: the 2025-02-05 report's names, tokens,
closes and OI stand for the live quotes at 15:00 IST that day; the stored previous session is the real
2025-02-04 report. So the OI change the chain computes must be the exchange's own ChngInOpnIntrst of 02-05.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time
from decimal import Decimal, localcontext
from pathlib import Path

import numpy as np
import pytest
from fo_fakes import MemoryFoStore, fo_files, fo_rows, raw_rows
from mantra.clock import IST, ManualClock
from mantra.domain import Instrument, Quote
from mantra.errors import NotFound
from mantra.market.fo_contracts import sessions_of
from mantra.market.option_chain import OptionChainService
from mantra.market.past_chains import PastChains
from mantra.quant.options import black76_price

RATE = 0.065
PREV, TODAY = date(2025, 2, 4), date(2025, 2, 5)
SPOT_SYMBOL = "NIFTY 50"
MONTHLY = "2025-02-27"  # the month's expiry, with a future (the weeklies have none)


def _ms(day: date, hh: int, mm: int, ss: int = 0) -> int:
    return int(datetime.combine(day, time(hh, mm, ss), tzinfo=IST).timestamp() * 1000)


def _paise(text: str) -> int:
    return int(Decimal(text) * 100)


def _file(day: date) -> Path:
    return next(p for p in fo_files() if f"_{day:%Y%m%d}_" in p.name)


def _nifty(day: date) -> list[dict[str, str]]:
    rows = [r for r in raw_rows(_file(day)) if r["TckrSymb"] == "NIFTY"]
    expiries = {*sorted({r["XpryDt"] for r in rows if r["OptnTp"]})[:3], MONTHLY}
    return [r for r in rows if r["XpryDt"] in expiries or r["FinInstrmTp"] == "IDF"]


def _instrument(r: dict[str, str]) -> Instrument:
    kind = r["OptnTp"] or "FUT"
    return Instrument(
        symbol=r["FinInstrmNm"],
        token=r["FinInstrmId"],
        exchange="NFO",
        name=r["FinInstrmNm"],
        instrument_type=kind,
        lot_size=int(r["NewBrdLotQty"]),
        underlying="NIFTY",
        expiry=r["XpryDt"],
        strike_paise=_paise(r["StrkPric"]) if r["StrkPric"] else None,
        broker_tokens={"angel": r["FinInstrmId"]},
    )


def _quote(
    symbol: str, ltp: int, bid: int | None, ask: int | None, oi: int | None, at: int, **kw: int
) -> Quote:
    return Quote(
        symbol=symbol,
        ltp_paise=ltp,
        open_paise=ltp,
        high_paise=ltp,
        low_paise=ltp,
        prev_close_paise=kw.get("prev", ltp),
        bid_paise=bid,
        ask_paise=ask,
        volume=kw.get("volume", 0),
        tick_ts_ms=at,
        tick_id=f"{symbol}-{at}",
        seq=1,
        session_date=TODAY.isoformat(),
        oi=oi,
        oi_open=kw.get("oi_open"),
    )


class Master:
    def __init__(self, rows: Iterable[Instrument]) -> None:
        self.rows = list(rows)

    def derivatives(self, underlying: str) -> list[Instrument]:
        return [i for i in self.rows if i.underlying == underlying]


class Quotes:
    def __init__(self, quotes: Iterable[Quote]) -> None:
        self.by = {q.symbol: q for q in quotes}

    def get_many(self, symbols: Iterable[str]) -> dict[str, Quote]:
        return {s: self.by[s] for s in symbols if s in self.by}


def _real_quotes(at: int, oi_open: bool = False) -> list[Quote]:
    """02-05's close as the live LTP; a one-tick-wide bid/ask on every other strike; OI as reported."""
    out = []
    for n, r in enumerate(_nifty(TODAY)):
        close = _paise(r["ClsPric"])
        two_sided = n % 2 == 0
        oi = int(r["OpnIntrst"])
        out.append(
            _quote(
                r["FinInstrmNm"], close, close - 5 if two_sided else None, close + 5 if two_sided else None, oi, at,
                volume=int(r["TtlTradgVol"]) * int(r["NewBrdLotQty"]), prev=_paise(r["PrvsClsgPric"]),
                **({"oi_open": oi - 75} if oi_open else {}),
            )
        )  # fmt: skip
    spot = _paise(_nifty(TODAY)[0]["UndrlygPric"])
    out.append(_quote(SPOT_SYMBOL, spot, None, None, None, at))
    return out


def _service(
    at: int, stored: Iterable[date] = (PREV,), quotes: list[Quote] | None = None, demand: object = None
) -> OptionChainService:
    store = MemoryFoStore()
    for day in stored:
        for summary, contracts in sessions_of(fo_rows(_file(day)), _file(day).name):
            store.put_session(summary, contracts, 0)
    clock = ManualClock(at)
    return OptionChainService(
        Master(_instrument(r) for r in _nifty(TODAY)),
        Quotes(_real_quotes(at) if quotes is None else quotes),  # type: ignore[arg-type]
        clock,
        RATE,
        {"NIFTY": SPOT_SYMBOL},
        past=PastChains(store, clock, RATE),
        demand=demand,  # type: ignore[arg-type]
    )


def _sign(x: int) -> int:
    return (x > 0) - (x < 0)


READING = {
    (1, 1): "long_buildup",
    (-1, 1): "short_buildup",
    (1, -1): "short_covering",
    (-1, -1): "long_unwinding",
}


def test_oi_change_is_measured_from_the_previous_sessions_stored_report_and_matches_the_exchanges() -> None:
    # Given the real 02-04 report stored and 02-05's figures as the live quotes
    at = _ms(TODAY, 15, 0)
    service = _service(at)
    prev_close = {
        r["FinInstrmNm"]: _paise(r["ClsPric"]) for r in raw_rows(_file(PREV)) if r["TckrSymb"] == "NIFTY"
    }
    raw = {r["FinInstrmNm"]: r for r in _nifty(TODAY)}
    checked = read = 0
    for expiry in service.expiries("NIFTY")[:3]:
        # When each of the nearest expiries' chain is built
        chain = service.chain("NIFTY", expiry)
        assert chain.summary.oi_change_session == PREV.isoformat()
        for row in chain.rows:
            for leg in (row.call, row.put):
                assert leg is not None
                r = raw[leg.symbol]
                if leg.symbol not in prev_close:  # listed on 02-05: not in the stored report
                    assert leg.oi_change_source is None or leg.oi_change_source == "first_tick"
                    continue
                # Then OI change is today's OI minus the stored previous OI: the exchange's own change
                assert leg.oi_change_source == "eod_report" and leg.oi_change == int(r["ChngInOpnIntrst"])
                # and the build-up reads the price change against the stored previous close
                change = _paise(r["ClsPric"]) - prev_close[leg.symbol]
                assert leg.price_change_paise == change
                assert leg.buildup == READING.get((_sign(change), _sign(int(r["ChngInOpnIntrst"]))))
                checked += 1
                read += leg.buildup is not None
    assert checked > 400 and read > 300
    # and the futures too, against the previous settlement
    futures = {f.symbol: f for f in chain.futures}
    settle = {
        r["FinInstrmNm"]: _paise(r["SttlmPric"])
        for r in raw_rows(_file(PREV))
        if r["FinInstrmTp"] == "IDF" and r["TckrSymb"] == "NIFTY"
    }
    assert set(futures) == set(settle)
    for name, f in futures.items():
        r = raw[name]
        assert f.oi_change == int(r["ChngInOpnIntrst"]) and f.prev_price_paise == settle[name]
        assert f.buildup == READING.get(
            (_sign(_paise(r["ClsPric"]) - settle[name]), _sign(int(r["ChngInOpnIntrst"])))
        )


def test_without_a_stored_report_oi_change_falls_back_to_the_first_tick_and_says_so() -> None:
    at = _ms(TODAY, 15, 0)
    chain = _service(at, stored=(), quotes=_real_quotes(at, oi_open=True)).chain("NIFTY")
    legs = [leg for row in chain.rows for leg in (row.call, row.put) if leg is not None]
    assert chain.summary.oi_change_session is None
    assert all(leg.oi_change == 75 and leg.oi_change_source == "first_tick" for leg in legs)
    assert chain.summary.iv_history_sessions == 0 and chain.summary.iv_percentile is None


def test_iv_comes_from_the_mid_when_both_sides_are_live_else_the_ltp_flagged() -> None:
    at = _ms(TODAY, 15, 0)
    quotes = _real_quotes(at)
    by = {q.symbol: q for q in quotes}
    chain = _service(at, quotes=quotes).chain("NIFTY", "2025-02-27")
    kinds = set()
    for row in chain.rows:
        for leg in (row.call, row.put):
            assert leg is not None
            q = by[leg.symbol]
            if q.bid_paise is not None:
                assert leg.price_source == "mid" and leg.price_paise == (q.bid_paise + q.ask_paise) / 2  # type: ignore[operator]
            else:
                assert leg.price_source == "ltp" and leg.price_paise == q.ltp_paise
            kinds.add(leg.price_source)
    assert kinds == {"mid", "ltp"}
    # a one-sided book (bid 0) is not a mid
    some = chain.rows[len(chain.rows) // 2].call
    assert some is not None
    one_sided = [
        q.model_copy(update={"bid_paise": 0, "ask_paise": q.ltp_paise + 10}) if q.symbol == some.symbol else q
        for q in quotes
    ]
    leg = next(
        r.call
        for r in _service(at, quotes=one_sided).chain("NIFTY", "2025-02-27").rows
        if r.call and r.call.symbol == some.symbol
    )
    assert leg is not None and leg.price_source == "ltp"


def test_the_forward_is_the_future_then_parity_then_spot_carry_and_ivs_are_black76_on_it() -> None:
    # Given synthetic prices on the real 2025-02-27 contracts, Black-76 at a known forward and a flat 14 % vol
    at = _ms(TODAY, 11, 0)
    expiry = "2025-02-27"
    years = (_ms(date.fromisoformat(expiry), 15, 30) - at) / (365 * 86_400_000)
    fwd, vol = 23_811.35, 0.14
    options = [r for r in _nifty(TODAY) if r["XpryDt"] == expiry and r["OptnTp"]]
    near = [r for r in options if abs(_paise(r["StrkPric"]) / 100 - fwd) < 1500]
    quotes = []
    for r in near:
        px = float(black76_price(fwd, _paise(r["StrkPric"]) / 100, years, vol, RATE, r["OptnTp"] == "CE"))
        p = round(px * 100)
        quotes.append(_quote(r["FinInstrmNm"], p, p, p, 1_000, at))
    spot = 23_700_00
    quotes.append(_quote(SPOT_SYMBOL, spot, None, None, None, at))
    fut = next(r for r in _nifty(TODAY) if r["FinInstrmTp"] == "IDF" and r["XpryDt"] == expiry)
    # When no future is quoted, Then parity recovers the forward and every solved IV is the 14 %
    chain = _service(at, quotes=quotes).chain("NIFTY", expiry)
    s = chain.summary
    assert s.forward_source == "parity" and s.forward == pytest.approx(fwd, abs=0.02)
    ivs = np.array(
        [leg.iv for row in chain.rows for leg in (row.call, row.put) if leg and leg.iv is not None]
    )
    assert ivs.size >= len(near) * 0.9 and np.allclose(ivs, vol, atol=2e-4)
    # When the future trades (two-sided), its mid is the forward
    fq = _quote(fut["FinInstrmNm"], 2_381_500, 2_381_000, 2_381_400, 50_000, at)
    s2 = _service(at, quotes=[*quotes, fq]).chain("NIFTY", expiry).summary
    assert s2.forward_source == "future" and s2.forward == pytest.approx(23_812.00)
    # When only calls are quoted and no future, spot carried at the rate
    calls = [q for q in quotes if not q.symbol.endswith("PE")]
    s3 = _service(at, quotes=calls).chain("NIFTY", expiry).summary
    assert s3.forward_source == "spot_carry" and s3.forward == pytest.approx(
        spot / 100 * np.exp(RATE * years)
    )


def test_pcr_and_max_pain_are_given_for_each_of_the_nearest_three_expiries() -> None:
    at = _ms(TODAY, 15, 0)
    chain = _service(at).chain("NIFTY")
    rows = _nifty(TODAY)
    assert [s.expiry for s in chain.by_expiry] == ["2025-02-06", "2025-02-13", "2025-02-20"]
    for s in chain.by_expiry:
        mine = [r for r in rows if r["XpryDt"] == s.expiry and r["OptnTp"]]
        call = sum(int(r["OpnIntrst"]) for r in mine if r["OptnTp"] == "CE")
        put = sum(int(r["OpnIntrst"]) for r in mine if r["OptnTp"] == "PE")
        with localcontext() as ctx:
            ctx.prec = 28
            assert (s.call_oi, s.put_oi, s.pcr_oi_exact) == (call, put, Decimal(put) / Decimal(call))
        assert s.max_pain_paise in {_paise(r["StrkPric"]) for r in mine}
    assert (
        chain.by_expiry[0].expiry == chain.expiry
        and chain.summary.pcr_oi_exact == chain.by_expiry[0].pcr_oi_exact
    )


def test_an_expiry_is_listed_until_1530_ist_on_its_day_and_never_after() -> None:
    # 2025-02-06 was a NIFTY weekly expiry
    expiry = "2025-02-06"
    before = _service(_ms(date(2025, 2, 6), 15, 29, 59))
    assert before.chain("NIFTY").expiry == expiry and expiry in before.expiries("NIFTY")
    for hh, mm in ((15, 30), (15, 31), (18, 0)):
        after = _service(_ms(date(2025, 2, 6), hh, mm))
        chain = after.chain("NIFTY")
        assert chain.expiry == "2025-02-13" and expiry not in chain.expiries
        assert expiry not in [s.expiry for s in chain.by_expiry]
        with pytest.raises(NotFound, match=f"expiry {expiry} has passed"):
            after.chain("NIFTY", expiry)


class Demand:
    def __init__(self) -> None:
        self.asked: list[tuple[str, int]] = []

    def request(self, underlying: str, now_ms: int) -> bool:
        self.asked.append((underlying, now_ms))
        return True


def _with_demand(at: int, quotes: list[Quote]) -> tuple[OptionChainService, Demand]:
    demand = Demand()
    return _service(at, quotes=quotes, demand=demand), demand


def test_a_known_chain_not_streamed_yet_is_subscribed_on_demand_and_says_so() -> None:
    at = _ms(TODAY, 11, 0)
    only_spot = [q for q in _real_quotes(at) if q.symbol == SPOT_SYMBOL]
    service, demand = _with_demand(at, only_spot)
    chain = service.chain("NIFTY")
    assert chain.streaming is False and demand.asked == [("NIFTY", at)]
    assert all(r.call is None or r.call.ltp_paise is None for r in chain.rows)
    # once quotes flow, it is a streamed chain and nothing more is asked
    service, demand = _with_demand(at, _real_quotes(at))
    assert service.chain("NIFTY").streaming is True and demand.asked == []


def test_an_unknown_underlying_is_404_saying_it_is_unknown() -> None:
    service = _service(_ms(TODAY, 11, 0))
    with pytest.raises(NotFound, match="'NIFTYX' is unknown"):
        service.chain("NIFTYX")
