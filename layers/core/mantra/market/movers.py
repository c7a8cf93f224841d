"""The built-in market-movers scan: instruments whose change from the previous close passes a threshold.

A hit becomes a stored signal and a ``signal.detected`` event; both are keyed by the scan, the symbol and the
scheduled time, so a retried schedule invocation records and announces each hit once.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from pydantic import BaseModel

from mantra.money import to_rupees
from mantra.ports import OutboxRepository, QuoteRepository

SIGNAL_DETECTED = "signal.detected"


class Hit(BaseModel):
    symbol: str
    price: str
    change_bps: int


class ScanResult(BaseModel):
    scan_id: str
    scheduled_for: datetime
    scanned: int
    hits: list[Hit]
    new_events: int


def change_bps(ltp: int, prev_close: int) -> int:
    """Change in basis points, truncated toward zero so rises and falls are treated alike."""
    if not prev_close:
        return 0
    diff = ltp - prev_close
    magnitude = abs(diff) * 10_000 // prev_close
    return magnitude if diff >= 0 else -magnitude


class MoversScan:
    def __init__(self, quotes: QuoteRepository, outbox: OutboxRepository, threshold_bps: int = 200) -> None:
        self._quotes, self._outbox, self._threshold = quotes, outbox, threshold_bps
        self.scan_id = f"movers-{threshold_bps}bps"

    def run(self, scheduled_for: datetime) -> ScanResult:
        quotes = self._quotes.all()
        moves = [(q, change_bps(q.ltp_paise, q.prev_close_paise)) for q in quotes]
        hits = [
            Hit(symbol=q.symbol, price=str(to_rupees(q.ltp_paise)), change_bps=bps)
            for q, bps in moves
            if abs(bps) >= self._threshold
        ]
        at_ms = int(scheduled_for.timestamp() * 1000)
        new = 0
        for hit in hits:
            key = f"{self.scan_id}|{hit.symbol}|{scheduled_for.isoformat()}"
            event_id = "sig_" + hashlib.sha256(key.encode()).hexdigest()[:32]
            detail = {"scan_id": self.scan_id, "detected_ms": at_ms, **hit.model_dump()}
            new += self._outbox.put_if_absent(event_id, SIGNAL_DETECTED, detail, at_ms)
        return ScanResult(
            scan_id=self.scan_id, scheduled_for=scheduled_for, scanned=len(quotes), hits=hits, new_events=new
        )
