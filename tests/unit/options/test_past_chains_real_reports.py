"""Past chains on the exchange's real F&O reports: PCR and max pain against a hand computation from the raw
rows (the csv module, no product parser), every strike of the expiry listed, prices from the close or the
settlement, the forward's source, and the 404s for what was not ingested."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal, localcontext
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from fo_fakes import MemoryFoStore, fo_files, fo_rows, raw_rows
from mantra.clock import ManualClock
from mantra.errors import NotFound
from mantra.market.fo_contracts import sessions_of
from mantra.market.past_chains import PastChains, close_ms
from mantra.quant.options import black76_price

RATE = 0.065


def _day(path: Path) -> date:
    stamp = path.name.split("_")[6]
    return date(int(stamp[:4]), int(stamp[4:6]), int(stamp[6:]))


def _paise(text: str) -> int:
    return int(Decimal(text) * 100)


@cache
def _store() -> MemoryFoStore:
    store = MemoryFoStore()
    for path in fo_files():
        for summary, contracts in sessions_of(fo_rows(path), path.name):
            store.put_session(summary, contracts, 0)
    return store


def _chains() -> PastChains:
    return PastChains(_store(), ManualClock(0), RATE)


def _by_hand(path: Path, symbol: str, expiry: str) -> tuple[int, int, int, list[int]]:
    """Call OI, put OI, max-pain strike (paise) and the strikes, from the raw rows with plain Python ints."""
    call: dict[int, int] = defaultdict(int)
    put: dict[int, int] = defaultdict(int)
    for r in raw_rows(path):
        if r["TckrSymb"] != symbol or r["XpryDt"] != expiry or r["OptnTp"] not in ("CE", "PE"):
            continue
        k = _paise(r["StrkPric"])
        (call if r["OptnTp"] == "CE" else put)[k] += int(r["OpnIntrst"])
        call.setdefault(k, 0)
        put.setdefault(k, 0)
    strikes = sorted(call)
    pain = {s: sum(c * (s - k) for k, c in call.items() if s > k) + sum(p * (k - s) for k, p in put.items() if k > s)
            for s in strikes}  # fmt: skip
    best = min(strikes, key=lambda s: (pain[s], s))
    return sum(call.values()), sum(put.values()), best, strikes


def _nearest_expiries(path: Path, symbol: str, n: int) -> list[str]:
    day = _day(path).isoformat()
    found = {r["XpryDt"] for r in raw_rows(path) if r["TckrSymb"] == symbol and r["OptnTp"] in ("CE", "PE")}
    return sorted(e for e in found if e > day)[:n]


CASES = [
    (p, sym)
    for p in (fo_files()[0], fo_files()[4], fo_files()[-1])
    for sym in ("NIFTY", "BANKNIFTY", "RELIANCE")
]


@pytest.mark.parametrize(("path", "symbol"), CASES, ids=[f"{_day(p)}-{s}" for p, s in CASES])
def test_past_chain_pcr_and_max_pain_match_a_hand_computation_from_the_raw_report(
    path: Path, symbol: str
) -> None:
    # Given every real F&O report stored, When a past session's chain is asked for each of its nearest expiries
    for expiry in _nearest_expiries(path, symbol, 3):
        chain = _chains().chain(symbol, expiry, _day(path).isoformat())
        call_oi, put_oi, pain, strikes = _by_hand(path, symbol, expiry)
        s = chain.summary
        # Then every strike of that expiry in the report is listed, and PCR and max pain are the exact figures
        assert [r.strike_paise for r in chain.rows] == strikes
        assert (s.call_oi, s.put_oi) == (call_oi, put_oi)
        with localcontext() as ctx:
            ctx.prec = 28
            assert s.pcr_oi_exact == Decimal(put_oi) / Decimal(call_oi)
        assert s.max_pain_paise == pain
        assert chain.source == "eod_report" and chain.session == _day(path).isoformat()
        # and the spot is the report's underlying price
        spot = next(r["UndrlygPric"] for r in raw_rows(path) if r["TckrSymb"] == symbol)
        assert s.spot_paise == _paise(spot)


def test_past_chain_prices_traded_contracts_from_the_close_and_the_rest_from_the_settlement() -> None:
    # Given the 2025-02-04 report (NIFTY's weekly expiry of 2025-02-06: no future that week)
    path = fo_files()[1]
    day = _day(path)
    expiry = _nearest_expiries(path, "NIFTY", 1)[0]
    raw = {
        (_paise(r["StrkPric"]), r["OptnTp"]): r
        for r in raw_rows(path)
        if r["TckrSymb"] == "NIFTY" and r["XpryDt"] == expiry and r["OptnTp"]
    }
    chain = _chains().chain("nifty", expiry, day.isoformat())
    s = chain.summary
    # Then the forward is put-call parity (no future expires that day) and near the underlying
    assert s.forward_source == "parity"
    assert s.forward is not None and abs(s.forward - s.spot_paise / 100) < 0.01 * s.spot_paise / 100  # type: ignore[operator]
    solved = untraded = 0
    for row in chain.rows:
        for leg, kind in ((row.call, "CE"), (row.put, "PE")):
            if leg is None:
                continue
            r = raw[(row.strike_paise, kind)]
            assert leg.symbol == r["FinInstrmNm"] and leg.oi == int(r["OpnIntrst"])
            assert leg.oi_change == int(r["ChngInOpnIntrst"]) and leg.oi_change_source == "eod_report"
            if int(r["TtlTradgVol"]) > 0:
                assert leg.price_source == "close" and leg.price_paise == _paise(r["ClsPric"])
            else:
                untraded += 1
                assert leg.price_source == "settlement" and leg.price_paise == _paise(r["SttlmPric"])
            if leg.iv_status == "ok":
                solved += 1
                # the IV reprices the leg's own price on the chain's forward (Black-76)
                years = (date.fromisoformat(expiry) - day).days / 365
                px = black76_price(s.forward, row.strike_paise / 100, years, leg.iv, RATE, kind == "CE")  # type: ignore[arg-type]
                assert float(px) == pytest.approx(leg.price_paise / 100, abs=1e-4)  # type: ignore[operator]
                assert leg.delta is not None and (0 < leg.delta < 1 if kind == "CE" else -1 < leg.delta < 0)
    assert solved > 0.7 * 2 * len(chain.rows) and untraded > 0


def test_a_monthly_expiry_is_priced_on_its_future_close() -> None:
    path = fo_files()[0]
    fut = next(
        r
        for r in raw_rows(path)
        if r["TckrSymb"] == "NIFTY" and r["FinInstrmTp"] == "IDF" and r["XpryDt"] == "2025-02-27"
    )
    chain = _chains().chain("NIFTY", "2025-02-27", _day(path).isoformat())
    assert chain.summary.forward_source == "future"
    assert chain.summary.forward == pytest.approx(_paise(fut["ClsPric"]) / 100)


def test_iv_percentile_and_rank_are_over_the_sessions_stored_before_the_date() -> None:
    # Given ten stored sessions; When the chain of the last is asked for
    days = [_day(p) for p in fo_files()]
    chains = _chains()
    chain = chains.chain("NIFTY", None, days[-1].isoformat())
    s = chain.summary
    # Then its ATM IV is ranked against the nine sessions before it, each computed from its own report
    history = [chains.atm_iv_at("NIFTY", d) for d in days[:-1]]
    assert all(v is not None for v in history) and s.iv_history_sessions == len(days) - 1
    current = chains.atm_iv_at("NIFTY", days[-1])
    assert current is not None
    h = np.asarray(history, dtype=float)
    assert s.iv_percentile == pytest.approx(100.0 * np.count_nonzero(h < current) / h.size)
    assert s.iv_rank == pytest.approx(100.0 * (current - h.min()) / (h.max() - h.min()))
    # and the first session has no history before it
    assert chains.chain("NIFTY", None, days[0].isoformat()).summary.iv_history_sessions == 0


def test_a_session_or_expiry_that_was_not_ingested_is_refused_by_name() -> None:
    days = [_day(p) for p in fo_files()]
    saturday = days[0] + timedelta(days=(5 - days[0].weekday()) % 7)
    chains = _chains()
    with pytest.raises(
        NotFound, match=f"date: no F&O report is stored for the session {saturday.isoformat()}"
    ):
        chains.chain("NIFTY", None, saturday.isoformat())
    with pytest.raises(NotFound, match="no F&O report is stored for the session"):
        chains.chain("NIFTY", None, (days[0] - timedelta(days=3)).isoformat())
    with pytest.raises(NotFound, match="expiry: NIFTY has no options expiring 2025-02-07"):
        chains.chain("NIFTY", "2025-02-07", days[0].isoformat())
    with pytest.raises(NotFound, match="NOSUCH: not in the F&O report"):
        chains.chain("NOSUCH", None, days[0].isoformat())


def test_on_its_expiry_day_an_expiry_is_not_listed_after_the_close() -> None:
    # 2025-02-06 was a NIFTY weekly expiry: that session's chain (at 15:30 IST) no longer lists it
    day = date(2025, 2, 6)
    assert day in [_day(p) for p in fo_files()]
    chains = _chains()
    chain = chains.chain("NIFTY", None, day.isoformat())
    assert "2025-02-06" not in chain.expiries and chain.expiry == "2025-02-13"
    with pytest.raises(NotFound, match="expiry: NIFTY 2025-02-06 expired at 15:30 IST on 2025-02-06"):
        chains.chain("NIFTY", "2025-02-06", day.isoformat())
    assert close_ms(day) == chain.as_of_ms


READING = {
    (1, 1): "long_buildup",
    (-1, 1): "short_buildup",
    (1, -1): "short_covering",
    (-1, -1): "long_unwinding",
}


def _sign(x: int) -> int:
    return (x > 0) - (x < 0)


@pytest.mark.parametrize("symbol", ["NIFTY", "BANKNIFTY"])
def test_a_past_chain_gives_pcr_and_max_pain_by_expiry_and_its_futures_build_up(symbol: str) -> None:
    path = fo_files()[3]
    chain = _chains().chain(symbol, None, _day(path).isoformat())
    # PCR and max pain of each of the nearest three expiries, as the raw rows give them
    nearest = _nearest_expiries(path, symbol, 3)
    assert [s.expiry for s in chain.by_expiry] == nearest
    for s in chain.by_expiry:
        call_oi, put_oi, pain, _ = _by_hand(path, symbol, s.expiry)
        assert (s.call_oi, s.put_oi, s.max_pain_paise) == (call_oi, put_oi, pain)
        with localcontext() as ctx:
            ctx.prec = 28
            assert s.pcr_oi_exact == Decimal(put_oi) / Decimal(call_oi)
    # and each future's build-up: close vs previous close, with the exchange's OI change
    raw = [r for r in raw_rows(path) if r["TckrSymb"] == symbol and r["FinInstrmTp"] == "IDF"]
    assert [f.symbol for f in chain.futures] == [
        r["FinInstrmNm"] for r in sorted(raw, key=lambda r: r["XpryDt"])
    ]
    for f in chain.futures:
        r = next(x for x in raw if x["FinInstrmNm"] == f.symbol)
        change = _paise(r["ClsPric"]) - _paise(r["PrvsClsgPric"])
        assert f.price_change_paise == change and f.oi_change == int(r["ChngInOpnIntrst"])
        assert f.buildup == READING.get((_sign(change), _sign(int(r["ChngInOpnIntrst"]))))
