"""End-of-day history from the exchange's own reports: files in, 1d candles out, idempotently.

A capital-market bhavcopy (any of the three layouts, recognised from its header) becomes one 1d candle per
symbol and series and session, ``source="nse_eod"``. A bare symbol is its EQ series (``RELIANCE``); other
series are stored as the brokers name them (``RELIANCE-BE``). Candles are keyed by (symbol, timeframe, session),
so loading a file twice writes the same items again and changes nothing. A row the parser could not read is
reported with its file, line and column; the rest of the day is kept. With an ``EqHistoryIndex`` the EQ symbols
of each day are recorded too (the ``nse_eq`` universe). An F&O report is stored, one compact record per
contract and day, when the loader has an ``FoStore`` (``market.fo_contracts``: lot sizes, expiries, the ``fno``
universe). A corporate-actions file (the daily bc file, the exchange's history download) becomes factors kept
as data (``mantra.market.adjustments``) when the loader has a ``FactorStore``; an action whose factor cannot be
computed is reported as a problem naming its file and line, never guessed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Protocol

from mantra.clock import IST
from mantra.domain import Candle
from mantra.market.adjustments import FactorStore, Unapplied, factors_of
from mantra.market.calendar import default_calendar
from mantra.market.fo_contracts import FoStore, sessions_of
from mantra.market.nse import DailyBar, FoBar, ParseProblem, ReportError, ReportKind, parse_report
from mantra.market.nse.corporate_actions import CorporateAction
from mantra.market.nse.reports import AnyResult
from mantra.market.timeframes import bucket_start_ms
from mantra.ports import CandleRepository

EOD_SOURCE = "nse_eod"
CM_KINDS = frozenset({ReportKind.FULL_BHAVCOPY, ReportKind.UDIFF_CM, ReportKind.LEGACY_CM})
ACTION_KINDS = frozenset({ReportKind.CORPORATE_ACTIONS_BC, ReportKind.CORPORATE_ACTIONS_HISTORY})
WRITE_BATCH = 500


def candle_symbol(symbol: str, series: str) -> str:
    """``RELIANCE`` for the EQ series, ``RELIANCE-BE`` for another (the brokers' trading-symbol form)."""
    return symbol if series == "EQ" else f"{symbol}-{series}"


def session_start_ms(day: date) -> int:
    """The 1d bucket of an IST session date, as the live candle builder stamps daily bars."""
    return bucket_start_ms(int(datetime.combine(day, time(9, 15), tzinfo=IST).timestamp() * 1000), "1d")


def daily_candle(bar: DailyBar) -> Candle:
    start = session_start_ms(bar.trade_date)
    return Candle(
        symbol=candle_symbol(bar.symbol, bar.series),
        timeframe="1d",
        start_ms=start,
        open_paise=bar.open_paise,
        high_paise=bar.high_paise,
        low_paise=bar.low_paise,
        close_paise=bar.close_paise,
        volume=bar.volume,
        ticks=bar.trades or 0,
        first_tick_ms=start,
        last_tick_ms=start,
        source=EOD_SOURCE,
    )


@dataclass(frozen=True)
class FileLoad:
    """What one file gave."""

    path: str
    kind: str | None  # None: not a report we read (the error says why)
    sessions: tuple[date, ...] = ()
    candles: int = 0
    skipped_rows: int = 0  # rows of a kind not stored here (corporate actions; F&O without an FoStore)
    contracts: int = 0  # F&O contracts stored
    factors: int = 0  # corporate-action factors stored
    problems: tuple[ParseProblem, ...] = ()
    error: str | None = None
    already_loaded: bool = False  # the same content was loaded before: nothing to do


@dataclass
class LoadReport:
    files: list[FileLoad] = field(default_factory=list)

    @property
    def candles(self) -> int:
        return sum(f.candles for f in self.files)

    @property
    def contracts(self) -> int:
        return sum(f.contracts for f in self.files)

    @property
    def problems(self) -> list[ParseProblem]:
        return [p for f in self.files for p in f.problems]

    @property
    def failed(self) -> list[FileLoad]:
        return [f for f in self.files if f.error is not None]


def report_files(paths: Iterable[Path]) -> list[Path]:
    """Files named, and the files inside folders named (recursively), in a stable order."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(sorted(q for q in p.rglob("*") if q.is_file() and not q.name.startswith(".")))
        else:
            out.append(p)
    return out


class HistoryLoads(Protocol):
    """The record of loaded reports (``history_loads``): the first record of a key wins."""

    def recorded(self, source: str, key: str) -> bool: ...
    def record(self, source: str, key: str, load: FileLoad, now_ms: int) -> bool: ...


class EqHistoryIndex(Protocol):
    """Records which EQ-series symbols have stored daily history (``store.fo_repository.DynamoEqHistory``)."""

    def add(self, sessions: Sequence[date], symbols: Iterable[str], source: str, now_ms: int) -> None: ...


FILE_SOURCE = "nse_eod_file"  # history_loads records of files loaded by content (sha256), whatever their name


class EodLoader:
    def __init__(
        self,
        candles: CandleRepository,
        symbols: frozenset[str] | None = None,
        loads: HistoryLoads | None = None,
        writers: int = 4,
        fo: FoStore | None = None,
        eq: EqHistoryIndex | None = None,
        factors: FactorStore | None = None,
    ) -> None:
        """``symbols``: keep only these candle symbols (the demo seed's universe); None keeps every one.
        ``loads``: skip files whose content was loaded before, and record the ones loaded now.
        ``fo``: store F&O reports; ``eq``: record the EQ symbols of each capital-market day;
        ``factors``: store corporate-action files' factors (without it they are counted, not stored)."""
        self._candles, self._symbols, self._loads, self._writers = candles, symbols, loads, writers
        self._fo, self._eq, self._factors = fo, eq, factors

    def _stored(self, kind: str | None) -> bool:
        """Whether this loader stores a report of this kind (only those are recorded as loaded)."""
        return (
            kind in CM_KINDS
            or (kind == ReportKind.UDIFF_FO and self._fo is not None)
            or (kind in ACTION_KINDS and self._factors is not None)
        )

    def load_file(self, path: Path, now_ms: int = 0) -> FileLoad:
        try:
            data = path.read_bytes()
        except OSError as exc:
            return FileLoad(str(path), None, error=str(exc))
        digest = hashlib.sha256(data).hexdigest()
        if self._loads is not None and self._loads.recorded(FILE_SOURCE, digest):
            return FileLoad(str(path), None, already_loaded=True)
        one = self._parse_and_store(data, path.name, str(path), now_ms)
        if self._loads is not None and one.error is None and self._stored(one.kind):
            # only what was stored: a corporate-action file is loaded again once it has a loader
            self._loads.record(FILE_SOURCE, digest, one, now_ms)
        return one

    def load_bytes(self, data: bytes, name: str, now_ms: int = 0) -> FileLoad:
        """A report fetched rather than read from disk (the daily ingest)."""
        return self._parse_and_store(data, name, name, now_ms)

    def _parse_and_store(self, data: bytes, name: str, path: str, now_ms: int) -> FileLoad:
        try:
            result = parse_report(data, name)
        except (ReportError, UnicodeDecodeError) as exc:
            return FileLoad(path, None, error=str(exc))
        if result.kind in ACTION_KINDS and self._factors is not None:
            actions: list[CorporateAction] = result.rows  # type: ignore[assignment]
            return self._store_factors(path, result.kind, actions, result.problems, now_ms)
        return self._store(path, result, Path(name).name, now_ms)

    def _store_factors(
        self,
        path: str,
        kind: ReportKind,
        actions: list[CorporateAction],
        problems: list[ParseProblem],
        now_ms: int,
    ) -> FileLoad:
        assert self._factors is not None
        factors, unapplied = factors_of(actions, self._cum_close)
        stored = self._factors.put_many(factors, now_ms)
        return FileLoad(
            path,
            kind.value,
            factors=stored,
            problems=(*problems, *(_unapplied_problem(u) for u in unapplied)),
        )

    def _cum_close(self, symbol: str, ex_date: date) -> int | None:
        """The stored close of the EQ session before ``ex_date`` (a rights factor's cum-rights price)."""
        before = default_calendar().previous_trading_day(ex_date)
        key = (symbol, "1d", session_start_ms(before))
        found = self._candles.get_many([key]).get(key)
        return None if found is None or found.is_demo else found.close_paise

    def _store_fo(self, path: str, result: AnyResult, name: str, now_ms: int) -> FileLoad:
        assert self._fo is not None
        rows: list[FoBar] = result.rows  # type: ignore[assignment]
        days = sessions_of(rows, name)
        for summary, contracts in days:
            self._fo.put_session(summary, contracts, now_ms)
        sessions = tuple(s.session for s, _ in days)
        return FileLoad(
            path, result.kind.value, sessions, contracts=len(rows), problems=tuple(result.problems)
        )

    def _store(self, path: str, result: AnyResult, name: str, now_ms: int) -> FileLoad:
        if result.kind == ReportKind.UDIFF_FO and self._fo is not None:
            return self._store_fo(path, result, name, now_ms)
        if result.kind not in CM_KINDS:
            return FileLoad(
                path, result.kind.value, skipped_rows=len(result.rows), problems=tuple(result.problems)
            )
        rows: list[DailyBar] = result.rows  # type: ignore[assignment]
        keep = self._symbols
        candles = [daily_candle(b) for b in rows if keep is None or candle_symbol(b.symbol, b.series) in keep]
        # DynamoDB takes 25 items a request: several writers keep it busy while one waits for its answer
        with ThreadPoolExecutor(self._writers) as pool:
            list(pool.map(self._candles.put_many, _chunks(candles, WRITE_BATCH)))
        sessions = tuple(sorted({b.trade_date for b in rows}))
        if self._eq is not None:
            eq = (b.symbol for b in rows if b.series == "EQ")
            kept = eq if self._symbols is None else (s for s in eq if s in self._symbols)
            self._eq.add(sessions, kept, name, now_ms)
        return FileLoad(path, result.kind.value, sessions, len(candles), problems=tuple(result.problems))

    def load(
        self, paths: Iterable[Path], progress: Callable[[FileLoad], None] | None = None, now_ms: int = 0
    ) -> LoadReport:
        report = LoadReport()
        for path in report_files(paths):
            one = self.load_file(path, now_ms)
            report.files.append(one)
            if progress is not None:
                progress(one)
        return report


def _unapplied_problem(u: Unapplied) -> ParseProblem:
    a = u.action
    return ParseProblem(a.source, a.line, "PURPOSE", f"not applied: {u.reason}", a.purpose.text, a.symbol)


def _chunks(items: list[Candle], size: int) -> Iterator[list[Candle]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
