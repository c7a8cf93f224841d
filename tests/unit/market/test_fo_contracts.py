"""Lot sizes, expiries and strikes as data: the exchange's real F&O reports stored and read back as of a date."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from fo_fakes import MemoryEqHistory, MemoryFoStore, fo_files, fo_rows, raw_rows
from mantra.errors import Invalid
from mantra.market.eod import EodLoader, FileLoad
from mantra.market.fo_contracts import FoContract, FoLookup, FoSession, sessions_of
from nse_files import MemoryCandles, nse_data_dir


class Loads:
    def __init__(self) -> None:
        self.keys: dict[tuple[str, str], FileLoad] = {}

    def recorded(self, source: str, key: str) -> bool:
        return (source, key) in self.keys

    def record(self, source: str, key: str, load: FileLoad, now_ms: int) -> bool:
        return self.keys.setdefault((source, key), load) is load


def _paise(text: str) -> int:
    return int(Decimal(text) * 100)


def _day(path: Path) -> date:
    stamp = path.name.split("_")[6]  # BhavCopy_NSE_FO_0_0_0_YYYYMMDD_F_0000.csv.zip
    return date(int(stamp[:4]), int(stamp[4:6]), int(stamp[6:]))


def _loaded(*paths: Path) -> MemoryFoStore:
    store = MemoryFoStore()
    for path in paths:
        for summary, contracts in sessions_of(fo_rows(path), path.name):
            store.put_session(summary, contracts, 0)
    return store


def test_loading_a_real_fo_report_stores_every_contract_and_records_the_file() -> None:
    # Given the exchange's F&O bhavcopy for one session
    path = fo_files()[-1]
    store, loads = MemoryFoStore(), Loads()
    # When it is loaded like any other report
    one = EodLoader(MemoryCandles(), loads=loads, fo=store).load_file(path, now_ms=1)
    # Then every contract is stored for its session, compactly, and the file is recorded as loaded
    raw = raw_rows(path)
    assert one.error is None and one.kind == "udiff_fo" and one.contracts == len(raw) and one.candles == 0
    assert one.sessions == (_day(path),) and one.skipped_rows == 0
    assert list(loads.keys.values()) == [one]
    stored = store.items[_day(path)]
    assert len(stored) == len(raw)
    row = raw[len(raw) // 2]
    got = next(
        c
        for c in stored
        if c.underlying == row["TckrSymb"]
        and c.expiry.isoformat() == row["XpryDt"]
        and c.option_type == (row["OptnTp"] or None)
        and c.strike_paise == (_paise(row["StrkPric"]) if row["StrkPric"] else None)
    )
    assert got.lot_size == int(row["NewBrdLotQty"]) and got.instrument == row["FinInstrmTp"]
    assert got.settlement_paise == _paise(row["SttlmPric"]) and got.open_interest == int(row["OpnIntrst"])
    # the summary names the stock-future underlyings (the fno universe) and the indices apart
    summary = store.summaries[_day(path)]
    assert summary.stock_futures == {r["TckrSymb"] for r in raw if r["FinInstrmTp"] == "STF"}
    assert summary.indices == {r["TckrSymb"] for r in raw if r["FinInstrmTp"] in ("IDF", "IDO")}
    assert not summary.stock_futures & summary.indices and summary.source == path.name


def test_without_an_fo_store_the_report_is_still_only_recognised_and_not_recorded() -> None:
    loads = Loads()
    one = EodLoader(MemoryCandles(), loads=loads).load_file(fo_files()[0])
    assert one.skipped_rows == len(raw_rows(fo_files()[0])) and one.contracts == 0 and not loads.keys


@pytest.mark.parametrize("underlying", ["NIFTY", "BANKNIFTY", "RELIANCE"])
def test_lot_size_expiries_and_strikes_as_of_the_report_date_are_the_exchanges(underlying: str) -> None:
    path = fo_files()[-1]
    lookup = FoLookup(_loaded(path))
    specs = lookup.specs(underlying.lower(), _day(path))
    mine = [r for r in raw_rows(path) if r["TckrSymb"] == underlying]
    futures = sorted(
        (r["XpryDt"], int(r["NewBrdLotQty"])) for r in mine if r["FinInstrmTp"] in ("STF", "IDF")
    )
    assert specs.underlying == underlying and specs.session == _day(path) and specs.source == path.name
    assert specs.lot_size == futures[0][1]  # the near month's lot
    assert lookup.lot_size(underlying, _day(path)) == specs.lot_size
    assert [e.expiry.isoformat() for e in specs.expiries] == sorted({r["XpryDt"] for r in mine})
    near = specs.expiries[0]
    assert near.strikes_paise == tuple(
        sorted(
            {_paise(r["StrkPric"]) for r in mine if r["XpryDt"] == near.expiry.isoformat() and r["StrkPric"]}
        )
    )
    assert specs.strike_step_paise is not None and specs.strike_step_paise > 0
    assert all(k % specs.strike_step_paise == 0 for k in near.strikes_paise)


def test_the_latest_report_on_or_before_the_date_answers_and_a_date_before_any_is_refused() -> None:
    first, last = fo_files()[0], fo_files()[-1]
    store = _loaded(first, last)
    lookup = FoLookup(store)
    between = _day(first) + timedelta(days=1)
    assert lookup.specs("NIFTY", between).session == _day(first)
    assert lookup.specs("NIFTY", _day(last) + timedelta(days=30)).session == _day(last)
    before = _day(first) - timedelta(days=1)
    with pytest.raises(Invalid) as e:
        lookup.specs("NIFTY", before)
    assert "NIFTY" in str(e.value) and before.isoformat() in str(e.value)


def test_an_underlying_the_report_does_not_list_is_refused_naming_it_and_the_date() -> None:
    path = fo_files()[-1]
    with pytest.raises(Invalid) as e:
        FoLookup(_loaded(path)).specs("NOSUCHSTOCK", _day(path))
    msg = str(e.value)
    assert "NOSUCHSTOCK" in msg and _day(path).isoformat() in msg and "not an F&O underlying" in msg
    with pytest.raises(Invalid, match="underlying"):
        FoLookup(_loaded(path)).specs("  ", _day(path))


def test_a_revised_lot_applies_from_its_report_and_the_nearest_live_expiry_decides() -> None:
    # Given the exchange revised a lot (50 -> 75) from the second report, and listed the new lot on a far expiry
    d1, d2 = date(2025, 1, 6), date(2025, 1, 7)
    near, far = date(2025, 1, 30), date(2025, 2, 27)

    def fut(expiry: date, lot: int) -> FoContract:
        return FoContract("IDF", "NIFTY", expiry, None, None, lot, 2_300_000, 1000 * lot)

    store = MemoryFoStore()
    for day, contracts in ((d1, [fut(near, 50), fut(far, 75)]), (d2, [fut(near, 75), fut(far, 75)])):
        store.put_session(FoSession(day, frozenset(), frozenset({"NIFTY"}), 2, "x"), contracts, 0)
    lookup = FoLookup(store)
    # Then each date gets the lot of its report, for the nearest expiry still live that day
    assert lookup.lot_size("NIFTY", d1) == 50 and lookup.lot_size("NIFTY", d2) == 75
    assert lookup.specs("NIFTY", d1).expiries[1].lot_size == 75
    assert lookup.specs("NIFTY", near + timedelta(days=1)).lot_size == 75  # near expired: the far one's


def test_a_cm_day_records_its_eq_symbols_only() -> None:
    path = sorted((nse_data_dir() / "equity").glob("sec_bhavdata_full_*.csv"))[0]
    eq = MemoryEqHistory()
    one = EodLoader(MemoryCandles(), eq=eq).load_file(path)
    rows = [r.split(", ") for r in path.read_text().splitlines()[1:]]
    assert one.error is None and eq.symbols == {r[0] for r in rows if r[1] == "EQ"}
    assert eq.days == set(one.sessions)
    kept = EodLoader(MemoryCandles(), frozenset({"RELIANCE", "TCS"}), eq=(only := MemoryEqHistory()))
    kept.load_file(path)
    assert only.symbols == {"RELIANCE", "TCS"}  # the demo seed keeps some names: only those are recorded
