"""The NIFTY option chain on the running platform: simulated option ticks -> quotes -> chain with IV/Greeks."""

from __future__ import annotations

import time
from decimal import Decimal

from conftest import Platform


def test_live_nifty_chain_has_quotes_iv_and_a_summary(platform: Platform):
    api = platform.client(platform.token())
    # Given the simulated feed quoting NIFTY's nearest weekly chain
    deadline, chain = time.monotonic() + 45, {}
    while time.monotonic() < deadline:
        resp = api.get("/api/option-chain/NIFTY")
        assert resp.status_code == 200, resp.text
        chain = resp.json()
        priced = [
            s for s in chain["strikes"] if s["call"] and s["call"]["ltp"] is not None and s["call"]["iv"]
        ]
        if len(priced) >= 5:
            break
        time.sleep(1)
    # Then strikes carry prices, IVs and Greeks, and the summary names ATM, PCR and max pain
    assert len(priced) >= 5, chain
    atm = Decimal(chain["summary"]["atm_strike"])
    assert Decimal("20000") < atm < Decimal("30000")
    deltas = [s["call"]["delta"] for s in priced]
    assert all(0 <= d <= 1 for d in deltas)
    assert chain["summary"]["max_pain"] is not None
    # And an expiry with no contracts is a 404 that lists the ones there are
    missing = api.get("/api/option-chain/NIFTY", params={"expiry": "2031-01-07"})
    assert missing.status_code == 404 and "20" in missing.json()["detail"]
