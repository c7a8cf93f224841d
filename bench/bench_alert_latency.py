"""On the local platform: crossing tick -> in-app notification and -> e-mail in the SMTP sink, p50/p95.

Starts `mantra dev --in-memory` on free ports (as the e2e suite does), sets pairs of alerts one paisa either
side of the live price on every demo equity (the next move crosses one of each pair), re-arms them as they
fire, and measures until enough triggers are collected. Peers in the same run: the issue's targets
(in-app p95 < 1 s, e-mail < 2 s).
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import datetime
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "layers" / "core"))

from mantra.devtools.local_platform import start  # noqa: E402
from mantra.devtools.smtp_sink import read_messages  # noqa: E402

SYMBOLS = [
    "RELIANCE",
    "TCS",
    "INFY",
    "HDFCBANK",
    "ICICIBANK",
    "SBIN",
    "ITC",
    "LT",
    "TATAMOTORS",
    "BHARTIARTL",
]
WANTED = 60


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    platform = start(REPO)
    data = platform.data_dir
    try:
        api = platform.client(platform.token())
        armed: set[str] = set()
        inbox_ms: dict[str, float] = {}
        deadline = time.monotonic() + 240
        while len(inbox_ms) < WANTED and time.monotonic() < deadline:
            for symbol in SYMBOLS:
                if symbol in armed:
                    continue
                quote = api.get(f"/api/quotes/{symbol}")
                if quote.status_code != 200:
                    continue  # no tick for it yet
                ltp = Decimal(quote.json()["ltp"])
                for cond, level in (
                    ("crosses_above", ltp + Decimal("0.01")),
                    ("crosses_below", ltp - Decimal("0.01")),
                ):
                    api.post(
                        "/api/alerts",
                        json={
                            "symbol": symbol,
                            "condition": cond,
                            "price": str(level),
                            "channels": ["in_app", "email"],
                        },
                    )
                armed.add(symbol)
            for n in api.get("/api/notifications", params={"limit": 200}).json():
                if n["notification_id"] in inbox_ms or not n.get("delivered_at"):
                    continue
                delivered = datetime.fromisoformat(n["delivered_at"]).timestamp() * 1000
                inbox_ms[n["notification_id"]] = delivered - n["data"]["tick_ts_ms"]
                armed.discard(n["data"]["symbol"])  # re-arm this symbol (its other alert may fire later too)
            time.sleep(0.2)
        time.sleep(2)
        mail = {
            m["X-Mantra-Trigger-Id"]: int(m["X-Sink-Received-Ms"]) - int(m["X-Mantra-Tick-Ts"])
            for m in read_messages(data / "mail")
        }
        in_app = list(inbox_ms.values())
        email = [float(mail[k]) for k in inbox_ms if k in mail]
        print(f"{len(in_app)} crossings on {len(SYMBOLS)} symbols, local platform, this machine")
        print(
            f"  in-app  p50 {statistics.median(in_app):6.0f} ms   p95 {pct(in_app, 0.95):6.0f} ms   (target p95 < 1000 ms)"
        )
        print(
            f"  e-mail  p50 {statistics.median(email):6.0f} ms   p95 {pct(email, 0.95):6.0f} ms   (target < 2000 ms)"
        )
    finally:
        platform.stop()


if __name__ == "__main__":
    main()
