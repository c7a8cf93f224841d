"""A daily scan of the whole NSE EQ universe, end to end from the store, on the exchange's real files.

    .venv/bin/python bench/bench_universe_scan.py              # the 80 sessions in ../shared/data/nse/equity
    .venv/bin/python bench/bench_universe_scan.py --repeat 9

Starts the local stand-ins (in memory), loads the sessions with ``mantra history load`` (as a user would), then
times, in the same run, the function the API's ``POST /api/scans/run`` calls (``ScanService.execute``: load
every symbol's daily bars from DynamoDB Local + evaluate a 5-condition expression), with the clock at 11:00 IST
on the session after the last one in the files:
- **ours, first run** (every series read from the table: what a fresh API container pays once);
- **ours, after warm-up** (the container's cache holds closed sessions; today's bars are read fresh, in
  batched gets, on every run), median and best of ``--repeat``;
- **ours, uncached** (every series read from the table on every run, as before the cache);
- **pandas + TA-Lib** (the peer a trader would write): ``pandas.read_csv`` over the same files, pivot to
  (session x symbol) arrays, the same five conditions by TA-Lib per column and numpy.
The hit lists of ours and the peer are compared.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
EXPR = (
    "rsi(14) > 55 and close > sma(close, 50) and volume > 1.5 * sma(volume, 20) "
    "and macd() > macd_signal() and adx(14) > 20"
)


def peer(files: list[Path]) -> tuple[set[str], float, set[str]]:
    """The peer's hits, its seconds, and the symbols with a missing session (TA-Lib carries a NaN on)."""
    import pandas as pd
    import talib

    t0 = time.perf_counter()
    frames = []
    for f in files:
        df = pd.read_csv(f, skipinitialspace=True)
        df.columns = [c.strip() for c in df.columns]
        df = df[df["SERIES"].str.strip() == "EQ"]
        frames.append(df[["SYMBOL", "DATE1", "HIGH_PRICE", "LOW_PRICE", "CLOSE_PRICE", "TTL_TRD_QNTY"]])
    all_ = pd.concat(frames)
    all_["DATE1"] = pd.to_datetime(all_["DATE1"].str.strip(), format="%d-%b-%Y")
    wide = all_.pivot_table(index="DATE1", columns="SYMBOL", aggfunc="last").sort_index()
    h, lo, c, v = (
        wide[k].to_numpy(dtype=float) for k in ("HIGH_PRICE", "LOW_PRICE", "CLOSE_PRICE", "TTL_TRD_QNTY")
    )
    hits = set()
    gappy = {str(s).strip() for s in wide["CLOSE_PRICE"].columns[np.isnan(c).any(axis=0) & ~np.isnan(c[0])]}
    for j, sym in enumerate(wide["CLOSE_PRICE"].columns):
        cj = np.ascontiguousarray(c[:, j])
        if np.isnan(cj[-1]):
            continue
        hj, lj, vj = (np.ascontiguousarray(a[:, j]) for a in (h, lo, v))
        macd, signal, _ = talib.MACD(cj)
        with np.errstate(invalid="ignore"):
            ok = (
                (talib.RSI(cj, 14) > 55)
                & (cj > talib.SMA(cj, 50))
                & (vj > 1.5 * talib.SMA(vj, 20))
                & (macd > signal)
                & (talib.ADX(hj, lj, cj, 14) > 20)
            )
        if ok[-1]:
            hits.add(str(sym).strip())
    return hits, time.perf_counter() - t0, gappy


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    from mantra.clock import IST, ManualClock
    from mantra.devtools import bootstrap, standins
    from mantra.devtools.nse_data import nse_reports_dir
    from mantra.market.calendar import default_calendar
    from mantra.market.history import HistoryLoader
    from mantra.market.universes import Universe
    from mantra.quant.scanner import compile_scan
    from mantra.scans.service import ScanService
    from mantra.settings import Settings, get_settings
    from mantra.store import aws, tables

    folder = (nse_reports_dir(Settings()) or Path("missing")) / "equity"
    files = sorted(
        folder.glob("sec_bhavdata_full_*.csv"), key=lambda p: datetime.strptime(p.stem[-8:], "%d%m%Y")
    )
    if not files:
        sys.exit(f"no sec_bhavdata_full_*.csv files in {folder}")
    last = max(datetime.strptime(p.stem[-8:], "%d%m%Y").date() for p in files)
    symbols = sorted(
        {
            line.split(",")[0].strip()
            for line in files[-1].read_text().splitlines()[1:]
            if line.split(",")[1].strip() == "EQ"
        }
    )
    work = Path(tempfile.mkdtemp(prefix="bench-scan-"))
    ports = {
        k: standins.free_port()
        for k in ("dynamodb_port", "kinesis_port", "moto_port", "smtp_port", "stripe_port")
    }
    base = Settings(data_dir=work, standins_dir=REPO / ".standins", stage="bench", **ports)  # type: ignore[arg-type]
    os.environ.update(
        {
            **standins.endpoint_env(base),
            **standins.local_settings_env(base),
            "MANTRA_STAGE": "bench",
            **{f"MANTRA_{k.upper()}": str(v) for k, v in ports.items()},
        }
    )
    get_settings.cache_clear()
    aws.client.cache_clear()
    settings = Settings()
    print(f"starting stand-ins and loading {len(files)} sessions (a few minutes) ...", flush=True)
    procs = standins.start_all(settings, in_memory=True, log_dir=work / "logs")
    try:
        bootstrap.provision(settings)
        tables.configure(settings)
        load = subprocess.run(
            [
                sys.executable,
                "-m",
                "mantra.cli.main",
                "history",
                "load",
                str(folder),
                str(folder.parent / "corporate_actions"),
            ],
            env={**os.environ, "COLUMNS": "200"},
            capture_output=True,
            text=True,
        )
        if load.returncode not in (0, 1):
            sys.exit(load.stdout + load.stderr)

        from mantra.market.adjustments import AdjustedCandles, FactorBook
        from mantra.store.corporate_action_repository import DynamoCorporateActions
        from mantra.store.history_repository import DynamoHistoryLoads
        from mantra.store.repositories import DynamoCandleRepository

        cal = default_calendar()
        day = last + timedelta(days=1)
        while not cal.is_trading_day(day):
            day += timedelta(days=1)
        now = int(datetime.combine(day, datetime.min.time().replace(hour=11), tzinfo=IST).timestamp() * 1000)
        clock = ManualClock(now)
        # what the container wires: reads adjusted for corporate actions on the way out
        book = FactorBook(DynamoCorporateActions(), DynamoHistoryLoads())
        candles = AdjustedCandles(DynamoCandleRepository(), book, clock)
        uni = Universe("nse_eq", tuple(symbols))
        compiled = compile_scan(EXPR, "1d")

        def service(loader: HistoryLoader) -> ScanService:
            return ScanService(None, None, None, None, loader, clock)  # type: ignore[arg-type]

        cached = service(HistoryLoader(candles, DynamoHistoryLoads(), clock))
        uncached = service(HistoryLoader(candles))

        def run(svc: ScanService) -> tuple[float, set[str]]:
            t0 = time.perf_counter()
            out = svc.execute(compiled, uni, now, limit=10_000)
            return time.perf_counter() - t0, {h.symbol for h in out.hits}

        first, hits = run(cached)
        warm = [run(cached)[0] for _ in range(args.repeat)]
        cold = [run(uncached)[0]]
        peer_hits, peer_s, gappy = peer(files)
    finally:
        standins.stop_all(procs)
    print(f"{len(symbols)} EQ symbols, {len(files)} sessions, scan at {day.isoformat()} 11:00 IST: {EXPR}")
    print(f"{'case':<58} {'seconds':>9}")
    print(f"{'ours: first run (every series read from the table)':<58} {first:>9.3f}")
    print(f"{'ours: after warm-up, median (best)':<58} {statistics.median(warm):>9.3f} ({min(warm):.3f})")
    print(f"{'ours: uncached (every series read again), once':<58} {statistics.median(cold):>9.3f}")
    print(f"{'pandas.read_csv + TA-Lib per column (peer, from the files)':<58} {peer_s:>9.3f}")
    print(f"hits: ours {len(hits)}, peer {len(peer_hits)}, in both {len(hits & peer_hits)}")
    for name, only in (("ours", hits - peer_hits), ("the peer's", peer_hits - hits)):
        for sym in sorted(only):
            why = "a missing session: our gap rule skips it, TA-Lib's NaN lasts" if sym in gappy else "?"
            print(f"  only {name}: {sym} ({why})")


if __name__ == "__main__":
    main()
