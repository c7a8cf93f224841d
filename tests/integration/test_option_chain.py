"""Option chain over DynamoDB Local: contracts and quotes seeded through the repositories, then the service
and GET /api/option-chain/{symbol}."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
import timebase
from fastapi.testclient import TestClient
from mantra.clock import IST, ManualClock, SystemClock
from mantra.container import Container
from mantra.domain import Instrument, Quote
from mantra.errors import NotFound
from mantra.market.option_chain import OptionChainService
from mantra.quant.options import black_scholes
from mantra.settings import Settings
from mantra.store.option_repository import QUOTE_FIELDS, DynamoChainQuotes, DynamoOptionContractRepository
from mantra.store.repositories import DynamoInstrumentRepository, DynamoQuoteRepository

from frontend_api.app import create_app

pytestmark = pytest.mark.integration

# a Monday 11:00 IST after the suite's moment; a Thursday expiry that week and one five weeks on
NOW = datetime.combine(timebase.SESSION_DAY, time(11, 0), tzinfo=IST)
NOW_MS = int(NOW.timestamp() * 1000)
EXPIRY, LATER = (
    (timebase.SESSION_DAY + timedelta(days=3)).isoformat(),
    (timebase.SESSION_DAY + timedelta(days=38)).isoformat(),
)
NOT_AN_EXPIRY = (timebase.SESSION_DAY + timedelta(days=4)).isoformat()  # that Friday
NOT_ISO = datetime.fromisoformat(NOT_AN_EXPIRY).strftime("%d-%m-%Y")
STRIKES = [23800, 23900, 24000, 24100, 24200]
SPOT = 24010.0


def _years(expiry: str) -> float:
    end = datetime.fromisoformat(expiry).replace(hour=15, minute=30, tzinfo=IST)
    return (end - NOW).total_seconds() / (365 * 86400)


def _seed() -> None:
    instruments, quotes = [], []
    for expiry in (EXPIRY, LATER):
        for k in STRIKES:
            for kind in ("CE", "PE"):
                sym = f"ITNIFTY{expiry[2:4]}{expiry[5:7]}{expiry[8:]}{k}{kind}"
                instruments.append(
                    Instrument(
                        symbol=sym,
                        token=sym,
                        exchange="NFO",
                        name=sym,
                        instrument_type=kind,
                        lot_size=75,
                        underlying="ITNIFTY",
                        expiry=expiry,
                        strike_paise=k * 100,
                    )
                )
                vol = 0.13 + 0.0004 * (24000 - k) / 10  # a put skew
                px = float(black_scholes(SPOT, k, _years(expiry), vol, 0.065, kind == "CE"))
                paise = max(5, round(px * 20) * 5)
                oi = 10_000 + (24100 - k) * 20 if kind == "PE" else 10_000 + (k - 23900) * 30
                quotes.append(
                    Quote(
                        symbol=sym,
                        ltp_paise=paise,
                        open_paise=paise,
                        high_paise=paise,
                        low_paise=paise,
                        prev_close_paise=paise,
                        bid_paise=paise - 5,
                        ask_paise=paise + 5,
                        volume=oi * 3,
                        tick_ts_ms=NOW_MS,
                        tick_id=f"{sym}-1",
                        seq=1,
                        session_date=timebase.SESSION_DAY.isoformat(),
                        oi=oi,
                        oi_open=oi - 500,
                    )
                )
    spot_paise = int(SPOT * 100)
    quotes.append(
        Quote(
            symbol="ITNIFTY 50",
            ltp_paise=spot_paise,
            open_paise=spot_paise,
            high_paise=spot_paise,
            low_paise=spot_paise,
            prev_close_paise=spot_paise,
            bid_paise=None,
            ask_paise=None,
            volume=0,
            tick_ts_ms=NOW_MS,
            tick_id="spot-1",
            seq=1,
            session_date=timebase.SESSION_DAY.isoformat(),
        )
    )
    DynamoInstrumentRepository().put_many(instruments)
    DynamoQuoteRepository().put_many(quotes)


@pytest.fixture(scope="module")
def service(platform: Settings) -> OptionChainService:
    _seed()
    return OptionChainService(
        DynamoOptionContractRepository(),
        DynamoQuoteRepository(),
        ManualClock(NOW_MS),
        0.065,
        {"ITNIFTY": "ITNIFTY 50"},
    )


def test_repository_lists_contracts_and_expiries_of_an_underlying(service: OptionChainService) -> None:
    repo = DynamoOptionContractRepository()
    contracts = repo.derivatives("itnifty")
    assert sorted({c.expiry for c in contracts}) == [EXPIRY, LATER] and len(contracts) == 20
    assert [c.strike_paise for c in contracts if c.expiry == EXPIRY][::2] == [k * 100 for k in STRIKES]
    assert service.expiries("ITNIFTY") == [EXPIRY, LATER]
    assert repo.derivatives("NOSUCH") == []


def test_chain_quotes_read_in_parallel_batches_equal_the_quote_repositorys(
    service: OptionChainService,
) -> None:
    # Given more quotes than one BatchGetItem takes (the seeded chain's plus 240 more contracts')
    extra = [
        Quote(
            symbol=f"ITBATCH{i:04d}", ltp_paise=100 + i, open_paise=100, high_paise=100 + i, low_paise=90,
            prev_close_paise=95, bid_paise=None if i % 3 == 0 else 99 + i, ask_paise=101 + i, volume=i * 75,
            tick_ts_ms=NOW_MS + i, tick_id=f"{i}-tick", seq=i + 1, session_date=timebase.SESSION_DAY.isoformat(),
            oi=None if i % 5 == 0 else 75 * i, oi_open=None if i % 2 else 75,
        )
        for i in range(240)
    ]  # fmt: skip
    DynamoQuoteRepository().put_many(extra)
    symbols = [q.symbol for q in extra] + [
        c.symbol for c in DynamoOptionContractRepository().derivatives("ITNIFTY")
    ]
    # When they are read both ways, Then every field a chain shows is the same (and missing ones are absent)
    fast = DynamoChainQuotes().get_many([*symbols, "ITNOSUCH"])
    slow = DynamoQuoteRepository().get_many(symbols)
    assert len(fast) == len(slow) == 260
    shown = set(QUOTE_FIELDS)
    assert {s: q.model_dump(include=shown) for s, q in fast.items()} == {
        s: q.model_dump(include=shown) for s, q in slow.items()
    }


def test_service_builds_the_nearest_chain_with_ivs_greeks_and_summary(service: OptionChainService) -> None:
    chain = service.chain("itnifty")
    assert chain.expiry == EXPIRY
    assert [r.strike_paise for r in chain.rows] == [k * 100 for k in STRIKES]
    atm = chain.rows[2]
    assert atm.call is not None and atm.put is not None
    assert atm.call.iv_status == "ok" and atm.call.iv == pytest.approx(0.13, abs=0.003)
    assert atm.call.oi_change == 500 and 0.4 < (atm.call.delta or 0) < 0.7
    s = chain.summary
    assert s.spot_paise == int(SPOT * 100) and s.atm_strike_paise == 2_400_000
    put_oi = sum(10_000 + (24100 - k) * 20 for k in STRIKES)
    call_oi = sum(10_000 + (k - 23900) * 30 for k in STRIKES)
    assert s.pcr_oi == pytest.approx(put_oi / call_oi)
    assert s.max_pain_paise in {k * 100 for k in STRIKES}
    assert s.iv_put_call_atm is not None


def test_service_rejects_an_unknown_expiry_listing_the_known_ones(service: OptionChainService) -> None:
    from mantra.errors import Invalid, NotFound

    with pytest.raises(NotFound, match=f"known expiries: {EXPIRY}, {LATER}"):
        service.chain("ITNIFTY", NOT_AN_EXPIRY)
    with pytest.raises(Invalid, match="expiry:"):
        service.chain("ITNIFTY", NOT_ISO)


def test_route_serves_the_chain_in_rupees_and_maps_errors(
    platform: Settings, service: OptionChainService
) -> None:
    container = Container(platform, SystemClock())  # tokens live in real time
    container.__dict__["option_chains"] = service  # the fixed clock and the test underlying's spot symbol
    client = TestClient(create_app(platform, container))
    token = client.post(
        "/auth/token", data={"username": "pro@demo.trademantra.in", "password": "mantra-demo"}
    ).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/option-chain/ITNIFTY").status_code == 401
    resp = client.get("/api/option-chain/ITNIFTY", params={"expiry": LATER}, headers=auth)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["expiry"] == LATER and body["summary"]["spot"] == "24010.00"
    row = body["strikes"][2]
    assert row["strike"] == "24000.00" and row["call"]["iv_status"] == "ok"
    assert 12.0 < row["call"]["iv"] < 14.0 and row["put"]["oi_change"] == 500
    missing = client.get("/api/option-chain/ITNIFTY", params={"expiry": NOT_AN_EXPIRY}, headers=auth)
    assert missing.status_code == 404 and EXPIRY in missing.json()["detail"]
    bad = client.get("/api/option-chain/ITNIFTY", params={"expiry": NOT_ISO}, headers=auth)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"].endswith("expiry")


def test_a_passed_expiry_is_never_offered_and_the_chain_moves_to_the_next(
    service: OptionChainService,
) -> None:
    # Given the same contracts, seen the evening after the nearest expiry closed (15:30 IST that day)
    after = int(datetime.combine(date.fromisoformat(EXPIRY), time(18, 0), tzinfo=IST).timestamp() * 1000)
    later = OptionChainService(
        DynamoOptionContractRepository(),
        DynamoQuoteRepository(),
        ManualClock(after),
        0.065,
        {"ITNIFTY": "ITNIFTY 50"},
    )
    # When the chain is asked for without an expiry, and for the passed one by name
    chain = later.chain("ITNIFTY")
    # Then it is the next live expiry, the passed one is not listed, and asking for it says it has passed
    assert chain.expiry == LATER and chain.expiries == (LATER,)
    with pytest.raises(NotFound, match=f"expiry {EXPIRY} has passed; live expiries: {LATER}"):
        later.chain("ITNIFTY", EXPIRY)
    # And once every expiry has passed, there is no chain rather than a chain of nulls
    gone = int(datetime.combine(date.fromisoformat(LATER), time(16, 0), tzinfo=IST).timestamp() * 1000)
    with pytest.raises(
        NotFound, match=f"every ITNIFTY expiry in the master has passed \\(the last was {LATER}\\)"
    ):
        OptionChainService(
            DynamoOptionContractRepository(), DynamoQuoteRepository(), ManualClock(gone), 0.065, {}
        ).chain("ITNIFTY")


def test_a_chain_asked_for_while_not_streamed_is_what_the_feed_subscribes_next(platform: Settings) -> None:
    from mantra.clock import SystemClock
    from mantra.store.chain_demand_repository import DynamoChainDemand
    from mantra.store.feed_repository import DynamoFeedSubscriptionRepository

    demand, now = DynamoChainDemand(), SystemClock().now_ms()
    assert demand.request("TATAMOTORS", now) is True
    assert demand.request("TATAMOTORS", now + 1_000) is False  # asked again at once: nothing written
    assert "TATAMOTORS" in demand.wanted(now)
    assert "TATAMOTORS" in DynamoFeedSubscriptionRepository().watched_symbols()
    assert "TATAMOTORS" not in demand.wanted(now + 2 * 86_400_000)  # a day after the last request: not wanted
