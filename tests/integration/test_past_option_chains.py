"""Past option chains over the real stand-ins: two real F&O reports ingested by the eod_ingest function (the
schedule's own path, from a report folder) into DynamoDB Local, then GET /api/option-chain/{symbol}?date=
through the API: every strike of the expiry, PCR and max pain exactly as a hand computation from the raw
rows gives them, IVs and Greeks, and 404s naming the session or expiry that was not ingested."""

from __future__ import annotations

import csv
import io
import shutil
import zipfile
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime, time
from decimal import Decimal, localcontext

import pytest
from fastapi.testclient import TestClient
from mantra.clock import IST, SystemClock
from mantra.container import Container
from mantra.market.eod_ingest import fo_report_name
from mantra.settings import Settings, get_settings
from mantra.store.repositories import DynamoUserRepository
from nse_files import nse_data_dir

from frontend_api.app import create_app
from functions.eod_ingest.handler import lambda_handler

pytestmark = pytest.mark.integration

DAYS = (date(2025, 2, 10), date(2025, 2, 11))
EXPIRY = "2025-02-13"  # NIFTY's weekly expiry that week


class _Context:
    function_name = "eod_ingest"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:ap-south-1:000000000000:function:eod_ingest"
    aws_request_id = "req-eod-fo"


def _rows(day: date) -> list[dict[str, str]]:
    with zipfile.ZipFile(nse_data_dir() / "fo" / fo_report_name(day)) as z:
        return list(csv.DictReader(io.StringIO(z.read(z.namelist()[0]).decode())))


def _paise(text: str) -> int:
    return int(Decimal(text) * 100)


@pytest.fixture(scope="module")
def ingested(
    platform: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[dict[str, object]]]:
    folder = tmp_path_factory.mktemp("archive")
    for day in DAYS:
        shutil.copy(nse_data_dir() / "fo" / fo_report_name(day), folder / fo_report_name(day))
    mp = pytest.MonkeyPatch()
    mp.setenv("MANTRA_EOD_SOURCE", str(folder))
    get_settings.cache_clear()
    out = []
    for day in DAYS:
        evening = datetime.combine(day, time(19, 30), tzinfo=IST)
        out.append(
            lambda_handler({"schedule": "eod-evening", "scheduled_time": evening.isoformat()}, _Context())
        )  # type: ignore[arg-type]
    yield out
    mp.undo()
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def client(platform: Settings, ingested: list[dict[str, object]]) -> tuple[TestClient, dict[str, str]]:
    container = Container(platform, SystemClock())
    api = TestClient(create_app(platform, container))
    pro = DynamoUserRepository().by_email("pro@demo.trademantra.in")[0]  # type: ignore[index]
    issuer = api.app.state.dev_issuer  # type: ignore[attr-defined]
    return api, {"Authorization": f"Bearer {issuer.issue(pro, container.clock.now_ms() // 1000)}"}


def test_the_schedule_ingests_the_fo_reports(ingested: list[dict[str, object]]) -> None:
    for day, result in zip(DAYS, ingested, strict=True):
        assert fo_report_name(day) in result["loaded"] or fo_report_name(day) in result["already_loaded"]  # type: ignore[operator]


