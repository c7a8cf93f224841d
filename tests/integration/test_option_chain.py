"""Option chain over DynamoDB Local: contracts and quotes seeded through the repositories, then the service
and GET /api/option-chain/{symbol}."""

from __future__ import annotations

from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from mantra.clock import IST, ManualClock, SystemClock
from mantra.container import Container
from mantra.domain import Instrument, Quote
from mantra.market.option_chain import OptionChainService
from mantra.quant.options import black_scholes
from mantra.settings import Settings
from mantra.store.option_repository import DynamoOptionContractRepository
from mantra.store.repositories import DynamoInstrumentRepository, DynamoQuoteRepository

from frontend_api.app import create_app

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 23, 11, 0, tzinfo=IST)
NOW_MS = int(NOW.timestamp() * 1000)
EXPIRY, LATER = "2026-11-26", "2026-12-31"
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
                        session_date="2026-11-23",
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
            session_date="2026-11-23",
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
    assert repo.expiries("ITNIFTY") == [EXPIRY, LATER]
    contracts = repo.contracts("ITNIFTY", EXPIRY)
    assert len(contracts) == 10 and {c.expiry for c in contracts} == {EXPIRY}
    assert repo.contracts("NOSUCH") == []


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
        service.chain("ITNIFTY", "2026-11-27")
    with pytest.raises(Invalid, match="expiry:"):
        service.chain("ITNIFTY", "26-11-2026")


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
    missing = client.get("/api/option-chain/ITNIFTY", params={"expiry": "2026-11-27"}, headers=auth)
    assert missing.status_code == 404 and EXPIRY in missing.json()["detail"]
    bad = client.get("/api/option-chain/ITNIFTY", params={"expiry": "27-11-2026"}, headers=auth)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"].endswith("expiry")
