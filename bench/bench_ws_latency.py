"""Freshness of real-time push: tick stamped by the feed -> quote frame received over the local WebSocket.

Starts ``mantra dev --in-memory`` on free ports (as tests/e2e do), signs in, subscribes to quotes for a few
symbols over ``/ws`` and, for ~20 s, compares each frame's ``tick_time`` (the feed's stamp, just before it
publishes to Kinesis) with the arrival time on this machine's clock. The path measured: feed -> kinesalite ->
tick_processor -> DynamoDB Local quotes -> stream poller -> ws_push -> Management API -> socket.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from datetime import datetime
from pathlib import Path

from mantra.devtools.local_platform import start
from websockets.sync.client import connect

REPO = Path(__file__).resolve().parents[1]
SYMBOLS = ["SBIN", "RELIANCE", "INFY", "TCS"]
SECONDS = float(os.environ.get("BENCH_WS_SECONDS", "20"))


def main() -> None:
    platform = start(REPO)
    try:
        token = platform.token()
        lat_ms: list[float] = []
        ws_url = platform.base_url.replace("http://", "ws://") + f"/ws?token={token}"
        with connect(ws_url, open_timeout=10) as ws:
            ws.send(json.dumps({"action": "subscribe", "channel": "quotes", "symbols": SYMBOLS}))
            warm_until = time.monotonic() + 3  # let the stream pollers catch up with the backlog first
            end = time.monotonic() + 3 + SECONDS
            while time.monotonic() < end:
                frame = json.loads(ws.recv(timeout=10))
                if frame["type"] != "quote":
                    continue
                arrived = time.time()
                if time.monotonic() < warm_until:
                    continue
                lat_ms.append(
                    (arrived - datetime.fromisoformat(frame["data"]["tick_time"]).timestamp()) * 1000
                )
        lat_ms.sort()
        q = statistics.quantiles(lat_ms, n=100)
        print(
            f"tick -> quote frame over /ws, {len(lat_ms)} frames in {SECONDS:.0f} s for {len(SYMBOLS)} symbols: "
            f"p50 {q[49]:.0f} ms, p95 {q[94]:.0f} ms, max {lat_ms[-1]:.0f} ms"
        )
    finally:
        platform.stop()


if __name__ == "__main__":
    main()
