"""Backtest benchmark: SMA(10/20) cross, ours vs backtesting.py, side by side in one run.

    .venv/bin/python bench/bench_backtest.py            # both cases, ours + backtesting.py
    .venv/bin/python bench/bench_backtest.py --no-peer  # ours only
    .venv/bin/python bench/bench_backtest.py --peer-symbols 50   # time backtesting.py on 50 symbols, scale
    x10

backtesting.py (AGPL) is never imported here: it runs in its own virtual environment ``.bench-venv/``
(git-ignored), which this script creates on first use (``python -m venv`` + ``pip install
backtesting==0.6.6``),
in a subprocess that reads the same price arrays from .npy files.

What is timed (after one warm-up run, median of --repeat runs):
* ours: the library's ``sma_cross`` signal function (TA-Lib SMAs, cross detection) + ``run_signals`` (the
  simulation: fills, cash, equity curve, trade list) in one call over the whole (T, N) panel; the metrics
  column adds ``metrics_of`` (the portfolio) and ``per_symbol_metrics`` (every column);
* backtesting.py: ``Backtest(df, SmaCross).run()`` per symbol (it has no multi-symbol mode), which includes
  its
  own indicator computation and statistics.
Settings for both: long only, buy on the cross above, close on the cross below, next-open fills, whole shares,
all-in, cash 1,000,000, commission 0 (with a commission, tens of thousands of round trips ruin the account and
both engines stop trading, which would measure nothing).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from mantra.quant.backtest import BacktestConfig, Bars, FractionalCommission, run_signals
from mantra.quant.backtest.api import metrics_of, per_symbol_metrics
from mantra.quant.strategies.library import sma_cross

ROOT = Path(__file__).resolve().parents[1]
BENCH_VENV = ROOT / ".bench-venv"
PEER_PIN = "backtesting==0.6.6"
CASH = 1_000_000.0

PEER_SCRIPT = r"""
import json, sys, time, warnings
import numpy as np, pandas as pd
from backtesting import Backtest, Strategy
from backtesting.lib import crossover
warnings.filterwarnings("ignore")

def SMA(x, n):
    return pd.Series(x).rolling(n).mean().to_numpy()

class SmaCross(Strategy):
    n1 = 10
    n2 = 20
    def init(self):
        self.f = self.I(SMA, self.data.Close, self.n1)
        self.s = self.I(SMA, self.data.Close, self.n2)
    def next(self):
        if crossover(self.f, self.s):
            if not self.position:
                self.buy()
        elif crossover(self.s, self.f):
            self.position.close()

def frame(o, h, l, c):
    idx = pd.date_range("2000-01-03", periods=len(c), freq="min")
    return pd.DataFrame({"Open": o, "High": h, "Low": l, "Close": c, "Volume": np.ones(len(c))}, index=idx)

d = sys.argv[1]
ncols = int(sys.argv[2])
o, h, l, c = (np.load(f"{d}/{k}.npy") for k in ("o", "h", "l", "c"))
# warm-up on a small slice
Backtest(frame(o[:500, 0], h[:500, 0], l[:500, 0], c[:500, 0]), SmaCross, cash=%(cash)r).run()
t0 = time.perf_counter()
trades = 0
for j in range(ncols):
    st = Backtest(frame(o[:, j], h[:, j], l[:, j], c[:, j]), SmaCross, cash=%(cash)r, commission=0.0).run()
    trades += int(st["# Trades"])
