"""The exchange's real F&O reports, parsed once, and an in-memory ``FoStore`` / ``EqHistory`` for unit tests."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Sequence
from datetime import date
from functools import cache
from pathlib import Path

from mantra.market.fo_contracts import FoContract, FoSession, OiSummary, oi_summary
from mantra.market.nse import FoBar
from mantra.market.nse.udiff_fo import parse_udiff_fo
from nse_files import nse_data_dir


def fo_files() -> list[Path]:
    return sorted((nse_data_dir() / "fo").glob("BhavCopy_NSE_FO_*.csv.zip"))


@cache
def fo_rows(path: Path) -> tuple[FoBar, ...]:
    result = parse_udiff_fo(path)
    assert not result.problems, result.problems[:3]
    return tuple(result.rows)


@cache
def raw_rows(path: Path) -> tuple[dict[str, str], ...]:
    """The file's rows as plain CSV dicts, read without our parser (what the tests compare against)."""
    with zipfile.ZipFile(path) as z:
        text = z.read(z.namelist()[0]).decode()
    return tuple(csv.DictReader(io.StringIO(text)))


class MemoryFoStore:
    def __init__(self) -> None:
        self.summaries: dict[date, FoSession] = {}
        self.items: dict[date, list[FoContract]] = {}
        self.reads = 0

    def put_session(self, session: FoSession, contracts: Sequence[FoContract], now_ms: int) -> None:
        self.items[session.session] = list(contracts)
        self.summaries[session.session] = session

    def latest_session(self, on_or_before: date | None = None) -> FoSession | None:
        self.reads += 1
        days = [d for d in self.summaries if on_or_before is None or d <= on_or_before]
        return self.summaries[max(days)] if days else None

    def contracts(self, session: date, underlying: str) -> list[FoContract]:
        return [c for c in self.items.get(session, []) if c.underlying == underlying]

    def open_interest(self, sessions: int, on_or_before: date | None = None) -> list[OiSummary]:
        days = sorted(d for d in self.items if on_or_before is None or d <= on_or_before)[-sessions:]
        return [OiSummary(d, dict(oi_summary(self.items[d]))) for d in days]

    def sessions(self, on_or_before: date, limit: int) -> list[date]:
        return sorted((d for d in self.summaries if d <= on_or_before), reverse=True)[:limit]


class MemoryEqHistory:
    def __init__(self) -> None:
        self.symbols: set[str] = set()
        self.days: set[date] = set()

    def add(self, sessions: Sequence[date], symbols: Iterable[str], source: str, now_ms: int) -> None:
        self.symbols |= set(symbols)
        self.days |= set(sessions)

    def eq_symbols(self) -> tuple[frozenset[str], date | None]:
        return frozenset(self.symbols), (max(self.days) if self.days else None)
