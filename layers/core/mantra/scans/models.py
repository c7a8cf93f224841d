"""Domain objects of the scanner product: saved scanners, signals, and the result of a run."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from mantra.domain import Frozen


class Every(StrEnum):
    """How often a saved scanner runs during market hours."""

    OFF = "off"
    MINUTE = "1m"
    FIVE_MINUTES = "5m"
    FIFTEEN_MINUTES = "15m"

    @property
    def minutes(self) -> int:
        return {"off": 0, "1m": 1, "5m": 5, "15m": 15}[self.value]


class Scanner(Frozen):
    tenant_id: str
    scanner_id: str
    user_id: str
    name: str
    expression: str
    timeframe: str
    universe: str
    schedule: Every
    cost: int
    created_ms: int
    updated_ms: int
    last_run_ms: int | None = None
    last_hits: tuple[str, ...] = ()


class Signal(Frozen):
    """One symbol newly matching a saved scanner at a scheduled run."""

    tenant_id: str
    signal_id: str
    scanner_id: str
    scanner_name: str
    user_id: str
    symbol: str
    timeframe: str
    price_paise: int
    change_pct: Decimal | None  # from the previous bar, %, unrounded
    detected_ms: int
    bar_ms: int


class Hit(Frozen):
    symbol: str
    close_paise: int
    change_pct: Decimal | None  # from the previous bar, %, unrounded
    volume: int


class ScanRun(Frozen):
    expression: str
    timeframe: str
    universe: str
    cost: int
    scanned: int
    bar_ms: int
    hits: tuple[Hit, ...]
    elapsed_ms: float
    # what the stored history lacked (nothing is filled in): see mantra.quant.scanner.frame.Coverage
    no_data: tuple[str, ...] = ()
    short_history: dict[str, int] = {}
    stale: dict[str, int] = {}  # symbol -> start (epoch ms) of its own last bar, older than bar_ms


class ScheduledRun(Frozen):
    scheduled_ms: int
    due: tuple[str, ...]  # schedule intervals due at this minute
    scanners_run: int
    failed: tuple[str, ...]
    signals: int
    new_events: int
