"""A full NIFTY option chain from stored quotes to the API response, on the exchange's real contract list.

    .venv/bin/python bench/bench_option_chain.py              # 200 requests per case
    .venv/bin/python bench/bench_option_chain.py --repeat 500

Starts the local stand-ins (in memory), stores what the platform holds at 15:00 IST on 2025-02-05:
- the instrument master: every NIFTY future and option in that day's real F&O report (names and tokens as the
  exchange prints them), queried through the master's ``by_underlying`` index;
- a quote for every contract of the nearest three expiries (~534 options) and the three futures, the report's
  close as LTP with a one-tick bid/ask on most of them (mid) and LTP only on the rest, and the index spot;
- the real F&O reports of 2025-02-03 and 2025-02-04 (previous-session OI, IV history);
then times GET /api/option-chain/NIFTY through the API app in-process (FastAPI TestClient, the pro user's
bearer token, entitlement and rate-limit checks included) over DynamoDB Local: ``make run`` is too heavy for
this 2-core box with the other helpers on it. Each request reads the quotes of all ~540 contracts, prices
IV + Black-76 Greeks for all three expiries (PCR/max pain/ATM IV by expiry) and returns the nearest one's
strikes; the second case asks for each of the three expiries in turn (every strike's row serialised once).

Peer, same run, same quotes in memory: a per-contract ``scipy.optimize.brentq`` Black-76 IV plus Greeks in a
Python loop over the ~540 contracts (what a trader's script does), against ours on the same in-memory quotes.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import statistics
import sys
import tempfile
import time
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "layers" / "core"))
sys.path.insert(0, str(REPO))

TODAY, STORED = date(2025, 2, 5), (date(2025, 2, 3), date(2025, 2, 4))
RATE = 0.065
SPOT = "NIFTY 50"


def _paise(text: str) -> int:
    return int(Decimal(text) * 100)


def p95(xs: list[float]) -> float:
    return float(np.percentile(np.asarray(xs), 95))


def peer(quotes: dict, options: list, years: dict[str, float], forwards: dict[str, float]) -> int:
    """brentq Black-76 IV and delta/gamma/vega/theta per contract, plain Python."""
    from scipy.optimize import brentq

    def n(x: float) -> float:
        return 0.5 * math.erfc(-x / math.sqrt(2.0))

    def b76(f: float, k: float, t: float, v: float, call: bool) -> float:
        sq = v * math.sqrt(t)
        d1 = (math.log(f / k) + 0.5 * sq * sq) / sq
        d2 = d1 - sq
        df = math.exp(-RATE * t)
        return df * (f * n(d1) - k * n(d2)) if call else df * (k * n(-d2) - f * n(-d1))

    solved = 0
    for c in options:
        q = quotes.get(c.symbol)
        if q is None:
            continue
        px = (q.bid_paise + q.ask_paise) / 200 if q.bid_paise and q.ask_paise else q.ltp_paise / 100
        f, t, k, call = forwards[c.expiry], years[c.expiry], c.strike_paise / 100, c.instrument_type == "CE"
        try:
            v = brentq(lambda s: b76(f, k, t, s, call) - px, 1e-4, 5.0, xtol=1e-10)  # noqa: B023
        except ValueError:
            continue
        sq = v * math.sqrt(t)
        d1 = (math.log(f / k) + 0.5 * sq * sq) / sq
        df = math.exp(-RATE * t)
        pdf = math.exp(-0.5 * d1 * d1) / math.sqrt(2 * math.pi)
        _delta = df * (n(d1) if call else n(d1) - 1)
        _gamma = df * pdf / (f * sq)
        _vega = f * df * pdf * math.sqrt(t) / 100
        _theta = (-f * df * pdf * v / (2 * math.sqrt(t)) + RATE * b76(f, k, t, v, call)) / 365
        solved += 1
    return solved


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=200)
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a stopped bench still stops its stand-ins

    from fastapi.testclient import TestClient
    from mantra.auth.passwords import hash_password
    from mantra.billing.plans import load_catalogs
    from mantra.clock import IST, ManualClock, SystemClock
    from mantra.container import Container
    from mantra.devtools import bootstrap, standins
    from mantra.devtools.nse_data import nse_reports_dir
    from mantra.domain import Instrument, Quote, Role, User
    from mantra.market.eod_ingest import fo_report_name
    from mantra.market.fo_contracts import sessions_of
    from mantra.market.nse.udiff_fo import parse_udiff_fo
    from mantra.market.option_chain import OptionChainService
    from mantra.market.past_chains import PastChains
    from mantra.settings import Settings, get_settings
    from mantra.store import aws, tables
    from mantra.store.fo_repository import DynamoFoStore
    from mantra.store.option_repository import DynamoChainQuotes, DynamoOptionContractRepository
    from mantra.store.repositories import (
        DynamoInstrumentRepository,
        DynamoPlanRepository,
        DynamoQuoteRepository,
        DynamoUserRepository,
    )

    from frontend_api.app import create_app

    fo_dir = (nse_reports_dir(Settings()) or Path("missing")) / "fo"
    if not (fo_dir / fo_report_name(TODAY)).is_file():
        sys.exit(f"no {fo_report_name(TODAY)} in {fo_dir}")
    bars = [b for b in parse_udiff_fo(fo_dir / fo_report_name(TODAY)).rows if b.symbol == "NIFTY"]
    option_expiries = sorted({b.expiry for b in bars if b.option_type})[:3]
    at = int(datetime.combine(TODAY, datetime.min.time().replace(hour=15), tzinfo=IST).timestamp() * 1000)

    master = [
        Instrument(
            symbol=b.name, token=b.instrument_id, exchange="NFO", name=b.name,
            instrument_type=b.option_type or "FUT", lot_size=b.lot_size, underlying="NIFTY",
            expiry=b.expiry.isoformat(), strike_paise=b.strike_paise, broker_tokens={"angel": b.instrument_id},
        )
        for b in bars
    ]  # fmt: skip
    quoted = [b for b in bars if b.expiry in option_expiries or b.option_type is None]
    quotes = []
    for i, b in enumerate(quoted):
        two_sided = i % 4 != 0  # most contracts show a live book; every fourth only its last trade
        quotes.append(
            Quote(
                symbol=b.name, ltp_paise=b.close_paise, open_paise=b.open_paise or b.close_paise,
                high_paise=b.high_paise or b.close_paise, low_paise=b.low_paise or b.close_paise,
                prev_close_paise=b.prev_close_paise, bid_paise=max(5, b.close_paise - 5) if two_sided else None,
                ask_paise=b.close_paise + 5 if two_sided else None, volume=b.volume * b.lot_size,
                tick_ts_ms=at, tick_id=f"{b.instrument_id}-1", seq=1, session_date=TODAY.isoformat(),
                oi=b.open_interest, oi_open=b.open_interest,
            )
        )  # fmt: skip
    spot = bars[0].underlying_paise or 0
    quotes.append(
        Quote(
            symbol=SPOT, ltp_paise=spot, open_paise=spot, high_paise=spot, low_paise=spot, prev_close_paise=spot,
            bid_paise=None, ask_paise=None, volume=0, tick_ts_ms=at, tick_id="spot-1", seq=1,
            session_date=TODAY.isoformat(),
        )
    )  # fmt: skip
    n_options = sum(1 for b in quoted if b.option_type)

    work = Path(tempfile.mkdtemp(prefix="bench-chain-"))
    ports = {
        k: standins.free_port()
        for k in ("dynamodb_port", "kinesis_port", "moto_port", "smtp_port", "stripe_port")
    }
    base = Settings(data_dir=work, standins_dir=REPO / ".standins", stage="bench", **ports)  # type: ignore[arg-type]
    os.environ.update(
        {
            **standins.endpoint_env(base),
            **standins.local_settings_env(base),
            "MANTRA_STAGE": "bench",
            **{f"MANTRA_{k.upper()}": str(v) for k, v in ports.items()},
        }
    )
    get_settings.cache_clear()
    aws.client.cache_clear()
    settings = Settings()
    print("starting stand-ins and storing the master, quotes and two F&O reports ...", flush=True)
    procs = standins.start_all(settings, in_memory=True, log_dir=work / "logs")
    try:
        bootstrap.provision(settings)
        tables.configure(settings)
        DynamoPlanRepository().put_many(load_catalogs())
        pro = User(
            user_id="usr_bench_pro", email="pro@bench.trademantra.in", name="Bench Pro", tenant_id="tnt_bench",
            roles=frozenset({Role.TRADER}), plan_id="pro",
        )  # fmt: skip
        DynamoUserRepository().put(pro, hash_password("bench-only"), SystemClock().now_ms())
        DynamoInstrumentRepository().put_many(master)
        DynamoQuoteRepository().put_many(quotes)
        fo = DynamoFoStore()
        for day in STORED:
            path = fo_dir / fo_report_name(day)
            for summary, contracts in sessions_of(parse_udiff_fo(path).rows, path.name):
                fo.put_session(summary, contracts, 0)

        clock = ManualClock(at)
        container = Container(settings, SystemClock())  # tokens and rate limits in real time
        service = OptionChainService(
            DynamoOptionContractRepository(),
            DynamoChainQuotes(),  # what the container wires
            clock,
            RATE,
            past=PastChains(DynamoFoStore(), clock, RATE),
        )
        container.__dict__["option_chains"] = service  # the chain's clock at 15:00 IST that day
        client = TestClient(create_app(settings, container))
        issuer = client.app.state.dev_issuer  # type: ignore[attr-defined]
        auth = {"Authorization": f"Bearer {issuer.issue(pro, SystemClock().now_ms() // 1000)}"}

        def get(expiry: str | None = None) -> dict:
            params = {} if expiry is None else {"expiry": expiry}
            res = client.get("/api/option-chain/NIFTY", params=params, headers=auth)
            assert res.status_code == 200, res.text
            return res.json()

        t0 = time.perf_counter()
        body = get()
        first = time.perf_counter() - t0
        for _ in range(5):
            get()
        one: list[float] = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            get()
            one.append(time.perf_counter() - t0)
        three: list[float] = []
        for _ in range(max(20, args.repeat // 3)):
            t0 = time.perf_counter()
            for e in option_expiries:
                get(e.isoformat())
            three.append(time.perf_counter() - t0)
        reads: list[float] = []
        repo = DynamoChainQuotes()
        symbols = [q.symbol for q in quotes]
        for _ in range(max(20, args.repeat // 4)):
            t0 = time.perf_counter()
            repo.get_many(symbols)
            reads.append(time.perf_counter() - t0)

        # compute only, ours vs the peer, on the same quotes in memory
        in_memory = {q.symbol: q for q in quotes}

        class Mem:
            def get_many(self, syms):  # type: ignore[no-untyped-def]
                return {s: in_memory[s] for s in syms if s in in_memory}

        class Master:
            def derivatives(self, underlying):  # type: ignore[no-untyped-def]
                return [i for i in master if i.underlying == underlying]

        mem_service = OptionChainService(
            Master(), Mem(), clock, RATE, past=PastChains(DynamoFoStore(), clock, RATE)
        )  # type: ignore[arg-type]
        mem_service.chain("NIFTY")
        compute: list[float] = []
        for _ in range(max(20, args.repeat // 4)):
            t0 = time.perf_counter()
            chain = mem_service.chain("NIFTY")
            compute.append(time.perf_counter() - t0)
        # the same route with the quotes in memory: the API's own share (auth, maths, serialisation)
        container.__dict__["option_chains"] = mem_service
        for _ in range(5):
            get()
        route_mem: list[float] = []
        for _ in range(max(20, args.repeat // 2)):
            t0 = time.perf_counter()
            get()
            route_mem.append(time.perf_counter() - t0)
        forwards = {s.expiry: s.forward for s in chain.by_expiry}
        years = {s.expiry: s.years_to_expiry for s in chain.by_expiry}
        opts = [i for i in master if i.instrument_type in ("CE", "PE") and i.expiry in forwards]
        t0 = time.perf_counter()
        peer_solved = peer(in_memory, opts, years, forwards)  # type: ignore[arg-type]
        peer_s = time.perf_counter() - t0
        ours_solved = sum(
            1
            for e in option_expiries
            for r in mem_service.chain("NIFTY", e.isoformat()).rows
            for leg in (r.call, r.put)
            if leg is not None and leg.iv_status == "ok"
        )
    finally:
        standins.stop_all(procs)

    s = body["summary"]
    print(
        f"NIFTY at 15:00 IST {TODAY}: master {len(master)} contracts, quoted {n_options} options of "
        f"{', '.join(e.isoformat() for e in option_expiries)} + {len(quoted) - n_options} futures; "
        f"forward {s['forward']:.2f} ({s['forward_source']}), PCR {float(s['pcr_oi_exact']):.4f}, "
        f"IV history {s['iv_history_sessions']} sessions"
    )
    ms = 1e3
    print(f"{'case':<66} {'p50 ms':>8} {'p95 ms':>8}")
    print(
        f"{'GET /api/option-chain/NIFTY (3 expiries priced, nearest returned)':<66} {statistics.median(one) * ms:>8.1f} {p95(one) * ms:>8.1f}"
    )
    print(
        f"{'the three expiries one after another (3 requests)':<66} {statistics.median(three) * ms:>8.1f} {p95(three) * ms:>8.1f}"
    )
    print(
        f"{'the same GET with the quotes in memory (the read excluded)':<66} {statistics.median(route_mem) * ms:>8.1f} {p95(route_mem) * ms:>8.1f}"
    )
    print(
        f"{'  of which: DynamoChainQuotes.get_many, all contracts, DynamoDB Local':<66} {statistics.median(reads) * ms:>8.1f} {p95(reads) * ms:>8.1f}"
    )
    print(
        f"{'  of which: the chain maths, quotes in memory (ours)':<66} {statistics.median(compute) * ms:>8.1f} {p95(compute) * ms:>8.1f}"
    )
    print(f"{'peer: scipy brentq Black-76 IV + Greeks per contract, once':<66} {peer_s * ms:>8.1f}")
    print(f"first request (cold caches: master, previous report, IV history): {first * ms:.0f} ms")
    print(f"IVs solved: ours {ours_solved}, peer {peer_solved} of {n_options}; "
          f"load average {Path('/proc/loadavg').read_text().split()[0]}")  # fmt: skip


if __name__ == "__main__":
    main()
