"""Live option chains in the feed's subscription, planned on the exchange's real F&O contracts (the latest report
in shared/data/nse/fo, turned into both brokers' dumps by fo_master): nearest expiries, a strike band around the
ATM, the futures, rolled as spot moves and as expiries pass, cut by a stated priority when over capacity.

Every expected value is read from the report's rows here, never typed in: the moments are the report's own day
and its contracts' expiry days, so the tests do not depend on today's date.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from decimal import Decimal

import pytest
import timebase
from fo_fakes import fo_files, raw_rows
from fo_master import real_fo_master, underlying_price_paise
from mantra.domain import Instrument
from mantra.feed.chain_plan import ChainPlanner, ChainSettings, live_expiries
from mantra.feed.subscription import Chains, Subscription
from mantra.market.instruments import InstrumentMaster

REPORT = fo_files()[-1]
SESSION = date.fromisoformat(raw_rows(REPORT)[0]["TradDt"])
AT_10 = timebase.ist_ms(SESSION, 10, 0)


@pytest.fixture(scope="module")
def master() -> InstrumentMaster:
    return real_fo_master(REPORT)


def report_expiries(underlying: str, kind: str = "IDO") -> list[str]:
    return sorted(
        {r["XpryDt"] for r in raw_rows(REPORT) if r["TckrSymb"] == underlying and r["FinInstrmTp"] == kind}
    )


def report_strikes(underlying: str, expiry: str) -> list[int]:
    return sorted({
        int(Decimal(r["StrkPric"]) * 100) for r in raw_rows(REPORT)
        if r["TckrSymb"] == underlying and r["XpryDt"] == expiry and r["OptnTp"]
    })  # fmt: skip


def nearest_band(strikes: list[int], spot: int, each_side: int) -> list[int]:
    i = min(range(len(strikes)), key=lambda j: (abs(strikes[j] - spot), strikes[j]))
    return strikes[max(0, i - each_side) : i + each_side + 1]


class Prices:
    def __init__(self, **by_symbol: int) -> None:
        self.by_symbol = dict(by_symbol)

    def __call__(self, symbol: str) -> int | None:
        return self.by_symbol.get(symbol)


def subscription(
    master: InstrumentMaster, prices: Prices, now: list[int], capacity: int = 3000, watched: set[str] = frozenset(),
    **settings: object,
) -> Subscription:  # fmt: skip
    class Source:
        def watched_symbols(self) -> set[str]:
            return set(watched)

        def scanned_symbols(self) -> set[str]:
            return set()

    chains = Chains(
        ChainPlanner(ChainSettings(**settings)),  # type: ignore[arg-type]
        master.contracts,
        prices,
        lambda: now[0],
    )
    return Subscription(Source(), master.get, defaults=[], capacity=capacity, chains=chains)


def test_nifty_nearest_expiries_band_around_the_atm_and_futures_with_both_brokers_tokens(
    master: InstrumentMaster,
) -> None:
    # Given NIFTY at the price the report states, 5 strikes either side, the 2 nearest expiries
    spot = underlying_price_paise(REPORT, "NIFTY")
    sub = subscription(
        master, Prices(**{"NIFTY 50": spot}), [AT_10], underlyings=("NIFTY",), strikes_each_side=5
    )
    # When the subscription is loaded on the report's day
    got = sub.load()
    # Then the spot, the futures of those expiries and 11 strikes x CE/PE of each are subscribed
    expiries = report_expiries("NIFTY")[:2]
    (sel,) = sub.selections
    assert sel.expiries == tuple(expiries)
    want_options = {
        (e, k, t)
        for e in expiries
        for k in nearest_band(report_strikes("NIFTY", e), spot, 5)
        for t in ("CE", "PE")
    }
    options = {
        (i.expiry, i.strike_paise, i.instrument_type) for i in got if i.instrument_type in ("CE", "PE")
    }
    assert options == want_options and len(options) == 2 * 11 * 2
    futures = {i.expiry for i in got if i.instrument_type == "FUT"}
    assert futures == set(report_expiries("NIFTY", "IDF")) & set(expiries) != set()
    assert got[0].symbol == "NIFTY 50"  # the spot first: chains are priced from it
    # And every contract is the report's own, with Angel's token (FinInstrmId) and Kite's own number
    by_id = {r["FinInstrmId"]: r for r in raw_rows(REPORT)}
    for inst in got[1:]:
        row = by_id[inst.own_token("angel") or ""]
        assert (row["TckrSymb"], row["XpryDt"], int(row["NewBrdLotQty"])) == (
            "NIFTY",
            inst.expiry,
            inst.lot_size,
        )
        assert inst.own_token("kite") == str(int(row["FinInstrmId"]) * 256 + 2)


def test_an_expiry_drops_out_at_15_30_ist_of_its_day_and_the_next_comes_in(master: InstrumentMaster) -> None:
    first, second, third = report_expiries("NIFTY")[:3]
    day = date.fromisoformat(first)
    before, after = timebase.ist_ms(day, 15, 29, 59), timebase.ist_ms(day, 15, 30)
    spot = underlying_price_paise(REPORT, "NIFTY")
    now = [before]
    sub = subscription(master, Prices(**{"NIFTY 50": spot}), now, underlyings=("NIFTY",), strikes_each_side=2)
    assert {i.expiry for i in sub.load() if i.instrument_type == "CE"} == {first, second}
    now[0] = after
    assert {i.expiry for i in sub.load() if i.instrument_type == "CE"} == {second, third}
    assert live_expiries([first, second], timebase.ist_ms(day + timedelta(days=1))) == [second]


def test_the_band_recentres_only_past_the_midpoint_by_the_hysteresis(master: InstrumentMaster) -> None:
    # Given NIFTY exactly on a listed strike of the nearest expiry, and the next strike up
    expiry = report_expiries("NIFTY")[0]
    strikes = report_strikes("NIFTY", expiry)
    spot = underlying_price_paise(REPORT, "NIFTY")
    centre = min(strikes, key=lambda k: abs(k - spot))
    up = strikes[strikes.index(centre) + 1]
    gap = up - centre
    prices = Prices(**{"NIFTY 50": centre})
    sub = subscription(master, prices, [AT_10], underlyings=("NIFTY",), strikes_each_side=3, hysteresis=0.25)
    first = {i.symbol for i in sub.load()}
    # When spot goes just past the midpoint, but less than a quarter of the gap beyond it
    prices.by_symbol["NIFTY 50"] = centre + gap // 2 + gap // 8
    # Then nothing changes (no churn around a midpoint)
    assert {i.symbol for i in sub.load()} == first and sub.selections[0].centre_paise == centre
    # When it goes further than that, Then the band moves up one strike: the lowest strikes go, one comes in
    prices.by_symbol["NIFTY 50"] = centre + gap // 2 + gap // 4 + 5
    moved = {i.symbol for i in sub.load()}
    assert sub.selections[0].centre_paise == up
    went = {i for i in first - moved}
    came = {i for i in moved - first}
    assert {master.get(s).strike_paise for s in went} <= {strikes[strikes.index(centre) - 3]}  # type: ignore[union-attr]
    assert {master.get(s).strike_paise for s in came} == {strikes[strikes.index(up) + 3]}  # type: ignore[union-attr]
    assert len(went) == len(came) == 2 * 2  # CE and PE, both expiries


def test_over_capacity_the_stated_priority_decides_and_the_cut_is_logged(
    master: InstrumentMaster, caplog: pytest.LogCaptureFixture
) -> None:
    # Given NIFTY and BANKNIFTY chains and a watched stock, with room for far fewer than all of them
    prices = Prices(
        **{
            n: underlying_price_paise(REPORT, u)
            for n, u in (("NIFTY 50", "NIFTY"), ("NIFTY BANK", "BANKNIFTY"))
        }
    )
    sub = subscription(
        master, prices, [AT_10], capacity=30, watched={"INFY"}, underlyings=("NIFTY", "BANKNIFTY"),
        strikes_each_side=10,
    )  # fmt: skip
    # When it loads
    with caplog.at_level(logging.ERROR, logger="mantra.feed.subscription"):
        got = sub.load()
    # Then the spots come first (INFY is an F&O stock: its chain's spot), the futures next, then the nearest
    # expiry's options from the ATM outwards
    assert len(got) == 30
    kinds = [i.instrument_type for i in got]
    assert [i.symbol for i in got[:3]] == ["NIFTY 50", "NIFTY BANK", "INFY"]
    first_option = min(kinds.index("CE"), kinds.index("PE"))
    assert set(kinds[3:first_option]) == {"FUT"} and set(kinds[first_option:]) == {"CE", "PE"}
    assert not {i.underlying for i in got if i.instrument_type == "CE"} & {"INFY"}  # no INFY price yet
    options = [i for i in got if i.instrument_type in ("CE", "PE")]
    nearest = {s.underlying: s.expiries[0] for s in sub.selections}
    assert all(o.expiry == nearest[o.underlying or ""] for o in options)
    for sel in sub.selections[:2]:  # each index's ATM strike is in
        kept = [o for o in options if o.underlying == sel.underlying]
        assert sel.centre_paise in {o.strike_paise for o in kept}
    assert sub.cut.left_out and set(sub.cut.left_out) == {"options"}
    assert "left out: options" in caplog.text and str(sub.cut.wanted) in caplog.text


def test_an_f_and_o_stock_a_user_watches_gets_its_chain(master: InstrumentMaster) -> None:
    stock = "RELIANCE"
    sub = subscription(
        master, Prices(RELIANCE=underlying_price_paise(REPORT, stock)), [AT_10], watched={stock},
        underlyings=("NIFTY",), strikes_each_side=2, expiries=1,
    )  # fmt: skip
    got = sub.load()
    lots = {int(r["NewBrdLotQty"]) for r in raw_rows(REPORT) if r["TckrSymb"] == stock}
    mine = [i for i in got if i.underlying == stock]
    assert {i.instrument_type for i in mine} == {"FUT", "CE", "PE"} and {i.lot_size for i in mine} == lots
    assert len([i for i in mine if i.instrument_type == "CE"]) == 5


def test_without_a_price_the_options_wait_for_the_first_tick_and_futures_and_spot_are_subscribed(
    master: InstrumentMaster,
) -> None:
    prices = Prices()
    sub = subscription(master, prices, [AT_10], underlyings=("NIFTY",), strikes_each_side=2)
    got = sub.load()
    assert {i.instrument_type for i in got} == {"INDEX", "FUT"} and "no price for NIFTY 50" in sub.selections[
        0
    ].note
    # and once the future has traded (before the index's first tick), its price places the band
    fut = next(i for i in got if i.instrument_type == "FUT")
    prices.by_symbol[fut.symbol] = underlying_price_paise(REPORT, "NIFTY")
    assert any(i.instrument_type == "CE" for i in sub.load())


def test_an_underlying_without_contracts_in_the_master_is_skipped_and_said(
    master: InstrumentMaster, caplog: pytest.LogCaptureFixture
) -> None:
    # SENSEX options are BSE's (BFO): the NSE report has none
    with caplog.at_level(logging.WARNING, logger="mantra.feed.subscription"):
        sub = subscription(master, Prices(), [AT_10], underlyings=("SENSEX",))
        assert sub.load() == []
    assert "option chain SENSEX: no contracts" in caplog.text


def _bfo(symbol: str, kind: str, strike: int | None, token: str) -> Instrument:
    return Instrument(
        symbol=symbol, token=token, exchange="BFO", name="SENSEX", instrument_type=kind, lot_size=20,
        underlying="SENSEX", expiry=(SESSION + timedelta(days=4)).isoformat(), strike_paise=strike,
        broker_tokens={"angel": token, "kite": str(int(token) * 256 + 4)},
    )  # fmt: skip


def test_bfo_contracts_are_planned_the_same_way() -> None:
    # SmartAPI's and Kite's BFO rows carry the same fields; three strikes of SENSEX 100 apart
    rows = [
        _bfo(f"SENSEX{k}{t}", t, k * 100, str(800_000 + k // 100 + (t == "PE")))
        for k in (76_000, 76_100, 76_200)
        for t in ("CE", "PE")
    ]
    sel = ChainPlanner(ChainSettings(strikes_each_side=0)).select("SENSEX", rows, None, lambda s: None, AT_10)
    assert sel.options == () and "no price" in sel.note
    sel = ChainPlanner(ChainSettings(strikes_each_side=0)).select(
        "SENSEX", rows, rows[0], lambda s: 7_611_000, AT_10
    )
    assert [(c.strike_paise, c.instrument_type) for *_, c in sel.options] == [
        (7_610_000, "CE"),
        (7_610_000, "PE"),
    ]


def test_watched_come_before_scanned_and_scanned_before_options(master: InstrumentMaster) -> None:
    # Given a watched NFO contract far from the money, two scanned equities and the NIFTY chain
    spot = underlying_price_paise(REPORT, "NIFTY")
    far = max(master.contracts("NIFTY", kind="CE"), key=lambda i: i.strike_paise or 0)

    class Source:
        def watched_symbols(self) -> set[str]:
            return {far.symbol}

        def scanned_symbols(self) -> set[str]:
            return {"ITC", "INFY"}

    chains = Chains(
        ChainPlanner(ChainSettings(underlyings=("NIFTY",))),
        master.contracts,
        Prices(**{"NIFTY 50": spot}),
        lambda: AT_10,
    )
    roomy = Subscription(Source(), master.get, [], 3000, chains).load()
    spots_and_futures = [i for i in roomy if i.instrument_type in ("INDEX", "FUT")]
    # When there is room for the spot, the futures, the watched contract and one scanned symbol only
    sub = Subscription(Source(), master.get, [], len(spots_and_futures) + 2, chains)
    got = sub.load()
    # Then the second scanned symbol (by symbol) and every option of the chain are what is left out
    assert got[-2:] == [far, master.get("INFY")]
    assert sub.cut.left_out["scanned"] == ("ITC",) and set(sub.cut.left_out) == {"scanned", "options"}
    chain_options = [i for i in roomy if i.instrument_type in ("CE", "PE") and i != far]  # far is watched
    assert len(sub.cut.left_out["options"]) == len(chain_options) > 0