def test_a_past_chain_answers_from_the_ingested_report_with_exact_pcr_and_max_pain(
    client: tuple[TestClient, dict[str, str]],
) -> None:
    api, auth = client
    day = DAYS[1]
    # Given the raw report, computed by hand
    call: dict[int, int] = defaultdict(int)
    put: dict[int, int] = defaultdict(int)
    raw = {}
    for r in _rows(day):
        if r["TckrSymb"] == "NIFTY" and r["XpryDt"] == EXPIRY and r["OptnTp"]:
            k = _paise(r["StrkPric"])
            (call if r["OptnTp"] == "CE" else put)[k] += int(r["OpnIntrst"])
            call.setdefault(k, 0)
            put.setdefault(k, 0)
            raw[r["FinInstrmNm"]] = r
    strikes = sorted(call)
    pain = {s: sum(c * (s - k) for k, c in call.items() if s > k) + sum(p * (k - s) for k, p in put.items() if k > s)
            for s in strikes}  # fmt: skip
    max_pain = min(strikes, key=lambda s: (pain[s], s))
    # When the API is asked for that session's chain
    assert api.get("/api/option-chain/NIFTY", params={"date": day.isoformat()}).status_code == 401
    res = api.get("/api/option-chain/NIFTY", params={"date": day.isoformat(), "expiry": EXPIRY}, headers=auth)
    assert res.status_code == 200, res.text
    body = res.json()
    s = body["summary"]
    # Then every strike of the expiry is there, with PCR and max pain exact
    assert body["source"] == "eod_report" and body["session"] == day.isoformat() and body["expiry"] == EXPIRY
    assert [_paise(x["strike"]) for x in body["strikes"]] == strikes
    assert (s["call_oi"], s["put_oi"]) == (sum(call.values()), sum(put.values()))
    with localcontext() as ctx:
        ctx.prec = 28
        assert Decimal(s["pcr_oi_exact"]) == Decimal(sum(put.values())) / Decimal(sum(call.values()))
    assert _paise(s["max_pain"]) == max_pain
    spot = next(r["UndrlygPric"] for r in _rows(day) if r["TckrSymb"] == "NIFTY")
    assert s["spot"] == spot and s["forward_source"] == "parity"
    # PCR by expiry for the nearest three, the first being this one; the month's future priced the third
    by = body["by_expiry"]
    assert by[0]["expiry"] == EXPIRY and len(by) == 3 and by[0]["pcr_oi"] == s["pcr_oi_exact"]
    futures = {
        r["FinInstrmNm"]: r for r in _rows(day) if r["TckrSymb"] == "NIFTY" and r["FinInstrmTp"] == "IDF"
    }
    assert {f["symbol"] for f in body["futures"]} == set(futures)
    for f in body["futures"]:
        assert f["oi_change"] == int(futures[f["symbol"]]["ChngInOpnIntrst"])
    monthly = next(b for b in by if b["expiry"] in {r["XpryDt"] for r in futures.values()})
    assert monthly["forward_source"] == "future"
    # and each leg has its close (or settlement), OI, the exchange's OI change, and an IV with Greeks
    solved = 0
    for row in body["strikes"]:
        for leg in (row["call"], row["put"]):
            r = raw[leg["symbol"]]
            assert leg["oi"] == int(r["OpnIntrst"]) and leg["oi_change"] == int(r["ChngInOpnIntrst"])
            traded = int(r["TtlTradgVol"]) > 0
            assert leg["price_source"] == ("close" if traded else "settlement")
            assert Decimal(leg["price"]) == Decimal(r["ClsPric"] if traded else r["SttlmPric"])
            if leg["iv_status"] == "ok":
                solved += 1
                assert 0 < leg["iv"] < 200 and leg["delta"] is not None and leg["vega"] > 0
    assert solved > len(body["strikes"])  # most of both sides
    # and the ATM IV is ranked against the session ingested before it (at least)
    assert s["iv_history_sessions"] >= 1 and s["iv_percentile"] is not None


def test_a_session_or_expiry_not_ingested_is_a_404_naming_it(
    client: tuple[TestClient, dict[str, str]],
) -> None:
    api, auth = client
    saturday = "2025-02-08"
    res = api.get("/api/option-chain/NIFTY", params={"date": saturday}, headers=auth)
    assert (
        res.status_code == 404
        and f"no F&O report is stored for the session {saturday}" in res.json()["detail"]
    )
    res = api.get(
        "/api/option-chain/NIFTY", params={"date": DAYS[1].isoformat(), "expiry": "2025-02-14"}, headers=auth
    )
    assert res.status_code == 404 and "no options expiring 2025-02-14" in res.json()["detail"]
    assert EXPIRY in res.json()["detail"]
    bad = api.get("/api/option-chain/NIFTY", params={"date": "11-02-2025"}, headers=auth)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"].endswith("date")