print(json.dumps({"seconds": time.perf_counter() - t0, "trades": trades, "columns": ncols}))
""".replace("%(cash)r", repr(CASH))


def make_bars(t: int, n: int, seed: int) -> Bars:
    """Random-walk OHLC: per-bar vol 0.1 % for 1e6 bars, 1 % for daily-like panels; positive, consistent."""
    rng = np.random.default_rng(seed)
    vol = 0.001 if t > 100_000 else 0.01
    c = 100 * np.exp(np.cumsum(rng.normal(0, vol, (t, n)), axis=0))
    o = np.vstack([c[:1], c[:-1]]) * np.exp(rng.normal(0, vol / 5, (t, n)))
    h = np.maximum(o, c) * (1 + np.abs(rng.normal(0, vol / 2, (t, n))))
    lo = np.minimum(o, c) * (1 - np.abs(rng.normal(0, vol / 2, (t, n))))
    return Bars.from_arrays(None, o, h, lo, c, np.ones((t, n)))


def time_ours(bars: Bars, repeat: int) -> dict[str, float]:
    cfg = BacktestConfig(cash=CASH, costs=FractionalCommission(0.0), shared_cash=False, periods_per_year=252)
    params = {"fast": 10, "slow": 20}

    def once() -> tuple[float, float, int]:
        t0 = time.perf_counter()
        sim = run_signals(bars, sma_cross(bars, params), cfg)
        t1 = time.perf_counter()
        metrics_of(sim)
        per_symbol_metrics(sim)
        return t1 - t0, time.perf_counter() - t0, int(sim.trades.n)

    once()  # warm-up
    runs = [once() for _ in range(repeat)]
    return {
        "best": min(r[0] for r in runs),
        "seconds": statistics.median(r[0] for r in runs),
        "seconds_with_metrics": statistics.median(r[1] for r in runs),
        "trades": runs[0][2],
    }


def ensure_peer_venv() -> Path:
    py = BENCH_VENV / "bin" / "python"
    ok = py.exists() and (
        subprocess.run([str(py), "-c", "import backtesting"], capture_output=True).returncode == 0
    )
    if not ok:
        print(f"creating {BENCH_VENV} with {PEER_PIN} (first run only) ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", PEER_PIN], check=True)
    return py


def time_peer(bars: Bars, ncols: int) -> dict[str, float]:
    py = ensure_peer_venv()
    with tempfile.TemporaryDirectory() as d:
        for k, a in (("o", bars.open), ("h", bars.high), ("l", bars.low), ("c", bars.close)):
            np.save(f"{d}/{k}.npy", np.ascontiguousarray(a[:, :ncols]))
        out = subprocess.run([str(py), "-c", PEER_SCRIPT, d, str(ncols)], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"backtesting.py run failed:\n{out.stderr[-2000:]}")
    res: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--no-peer", action="store_true", help="skip backtesting.py")
    ap.add_argument(
        "--peer-symbols", type=int, default=500, help="symbols backtesting.py runs (scaled to 500)"
    )
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    cases = [
        ("1 symbol x 1,000,000 bars", 1_000_000, 1, 0.250, 6.4),
        ("500 symbols x 2,000 bars", 2_000, 500, 0.300, 11.6),
    ]
    print(
        f"SMA(10/20) cross, long only, next-open fills, cash {CASH:,.0f}; median (and best) of {args.repeat}"
    )
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average before the run: {load} on {os.cpu_count()} cores")
    head = f"{'case':28} {'ours':>9} {'best':>7} {'+metrics':>9} {'target':>8}"
    head += f" {'backtesting.py':>16} {'speed-up':>9}"
    print(f"{head}  trades ours/peer")
    for label, t, n, target, _ref in cases:
        bars = make_bars(t, n, args.seed)
        ours = time_ours(bars, args.repeat)
        peer_txt, ratio, trades_peer = "-", "-", "-"
        if not args.no_peer:
            cols = min(n, args.peer_symbols)
            peer = time_peer(bars, cols)
            secs = peer["seconds"] * n / cols
            peer_txt = f"{secs:.2f} s" + ("" if cols == n else f" ({cols}->{n})")
            ratio = f"{secs / ours['seconds']:.0f}x"
            trades_peer = f"{int(peer['trades'] * n / cols)}" + ("" if cols == n else "*")
        ok = "ok" if ours["seconds"] <= target else "SLOW"
        print(
            f"{label:28} {ours['seconds'] * 1e3:7.0f}ms {ours['best'] * 1e3:5.0f}ms "
            f"{ours['seconds_with_metrics'] * 1e3:7.0f}ms "
            f"{target * 1e3:6.0f}ms {peer_txt:>16} {ratio:>9}  {ours['trades']}/{trades_peer}  {ok}"
        )


if __name__ == "__main__":
    main()
