"""Tick published -> quote visible through the API, on the local platform.

Starts ``mantra dev --in-memory`` on free ports (as tests/e2e does), publishes marked ticks for a symbol the
simulated feed does not stream (so the feed's own ticks never mask ours) with ``KinesisTickPublisher``, polls
``GET /api/quotes/{symbol}`` until each mark shows, and prints p50/p95/max. The path measured is the whole
local data plane: kinesalite -> the local Kinesis poller -> tick_processor (quote + candles in one DynamoDB
Local transaction) -> the API (through its quote cache) -> HTTP. The feed keeps streaming meanwhile.

    .venv/bin/python bench/bench_tick_latency.py              # 40 marks, ~0.7 s apart
    .venv/bin/python bench/bench_tick_latency.py --marks 100
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from pathlib import Path

from mantra.devtools.local_platform import start
from mantra.devtools.standins import endpoint_env
from mantra.domain import Tick
from mantra.settings import Settings
from mantra.store.aws import KinesisTickPublisher, client

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--marks", type=int, default=40)
    ap.add_argument("--gap-s", type=float, default=0.7)
    ap.add_argument(
        "--via",
        choices=("api", "store"),
        default="api",
        help="store: poll the quotes table directly (no API)",
    )
    args = ap.parse_args()

    t = time.monotonic()
    platform = start(ROOT, timeout_s=180)
    ports = {name: platform.port(name) for name in ("KINESIS", "DYNAMODB", "MOTO")}
    try:
        print(
            f"platform up in {time.monotonic() - t:.1f} s ({platform.base_url}, logs in {platform.data_dir})"
        )
        api = platform.client(platform.token())
        settings = Settings(
            kinesis_port=ports["KINESIS"], dynamodb_port=ports["DYNAMODB"], moto_port=ports["MOTO"]
        )
        os.environ.update(endpoint_env(settings))
        publisher = KinesisTickPublisher(settings)
        ddb = client("dynamodb", settings.region)
        symbol = f"LATBENCH{random.randint(100, 999)}"
        lat: list[float] = []
        price = 100_000
        for seq in range(1, args.marks + 1):
            price += random.choice((5, 10, 15))
            now_ms = int(time.time() * 1000)
            mark = Tick(
                tick_id=f"{symbol}-{seq}",
                seq=seq,
                symbol=symbol,
                token="latbench",  # noqa: S106 - an instrument token, not a secret
                ts_ms=now_ms,
                ltp_paise=price,
                last_qty=1,
                volume=seq,
            )
            want = f"{price // 100}.{price % 100:02d}"
            sent = time.perf_counter()
            publisher.publish([mark])
            while True:
                if args.via == "store":
                    item = ddb.get_item(TableName=settings.name("quotes"), Key={"symbol": {"S": symbol}})
                    seen = item.get("Item", {}).get("ltp_paise", {}).get("N") == str(price)
                else:
                    r = api.get(f"/api/quotes/{symbol}")
                    seen = r.status_code == 200 and r.json()["ltp"] == want
                if seen:
                    lat.append(time.perf_counter() - sent)
                    break
                if time.perf_counter() - sent > 10:
                    lat.append(float("inf"))
                    break
                time.sleep(0.01)
            time.sleep(max(0.0, args.gap_s - (time.perf_counter() - sent)))
        ok = sorted(x for x in lat if x != float("inf"))
        q = statistics.quantiles(ok, n=100) if len(ok) > 1 else ok * 100
        print(
            f"tick published -> quote visible via {'GET /api/quotes' if args.via == 'api' else 'the quotes table'}: "
            f"{len(ok)}/{len(lat)} seen; "
            f"p50 {q[49] * 1e3:.0f} ms, p95 {q[94] * 1e3:.0f} ms, max {ok[-1] * 1e3:.0f} ms"
        )
    finally:
        platform.stop()


if __name__ == "__main__":
    main()
