"""Corporate-action factors stored as data and applied on read (mantra.market.adjustments), on the real
equity samples: the stored 1d candles stay as traded, reads through ``AdjustedCandles`` are adjusted for the
actions known by the read's end date, and agree with ``nse.adjust`` on the same rows to the paisa."""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path

import pytest
from mantra.clock import ist_from_ms
from mantra.domain import Candle
from mantra.market.adjustments import (
    AdjustedCandles,
    Factor,
    FactorBook,
    exchange_symbol,
    factors_of,
    schedule_of,
)
from mantra.market.eod import EodLoader, session_start_ms
from mantra.market.nse import adjust, parse_actions_history, parse_full_bhavcopy
from mantra.market.nse.purpose import RightsTerms
from market_fakes import MemoryFactors
from nse_builders import REAL_ACTIONS, equity_files, history_csv
from nse_files import MemoryCandles, nse_data_dir
from timebase import NOW_MS, clock

SYMBOLS = frozenset({"SHRIRAMFIN", "IGL", "KAMDHENU", "SENCO", "SIEMENS", "INFY", "SHRIRAMFIN-BE"})


class Version:
    def __init__(self) -> None:
        self.n = 0

    def current(self) -> int:
        return self.n


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> tuple[MemoryCandles, MemoryFactors, list[Path]]:
    """The 80 real sessions of a few symbols, and the exchange's history download of their real actions."""
    folder = tmp_path_factory.mktemp("ca")
    (folder / "CF-CA-equities.csv").write_bytes(history_csv(REAL_ACTIONS))
    candles, factors = MemoryCandles(), MemoryFactors()
    report = EodLoader(candles, SYMBOLS, factors=factors).load([*equity_files(), folder])
    assert report.failed == []
    return candles, factors, equity_files()


def _reader(candles: MemoryCandles, factors: MemoryFactors) -> AdjustedCandles:
    return AdjustedCandles(candles, FactorBook(factors), clock())


def _end(day: date) -> int:
    return session_start_ms(day) + 86_399_000


def test_loading_the_download_stores_one_factor_per_price_action_and_the_candles_as_traded(
    stored: tuple[MemoryCandles, MemoryFactors, list[Path]],
) -> None:
    candles, factors, files = stored
    assert {(f.symbol, f.ex_date, f.ratio) for f in factors.items.values()} == {
        ("SHRIRAMFIN", date(2025, 1, 10), Fraction(5)),
        ("IGL", date(2025, 1, 31), Fraction(2)),
        ("KAMDHENU", date(2025, 1, 8), Fraction(10)),
        ("SENCO", date(2025, 1, 31), Fraction(2)),
    }  # SIEMENS's demerger does not move the share count: no factor
    first = parse_full_bhavcopy(files[0]).rows
    raw = next(b for b in first if b.symbol == "SHRIRAMFIN" and b.series == "EQ")
    assert (
        candles.items[("SHRIRAMFIN", "1d", session_start_ms(raw.trade_date))].close_paise == raw.close_paise
    )


def test_reads_are_adjusted_exactly_as_nse_adjust_does_on_the_same_rows(
    stored: tuple[MemoryCandles, MemoryFactors, list[Path]],
) -> None:
    candles, factors, files = stored
    rows = [b for p in files for b in parse_full_bhavcopy(p).rows if b.symbol in SYMBOLS and b.series == "EQ"]
    reference = adjust(rows, parse_actions_history(history_csv(REAL_ACTIONS)).rows).rows
    reader = _reader(candles, factors)
    for symbol in ("SHRIRAMFIN", "IGL", "KAMDHENU", "SENCO", "INFY"):
        got = reader.latest(symbol, "1d", NOW_MS, 1000)
        want = sorted((b for b in reference if b.symbol == symbol), key=lambda b: b.trade_date)
        assert len(got) == len(want) == 80
        assert [c.close_paise for c in got] == [b.close_paise for b in want], symbol
        assert [c.open_paise for c in got] == [b.open_paise for b in want], symbol
        assert [c.volume for c in got] == [b.volume for b in want], symbol
    # the split no longer reads as an 80 % crash
    s = reader.latest("SHRIRAMFIN", "1d", NOW_MS, 1000)
    ex = next(i for i, c in enumerate(s) if ist_from_ms(c.start_ms).date() == date(2025, 1, 10))
    assert 0.8 < s[ex].close_paise / s[ex - 1].close_paise < 1.25


def test_a_read_ending_before_an_ex_date_is_as_traded_no_look_ahead(
    stored: tuple[MemoryCandles, MemoryFactors, list[Path]],
) -> None:
    candles, factors, _ = stored
    reader = _reader(candles, factors)
    before = reader.latest("SHRIRAMFIN", "1d", _end(date(2025, 1, 9)), 5)
    assert before == candles.latest("SHRIRAMFIN", "1d", _end(date(2025, 1, 9)), 5)
    assert reader.actions("SHRIRAMFIN", _end(date(2025, 1, 9))) == []
    on = reader.latest("SHRIRAMFIN", "1d", _end(date(2025, 1, 10)), 5)
    assert [c.close_paise for c in on[:-1]] == [
        round(Fraction(c.close_paise, 5))
        for c in candles.latest("SHRIRAMFIN", "1d", _end(date(2025, 1, 9)), 4)
    ]
    assert on[-1] == candles.latest("SHRIRAMFIN", "1d", _end(date(2025, 1, 10)), 1)[0]  # the ex-date bar
    assert [f.purpose for f in reader.actions("SHRIRAMFIN", NOW_MS)] == [REAL_ACTIONS[0][2]]


