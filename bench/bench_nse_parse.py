"""NSE daily reports: parse every sample file, ours vs pandas.read_csv of the same files, whole run.

Ours is ``mantra.market.nse.parse_full_bhavcopy`` (csv module, every value checked and converted: prices to
integer paise, turnover to exact ``Decimal`` rupees, dates, ``-`` delivery to None, bad rows reported). The
peer is ``pandas.read_csv(path, skipinitialspace=True)`` with its default type inference (floats, no checks).
Both read the files from disk in the same invocation; each whole run is repeated, median and best printed.
The second case is the 10 F&O UDiFF zips (``parse_udiff_fo`` vs ``read_csv`` of the zip).

    .venv/bin/python bench/bench_nse_parse.py            # 80 equity + 10 F&O files, 5 runs each
    .venv/bin/python bench/bench_nse_parse.py --runs 3 --no-fo
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pandas as pd
from mantra.market.nse import parse_full_bhavcopy, parse_udiff_fo


def nse_data_dir() -> Path:
    """``MANTRA_NSE_DATA_DIR``, else the first ``shared/data/nse`` beside this checkout or a parent."""
    if named := os.environ.get("MANTRA_NSE_DATA_DIR"):
        return Path(named)
    for parent in Path(__file__).resolve().parents:
        if (candidate := parent / "shared" / "data" / "nse").is_dir():
            return candidate
    sys.exit("no shared/data/nse beside the repository; set MANTRA_NSE_DATA_DIR")


def timed(fn: Callable[[], int], runs: int) -> tuple[float, float, int]:
    fn()  # warm-up: imports, page cache
    times, rows = [], 0
    for _ in range(runs):
        t0 = time.perf_counter()
        rows = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times), rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--no-fo", action="store_true", help="skip the F&O case")
    args = ap.parse_args()
    data = nse_data_dir()
    equity = sorted(
        (data / "equity").glob("sec_bhavdata_full_*.csv"),
        key=lambda p: datetime.strptime(p.stem.rsplit("_", 1)[1], "%d%m%Y"),
    )
    fo = sorted((data / "fo").glob("BhavCopy_NSE_FO_*.csv.zip"))

    def ours_equity() -> int:
        total = 0
        for p in equity:
            result = parse_full_bhavcopy(p)
            if result.problems:
                sys.exit(f"unexpected problems in {p}: {result.problems[:3]}")
            total += len(result.rows)
        return total

    def pandas_equity() -> int:
        return sum(len(pd.read_csv(p, skipinitialspace=True)) for p in equity)

    def ours_fo() -> int:
        return sum(len(parse_udiff_fo(p).rows) for p in fo)

    def pandas_fo() -> int:
        return sum(len(pd.read_csv(p, compression="zip")) for p in fo)

    cases = [(f"{len(equity)} full-bhavcopy files", ours_equity, pandas_equity)]
    if not args.no_fo:
        cases.append((f"{len(fo)} F&O UDiFF zips", ours_fo, pandas_fo))
    print(f"pandas {pd.__version__}, {args.runs} runs each, median (best)")
    print("| files | rows | ours | pandas.read_csv | ours per file | ours / pandas |")
    print("|---|---|---|---|---|---|")
    for label, ours, peer in cases:
        o_med, o_best, o_rows = timed(ours, args.runs)
        p_med, p_best, p_rows = timed(peer, args.runs)
        if o_rows != p_rows:
            sys.exit(f"{label}: ours read {o_rows:,} rows, pandas {p_rows:,}")
        n = len(equity) if label.endswith("bhavcopy files") else len(fo)
        print(
            f"| {label} | {o_rows:,} | {o_med * 1000:,.0f} ms ({o_best * 1000:,.0f}) "
            f"| {p_med * 1000:,.0f} ms ({p_best * 1000:,.0f}) | {o_med / n * 1000:.1f} ms "
            f"| {o_med / p_med:.2f}x |"
        )
    day = equity[0]
    one = [timed(lambda: len(parse_full_bhavcopy(day).rows), 1)[0] for _ in range(20)]
    peer = [timed(lambda: len(pd.read_csv(day, skipinitialspace=True)), 1)[0] for _ in range(20)]
    print(
        f"one day ({day.name}, {len(parse_full_bhavcopy(day).rows):,} rows), best of 20: "
        f"ours {min(one) * 1000:.1f} ms, pandas.read_csv {min(peer) * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
