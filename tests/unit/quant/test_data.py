"""Bad input: each case gives a clear error or a documented, tested handling."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from mantra.quant.backtest.data import Bars, DataError, infer_periods_per_year, load_csv, validate_bars
from quant_helpers import STOCK_CSV

HEADER = "Date,Open,High,Low,Close,Volume\n"


def _write(tmp_path: Path, body: str, header: str = HEADER) -> Path:
    p = tmp_path / "x.csv"
    p.write_text(header + body)
    return p


def test_sample_csv_loads_as_one_symbol_daily_bars() -> None:
    bars = load_csv(STOCK_CSV)
    assert bars.n_symbols == 1 and bars.n_bars > 400
    assert infer_periods_per_year(bars.index) == 252.0
    assert bars.warnings == ()


def test_wrong_columns_name_the_missing_ones(tmp_path: Path) -> None:
    p = _write(tmp_path, "2024-01-01,1,2,0.5,1.5\n", header="Date,Open,Hi,Lo,Close\n")
    with pytest.raises(DataError, match=r"missing column\(s\) High, Low"):
        load_csv(p)


def test_unsorted_bars_are_sorted_with_a_warning(tmp_path: Path) -> None:
    p = _write(
        tmp_path, "2024-01-03,10,11,9,10.5,100\n2024-01-01,10,11,9,10,100\n2024-01-02,10,11,9,10.2,100\n"
    )
    bars = load_csv(p)
    assert [str(d)[:10] for d in bars.index] == ["2024-01-01", "2024-01-02", "2024-01-03"]
    assert any("sorted" in w for w in bars.warnings)


def test_exact_duplicates_are_dropped_and_conflicting_duplicates_fail(tmp_path: Path) -> None:
    ok = _write(tmp_path, "2024-01-01,10,11,9,10,100\n2024-01-01,10,11,9,10,100\n2024-01-02,10,11,9,10,1\n")
    assert load_csv(ok).n_bars == 2
    bad = _write(
        tmp_path, "2024-01-01,10,11,9,10,100\n2024-01-01,10,11,9,10.4,100\n2024-01-02,10,11,9,10,1\n"
    )
    with pytest.raises(DataError, match="duplicate timestamp"):
        load_csv(bad)


def test_nan_price_fails_with_the_line_or_is_dropped_on_request(tmp_path: Path) -> None:
    p = _write(tmp_path, "2024-01-01,10,11,9,10,100\n2024-01-02,10,11,9,,100\n2024-01-03,10,11,9,10,1\n")
    with pytest.raises(DataError, match=r"x.csv:3: bad prices"):
        load_csv(p)
    bars = load_csv(p, drop_bad_rows=True)
    assert bars.n_bars == 2 and any("dropped 1" in w for w in bars.warnings)


def test_high_below_close_is_rejected(tmp_path: Path) -> None:
    p = _write(tmp_path, "2024-01-01,10,11,9,10,100\n2024-01-02,10,10.5,9,11,100\n")
    with pytest.raises(DataError, match="High/Low"):
        load_csv(p)


def test_zero_volume_is_kept_and_gaps_are_reported(tmp_path: Path) -> None:
    body = "".join(f"2024-01-{d:02d},10,11,9,10,{0 if d == 3 else 100}\n" for d in range(1, 11))
    body += "2024-03-01,10,11,9,10,100\n"
    bars = load_csv(_write(tmp_path, body))
    assert bars.n_bars == 11
    assert any("zero volume" in w for w in bars.warnings)
    assert any("gap" in w for w in bars.warnings)


def test_bad_date_and_bad_number_name_the_line(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r":3: cannot parse date"):
        load_csv(_write(tmp_path, "2024-01-01,10,11,9,10,100\n01/13/2024x,10,11,9,10,100\n"))
    with pytest.raises(DataError, match=r":2: cannot read a number"):
        load_csv(_write(tmp_path, "2024-01-01,ten,11,9,10,100\n2024-01-02,10,11,9,10,100\n"))


def test_missing_file_and_empty_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file"):
        load_csv(tmp_path / "nope.csv")
    (tmp_path / "e.csv").write_text("")
    with pytest.raises(DataError, match="empty"):
        load_csv(tmp_path / "e.csv")


def test_validate_bars_rejects_unsorted_index_and_nan() -> None:
    idx = np.array(["2024-01-02", "2024-01-01", "2024-01-03"], dtype="datetime64[s]")
    one = np.ones(3)
    with pytest.raises(DataError, match="strictly increasing"):
        validate_bars(Bars.from_arrays(idx, one, one, one, one))
    c = np.array([1.0, np.nan, 1.0])
    with pytest.raises(DataError, match="NaN"):
        validate_bars(Bars.from_arrays(None, one, one, one, c))
    assert validate_bars(Bars.from_arrays(None, one, one, one, c), drop_bad_rows=True).n_bars == 2