def test_other_series_of_a_symbol_are_adjusted_and_hyphenated_symbols_are_not_cut() -> None:
    assert exchange_symbol("SHRIRAMFIN-BE") == "SHRIRAMFIN"
    assert exchange_symbol("BAJAJ-AUTO") == "BAJAJ-AUTO"
    assert exchange_symbol("BAJAJ-AUTO-BE") == "BAJAJ-AUTO"


def test_schedules_compound_later_actions_and_until_forgets_them() -> None:
    f = [
        Factor("X", date(2025, 1, 10), Fraction(5), "SPLIT 10 TO 2", "t"),
        Factor("X", date(2025, 3, 3), Fraction(3, 2), "BON 1:2", "t"),
    ]
    s = schedule_of(f)
    assert s.factor(date(2025, 1, 9)) == Fraction(15, 2)
    assert s.factor(date(2025, 1, 10)) == Fraction(3, 2)  # on the ex-date: only the later one
    assert s.factor(date(2025, 3, 3)) == 1
    assert s.until(date(2025, 2, 1)).factor(date(2025, 1, 9)) == 5
    assert s.until(date(2024, 12, 31)).ex_dates == ()


def _bar(tf: str, start: int, ohlc: tuple[int, int, int, int], volume: int) -> Candle:
    o, h, lo, c = ohlc
    return Candle(
        symbol="X",
        timeframe=tf,
        start_ms=start,
        open_paise=o,
        high_paise=h,
        low_paise=lo,
        close_paise=c,
        volume=volume,
        ticks=0,
        first_tick_ms=start,
        last_tick_ms=start,
        source="nse_eod" if tf == "1d" else "live",
    )


def test_half_a_paisa_rounds_to_even() -> None:
    bar = _bar("1d", session_start_ms(date(2025, 1, 9)), (12345, 12347, 12343, 12341), 7)
    factors = MemoryFactors()
    factors.put_many([Factor("X", date(2025, 1, 10), Fraction(2), "BONUS 1:1", "t")], 0)
    (out,) = _reader(MemoryCandles([bar]), factors).latest("X", "1d", NOW_MS, 1)
    assert (out.open_paise, out.high_paise, out.low_paise, out.close_paise, out.volume) == (
        6172,  # 6172.5
        6174,  # 6173.5
        6172,  # 6171.5
        6170,  # 6170.5
        14,
    )


def test_a_rights_factor_uses_the_stored_close_before_the_ex_date_and_the_face_value(
    stored: tuple[MemoryCandles, MemoryFactors, list[Path]],
) -> None:
    candles, _, files = stored
    days = sorted(parse_full_bhavcopy(p).rows[0].trade_date for p in files)
    ex = days[30]
    text = "RIGHTS 1:5 @ PREMIUM RS 90/-"  # a hypothetical issue on real prices
    with_fv = parse_actions_history(
        history_csv([("IGL", "Indraprastha Gas Limited", text, "2", ex.strftime("%d-%b-%Y"))])
    ).rows
    cum = candles.items[("IGL", "1d", session_start_ms(days[29]))].close_paise

    def cum_close(symbol: str, ex_date: date) -> int | None:
        found = candles.get_many([(symbol, "1d", session_start_ms(days[days.index(ex_date) - 1]))])
        return next(iter(found.values())).close_paise if found else None

    (factor,), unapplied = factors_of(with_fv, cum_close)
    assert unapplied == [] and factor.ratio == RightsTerms(1, 5, 90_00).factor(cum, 2_00)
    # without a stored close before the ex-date, or without the face value: reported, not guessed
    none, why = factors_of(with_fv, lambda s, d: None)
    assert none == [] and "close of the session before" in why[0].reason


def test_an_unreadable_or_unappliable_action_is_a_problem_naming_file_and_line(tmp_path: Path) -> None:
    bc = sorted((nse_data_dir() / "corporate_actions").glob("bc*.csv"))
    report = EodLoader(MemoryCandles(), factors=MemoryFactors()).load(bc)
    assert {f.kind for f in report.files} == {"corporate_actions_bc"}
    rights = [p for p in report.problems if p.symbol == "KRISHIVAL"]
    assert rights and all(p.column == "PURPOSE" and "face value" in p.message for p in rights)
    assert rights[0].source.endswith(".csv") and rights[0].line > 1
    assert sum(f.factors for f in report.files) >= 3  # LALPATHLAB's bonus, NUVAMA's and KMEW's splits


def test_the_factor_book_reads_the_table_again_only_when_history_moves() -> None:
    factors, version = MemoryFactors(), Version()
    factors.put_many([Factor("X", date(2025, 1, 10), Fraction(2), "BONUS 1:1", "t")], 0)
    book = FactorBook(factors, version, recheck_s=0)
    assert book.schedule("X") is not None and book.schedule("X-BE") is not None
    assert book.schedule("Y") is None
    reads = factors.reads
    factors.put_many([Factor("Y", date(2025, 1, 10), Fraction(2), "BONUS 1:1", "t")], 0)
    assert book.schedule("Y") is None and factors.reads == reads  # same version: no read
    version.n += 1
    assert book.schedule("Y") is not None and factors.reads == reads + 1


def test_intraday_bars_before_an_ex_date_are_adjusted_alike() -> None:
    day = date(2025, 1, 9)
    start = session_start_ms(day) + 15 * 60_000
    bars = [_bar("5m", start + i * 300_000, (1000, 1010, 990, 1000), 10) for i in range(3)]
    factors = MemoryFactors()
    factors.put_many([Factor("X", day + timedelta(days=1), Fraction(10), "FV SPLIT 10 TO 1", "t")], 0)
    out = _reader(MemoryCandles(bars), factors).range("X", "5m", 0, NOW_MS, 10)
    assert [(c.close_paise, c.volume) for c in out] == [(100, 100)] * 3
