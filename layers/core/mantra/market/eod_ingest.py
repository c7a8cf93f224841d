"""The daily end-of-day ingest: fetch a session's reports through a port, load them once, record what was loaded.

``ReportSource`` is the port: ``FolderSource`` reads a folder (the local platform, or a bucket synced to one),
``HttpsSource`` downloads from the exchange's archive. Files are found by the exchange's own names for a session
(what the archive serves), but each is still recognised from its content when parsed. A report already recorded
in the ``history_loads`` table is not loaded again, so a retried schedule changes nothing; a report not yet
published is reported as missing (the schedule runs again the next day and ``mantra history load`` catches up).
With ``fo=True`` the session's F&O bhavcopy is loaded the same way (its contracts, lot sizes and expiries).
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Protocol

from mantra.market.eod import EOD_SOURCE, EodLoader, FileLoad, HistoryLoads

log = logging.getLogger(__name__)


def report_names(day: date) -> tuple[str, ...]:
    """The exchange's file names for a session's reports, the richest capital-market layout first."""
    return (
        f"sec_bhavdata_full_{day:%d%m%Y}.csv",
        f"BhavCopy_NSE_CM_0_0_0_{day:%Y%m%d}_F_0000.csv.zip",
        f"cm{day:%d}{day.strftime('%b').upper()}{day:%Y}bhav.csv",
    )


def actions_name(day: date) -> str:
    """The session's corporate-actions file (from the daily PR report)."""
    return f"bc{day:%d%m%Y}.csv"


def fo_report_name(day: date) -> str:
    """The exchange's name for a session's UDiFF F&O bhavcopy."""
    return f"BhavCopy_NSE_FO_0_0_0_{day:%Y%m%d}_F_0000.csv.zip"


class ReportSource(Protocol):
    def fetch(self, name: str) -> bytes | None:
        """The report's bytes, or None when it is not (yet) published."""
        ...


class FolderSource:
    def __init__(self, folder: Path) -> None:
        self._folder = folder

    def fetch(self, name: str) -> bytes | None:
        hits = sorted(self._folder.rglob(name))
        return hits[0].read_bytes() if hits else None


class HttpsSource:
    """The exchange's archive: each base + file name in turn, over HTTPS (plain HTTP only to loopback, for
    tests). The archive serves each layout under its own path, hence several bases."""

    def __init__(self, bases: list[str], timeout_s: float = 30.0) -> None:
        for base in bases:
            if not (base.startswith("https://") or base.startswith(("http://127.0.0.1", "http://localhost"))):
                raise ValueError(f"eod source {base!r}: give an https:// URL")
        self._bases, self._timeout = [b.rstrip("/") + "/" for b in bases], timeout_s

    def fetch(self, name: str) -> bytes | None:
        for base in self._bases:
            request = urllib.request.Request(base + name, headers={"User-Agent": "trade-mantra-eod/1"})  # noqa: S310
            try:
                with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310 - checked
                    body: bytes = response.read()
                    return body
            except urllib.error.HTTPError as exc:
                if exc.code != 404:
                    raise
        return None


def report_source(spec: str) -> ReportSource:
    """``https://a|https://b`` (the archive's bases) or a folder path."""
    if spec.startswith(("https://", "http://")):
        return HttpsSource([b for b in spec.split("|") if b])
    return FolderSource(Path(spec))


@dataclass
class IngestResult:
    day: date
    loaded: list[FileLoad] = field(default_factory=list)
    already_loaded: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def candles(self) -> int:
        return sum(f.candles for f in self.loaded)


class EodIngest:
    def __init__(
        self,
        loader: EodLoader,
        source: ReportSource,
        loads: HistoryLoads,
        fo: bool = False,
        actions: bool = False,
    ) -> None:
        """``fo`` / ``actions``: also fetch the session's F&O report / corporate-actions file (the loader must
        store them: a fetched file is recorded as loaded)."""
        self._loader, self._source, self._loads = loader, source, loads
        self._fo, self._actions = fo, actions

    def run(self, day: date, now_ms: int) -> IngestResult:
        """Load the session's capital-market report (the first layout published), and its F&O report and
        corporate-actions file when asked, each once."""
        result = IngestResult(day)
        for name in report_names(day):
            if self._one(day, name, now_ms, result) != "missing":
                break
        if self._fo:
            self._one(day, fo_report_name(day), now_ms, result)
        if self._actions:
            self._one(day, actions_name(day), now_ms, result)
        return result

    def _one(self, day: date, name: str, now_ms: int, result: IngestResult) -> str:
        """Load one report unless recorded; says "already", "missing", "failed" or "loaded"."""
        key = f"{day.isoformat()}#{name}"
        if self._loads.recorded(EOD_SOURCE, key):
            result.already_loaded.append(name)
            return "already"
        data = self._source.fetch(name)
        if data is None:
            result.missing.append(name)
            return "missing"
        one = self._loader.load_bytes(data, name, now_ms)
        result.loaded.append(one)
        if one.error is not None:
            log.error("report %s not loaded: %s", name, one.error)
            return "failed"  # not recorded: a fixed file is loaded by the next run
        self._loads.record(EOD_SOURCE, key, one, now_ms)
        return "loaded"
