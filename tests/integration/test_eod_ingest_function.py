"""eod_ingest over the real stand-ins: the scheduled handler fetches the session's report from an archive
served over real HTTP, writes the day's candles to DynamoDB Local and records it; delivered twice, it loads once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from mantra.clock import IST
from mantra.market.eod import session_start_ms
from mantra.market.eod_ingest import fo_report_name
from mantra.settings import Settings, get_settings
from mantra.store.corporate_action_repository import DynamoCorporateActions
from mantra.store.history_models import HistoryLoadItem
from mantra.store.repositories import DynamoCandleRepository
from nse_files import daily_panel, nse_data_dir

from functions.eod_ingest.handler import lambda_handler

DAY = date(2025, 3, 28)
FILE = f"sec_bhavdata_full_{DAY:%d%m%Y}.csv"
BC = (
    f"bc{DAY:%d%m%Y}.csv"  # the session's corporate-actions file: a real one's content, served under its name
)


class _Context:
    function_name = "eod_ingest"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:ap-south-1:000000000000:function:eod_ingest"
    aws_request_id = "req-eod"


@pytest.fixture
def archive(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """A loopback server laid out like the exchange's archive (full bhavcopies under /products/content)."""
    served = {
        f"/products/content/{FILE}": (nse_data_dir() / "equity" / FILE).read_bytes(),
        f"/products/content/{BC}": (nse_data_dir() / "corporate_actions" / "bc16122025.csv").read_bytes(),
    }
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            body = served.get(self.path)
            self.send_response(200 if body else 404)
            self.end_headers()
            if body:
                self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    monkeypatch.setenv("MANTRA_EOD_SOURCE", f"{base}/content/cm|{base}/products/content")
    get_settings.cache_clear()
    yield hits
    server.shutdown()
    get_settings.cache_clear()


def test_the_schedule_loads_the_session_once_from_the_archive(platform: Settings, archive: list[str]) -> None:
    evening = datetime.combine(DAY, datetime.min.time().replace(hour=19, minute=30), tzinfo=IST)
    event = {"schedule": "eod-evening", "scheduled_time": evening.isoformat()}
    # the demo seed stored only the demo names for this day; the whole market is what the report adds
    first = lambda_handler(event, _Context())  # type: ignore[arg-type]
    assert first["loaded"] == [FILE, BC] and first["candles"] > 2_000
    assert first["missing"] == [fo_report_name(DAY)]  # this archive has no F&O report: tried, said, not fatal
    assert [h for h in archive if not h.endswith(fo_report_name(DAY))] == [
        f"/content/cm/{FILE}",
        f"/products/content/{FILE}",
        f"/content/cm/{BC}",
        f"/products/content/{BC}",
    ]
    bonus = [f for f in DynamoCorporateActions().all() if f.symbol == "LALPATHLAB"]
    assert [(f.ex_date, f.ratio) for f in bonus] == [(date(2025, 12, 19), 2)]  # BONUS 1:1, as data
    candles = DynamoCandleRepository()
    t = next(i for i, d in enumerate(daily_panel(["ABB"]).days) if d == DAY)
    abb = candles.get_many([("ABB", "1d", session_start_ms(DAY))])[("ABB", "1d", session_start_ms(DAY))]
    assert abb.close_paise == round(daily_panel(["ABB"]).close[t, 0] * 100) and abb.source == "nse_eod"
    record = HistoryLoadItem.get("nse_eod", f"{DAY.isoformat()}#{FILE}")
    assert record.candles == first["candles"]

    second = lambda_handler(event, _Context())  # type: ignore[arg-type]
    assert second["already_loaded"] == [FILE, BC] and second["candles"] == 0
    assert sum(h.endswith((FILE, BC)) for h in archive) == 4  # the retry did not even download them again

    saturday = lambda_handler({**event, "scheduled_time": "2025-03-29T19:30:00+05:30"}, _Context())  # type: ignore[arg-type]
    assert saturday == {"skipped": "no session", "date": "2025-03-29"}
