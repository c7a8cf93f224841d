"""Candle aggregation compute: ticks -> (symbol, timeframe, bucket) OHLCV deltas, ours vs pandas groupby.

Ours is ``mantra.market.candle_kernel.aggregate_arrays`` (numpy, one core, no sort): whole-array and in
streaming batches of 10,000 ticks (what a Kinesis batch looks like), for 1m alone and for all of 1m, 5m, 15m, 1h,
1d. The peer is pandas ``groupby(...).agg(first, max, min, last, sum, count)`` on the same arrays, run in
``.bench-venv/`` (pandas is not a product dependency; created on first use with ``pip install pandas``) in a
subprocess. The pure-Python reference (``mantra.market.candles.aggregate``) is timed on a slice for scale.

    .venv/bin/python bench/bench_candles.py            # 2,000,000 ticks, 500 symbols
    .venv/bin/python bench/bench_candles.py --ticks 500000 --no-peer
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
from mantra.domain import Tick
from mantra.market.candle_kernel import aggregate_arrays
from mantra.market.candles import aggregate

ROOT = Path(__file__).resolve().parents[1]
BENCH_VENV = ROOT / ".bench-venv"
PEER_PIN = "pandas==3.1.1"
TFS = ("1m", "5m", "15m", "1h", "1d")
OPEN_MS = 1_795_400_100_000 - (1_795_400_100_000 - 13_500_000) % 86_400_000  # a 09:15 IST

PEER_SCRIPT = r"""
import sys, time, numpy as np, pandas as pd
d = sys.argv[1]
a = {k: np.load(f"{d}/{k}.npy") for k in ("sym", "ts", "price", "qty")}
grids = {"1m": (60_000, 13_500_000), "5m": (300_000, 13_500_000), "15m": (900_000, 13_500_000),
         "1h": (3_600_000, 13_500_000), "1d": (86_400_000, -19_800_000)}
def run(tfs):
    out = 0
    df = pd.DataFrame(a)
    for tf in tfs:
        w, anchor = grids[tf]
        df["b"] = (df.ts - anchor) // w * w + anchor
        g = df.groupby(["sym", "b"], sort=False).agg(
            open=("price", "first"), high=("price", "max"), low=("price", "min"), close=("price", "last"),
            volume=("qty", "sum"), ticks=("qty", "size"))
        out += len(g)
    return out
for tfs in (["1m"], list(grids)):
    run(tfs)
    ts = []
    for _ in range(3):
        t = time.perf_counter(); n = run(tfs); ts.append(time.perf_counter() - t)
    print(len(tfs), n, min(ts), sorted(ts)[1])
"""


def make_ticks(n: int, symbols: int, seed: int = 7) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    ts = np.sort(OPEN_MS + rng.integers(0, 375 * 60_000, n)).astype(np.int64)  # the 6h15m session
    sym = rng.integers(0, symbols, n).astype(np.int64)
    seq = np.arange(1, n + 1, dtype=np.int64)  # unique per symbol too
    price = (100_000 + rng.integers(-5_000, 5_000, n)).astype(np.int64)
    qty = rng.integers(1, 500, n).astype(np.int64)
    return {"sym": sym, "ts": ts, "seq": seq, "price": price, "qty": qty}


def timed(fn, repeat: int = 5) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    fn()
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t)
    return statistics.median(runs), min(runs)


def ours(a: dict[str, np.ndarray], tfs: tuple[str, ...], batch: int | None) -> int:
    n = len(a["ts"])
    step = batch or n
    rows = 0
    for i in range(0, n, step):
        s = slice(i, i + step)
        d = aggregate_arrays(a["sym"][s], a["ts"][s], a["seq"][s], a["price"][s], a["qty"][s], tfs)
        rows += len(d)
    return rows


def peer(a: dict[str, np.ndarray]) -> list[tuple[int, int, float, float]] | None:
    py = BENCH_VENV / "bin" / "python"
    if not py.exists() or subprocess.run([str(py), "-c", "import pandas"], capture_output=True).returncode:
        print(f"creating {BENCH_VENV} with {PEER_PIN} ...", flush=True)
        if not py.exists():
            subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", PEER_PIN], check=True)
    with tempfile.TemporaryDirectory() as d:
        for k in ("sym", "ts", "price", "qty"):
            np.save(f"{d}/{k}.npy", a[k])
        res = subprocess.run([str(py), "-c", PEER_SCRIPT, d], capture_output=True, text=True)
    if res.returncode:
        print(res.stderr[-2000:])
        return None
    out = []
    for line in res.stdout.split("\n"):
        if line.strip():
            ntf, rows, best, med = line.split()
            out.append((int(ntf), int(rows), float(med), float(best)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ticks", type=int, default=2_000_000)
    ap.add_argument("--symbols", type=int, default=500)
    ap.add_argument("--batch", type=int, default=10_000)
    ap.add_argument("--no-peer", action="store_true")
    args = ap.parse_args()
    a = make_ticks(args.ticks, args.symbols)
    n = args.ticks
    print(f"{n:,} ticks, {args.symbols} symbols, one 6h15m session, one core\n")
    print(f"{'what':<52} {'median':>9} {'best':>9} {'ticks/s (median)':>18}")

    def line(what: str, med: float, best: float) -> None:
        print(f"{what:<52} {med * 1e3:>7.0f}ms {best * 1e3:>7.0f}ms {n / med / 1e6:>15.1f} M")

    for tfs in (("1m",), TFS):
        label = "1m" if len(tfs) == 1 else "5 timeframes"
        med, best = timed(lambda tfs=tfs: ours(a, tfs, None))
        line(f"ours, numpy kernel, {label}, whole array", med, best)
        med, best = timed(lambda tfs=tfs: ours(a, tfs, args.batch))
        line(f"ours, numpy kernel, {label}, batches of {args.batch:,}", med, best)
    rng = np.random.default_rng(1)
    local = np.argsort(np.arange(n) + rng.integers(0, 2_000, n), kind="stable")  # displaced by up to ~2,000
    reordered = {k: v[local] for k, v in a.items()}
    med, best = timed(lambda: ours(reordered, TFS, args.batch))
    line(f"ours, 5 timeframes, reordered locally, batches of {args.batch:,}", med, best)
    shuffled = {k: v[rng.permutation(n)] for k, v in a.items()}
    med, best = timed(lambda: ours(shuffled, TFS, args.batch), repeat=3)
    line(f"ours, 5 timeframes, whole day shuffled, batches of {args.batch:,}", med, best)

    m = 50_000
    instrument_token = "t"  # noqa: S105 - an instrument token, not a secret
    ticks = [
        Tick(
            tick_id=str(i), seq=int(a["seq"][i]), symbol=f"S{a['sym'][i]}", token=instrument_token,
            ts_ms=int(a["ts"][i]), ltp_paise=int(a["price"][i]), last_qty=int(a["qty"][i]), volume=1,
        )
        for i in range(m)
    ]  # fmt: skip
    med, best = timed(lambda: aggregate(ticks, TFS), repeat=1)
    print(f"{'reference, pure Python, 5 timeframes (50k slice)':<52} {med * 1e3:>7.0f}ms {best * 1e3:>7.0f}ms "
          f"{m / med / 1e6:>15.2f} M")  # fmt: skip

    if not args.no_peer:
        for ntf, _rows, med, best in peer(a) or []:
            line(
                f"pandas {PEER_PIN.split('==')[1]} groupby, {'1m' if ntf == 1 else '5 timeframes'}", med, best
            )


if __name__ == "__main__":
    main()
