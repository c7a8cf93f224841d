"""The daily ingest: the session's report fetched through the port (a folder here; the archive over real HTTP
in tests/integration/test_eod_ingest_function.py), loaded once, recorded; a retried schedule changes nothing; a report not yet published is reported missing."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from fo_fakes import MemoryEqHistory, MemoryFoStore, fo_files, raw_rows
from mantra.market.eod import EodLoader, FileLoad, daily_candle, session_start_ms
from mantra.market.eod_ingest import (
    EodIngest,
    FolderSource,
    actions_name,
    fo_report_name,
    report_names,
    report_source,
)
from mantra.market.nse import parse_full_bhavcopy
from market_fakes import MemoryFactors
from nse_files import MemoryCandles, nse_data_dir

DAY = date(2025, 4, 30)
FILE = f"sec_bhavdata_full_{DAY:%d%m%Y}.csv"


class Loads:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], FileLoad] = {}

    def recorded(self, source: str, key: str) -> bool:
        return (source, key) in self.items

    def record(self, source: str, key: str, load: FileLoad, now_ms: int) -> bool:
        return self.items.setdefault((source, key), load) is load


def test_report_names_are_the_exchanges_for_the_session() -> None:
    assert report_names(date(2024, 1, 5)) == (
        "sec_bhavdata_full_05012024.csv",
        "BhavCopy_NSE_CM_0_0_0_20240105_F_0000.csv.zip",
        "cm05JAN2024bhav.csv",
    )


def test_a_session_is_loaded_once_from_a_folder_and_a_retry_changes_nothing(tmp_path: Path) -> None:
    shutil.copy(nse_data_dir() / "equity" / FILE, tmp_path / FILE)
    candles, loads = MemoryCandles(), Loads()
    ingest = EodIngest(EodLoader(candles), FolderSource(tmp_path), loads)
    first = ingest.run(DAY, 1)
    published = parse_full_bhavcopy(tmp_path / FILE).rows
    assert first.candles == len(published) == len(candles.items) > 2_000
    reliance = next(b for b in published if b.symbol == "RELIANCE" and b.series == "EQ")
    assert candles.items[("RELIANCE", "1d", session_start_ms(DAY))] == daily_candle(reliance)
    snapshot = dict(candles.items)
    again = ingest.run(DAY, 2)
    assert again.already_loaded == [FILE] and again.candles == 0 and candles.items == snapshot


def test_a_report_not_yet_published_is_missing_and_not_recorded(tmp_path: Path) -> None:
    loads = Loads()
    result = EodIngest(EodLoader(MemoryCandles()), FolderSource(tmp_path), loads).run(DAY, 1)
    assert result.missing == list(report_names(DAY)) and loads.items == {}


def test_the_sessions_corporate_actions_file_is_loaded_once_into_factors(tmp_path: Path) -> None:
    shutil.copy(nse_data_dir() / "equity" / FILE, tmp_path / FILE)
    # the day's PR-report bc file (a real one's content, under this session's name)
    shutil.copy(nse_data_dir() / "corporate_actions" / "bc16122025.csv", tmp_path / actions_name(DAY))
    factors, loads = MemoryFactors(), Loads()
    loader = EodLoader(MemoryCandles(), factors=factors)
    ingest = EodIngest(loader, FolderSource(tmp_path), loads, actions=True)
    first = ingest.run(DAY, 1)
    assert [Path(f.path).name for f in first.loaded] == [FILE, actions_name(DAY)]
    assert ("LALPATHLAB", date(2025, 12, 19), "BONUS 1:1") in factors.items
    assert any(p.symbol == "KRISHIVAL" and "face value" in p.message for p in first.loaded[1].problems)
    again = ingest.run(DAY, 2)
    assert again.loaded == [] and again.already_loaded == [FILE, actions_name(DAY)]
    # without one published, it is reported missing and the bhavcopy still loads
    (tmp_path / actions_name(DAY)).unlink()
    later = EodIngest(loader, FolderSource(tmp_path), Loads(), actions=True).run(DAY, 3)
    assert later.candles > 2_000 and later.missing == [actions_name(DAY)]


def test_a_broken_report_is_not_recorded_so_the_fixed_one_loads_next_time(tmp_path: Path) -> None:
    text = (nse_data_dir() / "equity" / FILE).read_text().splitlines()
    (tmp_path / FILE).write_text("\n".join([text[0].replace("SERIES", "SERIE"), *text[1:]]))
    loads = Loads()
    ingest = EodIngest(EodLoader(MemoryCandles()), FolderSource(tmp_path), loads)
    broken = ingest.run(DAY, 1)
    assert broken.loaded[0].error and "SERIES" in broken.loaded[0].error and loads.items == {}
    shutil.copy(nse_data_dir() / "equity" / FILE, tmp_path / FILE)
    assert ingest.run(DAY, 2).candles > 2_000 and len(loads.items) == 1


def test_plain_http_is_refused_except_on_loopback() -> None:
    with pytest.raises(ValueError, match="https"):
        report_source("http://nsearchives.nseindia.com/products/content")


def test_the_sessions_fo_report_is_ingested_once_beside_its_bhavcopy(tmp_path: Path) -> None:
    # Given a session whose bhavcopy and F&O report are both published
    fo_file = fo_files()[-1]
    day = date.fromisoformat(raw_rows(fo_file)[0]["TradDt"])
    cm = f"sec_bhavdata_full_{day:%d%m%Y}.csv"
    shutil.copy(nse_data_dir() / "equity" / cm, tmp_path / cm)
    shutil.copy(fo_file, tmp_path / fo_file.name)
    assert fo_report_name(day) == fo_file.name
    store, eq, loads = MemoryFoStore(), MemoryEqHistory(), Loads()
    ingest = EodIngest(EodLoader(MemoryCandles(), fo=store, eq=eq), FolderSource(tmp_path), loads, fo=True)
    # When the evening schedule runs, and runs again
    first = ingest.run(day, 1)
    again = ingest.run(day, 2)
    # Then both reports were loaded once: the contracts stored, the EQ symbols recorded, the retry a no-op
    assert [Path(f.path).name for f in first.loaded] == [cm, fo_file.name]
    assert sum(f.contracts for f in first.loaded) == len(raw_rows(fo_file)) == len(store.items[day])
    assert "RELIANCE" in eq.symbols and day in eq.days
    assert again.loaded == [] and again.already_loaded == [cm, fo_file.name] and len(loads.items) == 2


def test_a_missing_fo_report_does_not_hold_back_the_bhavcopy(tmp_path: Path) -> None:
    shutil.copy(nse_data_dir() / "equity" / FILE, tmp_path / FILE)
    ingest = EodIngest(
        EodLoader(MemoryCandles(), fo=MemoryFoStore()), FolderSource(tmp_path), Loads(), fo=True
    )
    result = ingest.run(DAY, 1)
    assert result.candles > 2_000 and result.missing == [fo_report_name(DAY)]
