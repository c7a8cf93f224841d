"""Scanner benchmark: our scans and indicators side by side with raw TA-Lib calls, in the same run.

    .venv/bin/python bench/bench_scanner.py              # all cases
    .venv/bin/python bench/bench_scanner.py --repeat 9   # more runs per case

Cases (seeded random-walk OHLCV; median and best of --repeat runs after one warm-up):
1. a 5-condition scan over 500 symbols x 2,000 daily bars, end to end (parse + type-check + evaluate + matches),
   against the same conditions written by hand as raw TA-Lib calls per column plus numpy comparisons;
2. SMA+EMA+RSI+MACD+BBANDS+ATR over 1,000,000 bars (one column) through our typed API vs raw TA-Lib;
3. the same six indicators over a 2,000 x 500 panel (1,000,000 cells) through our API (which returns (T, N)
   arrays) vs a raw per-column loop, once throwing the results away (a lower bound no caller can use) and once
   collecting them into (T, N) arrays as our API does.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np
import talib
from mantra.quant.indicators import ta
from mantra.quant.scanner import Frame, Panel, compile_scan, run_compiled

EXPR = (
    "rsi(14) < 45 and close > sma(close, 200) and volume > 1.5 * sma(volume, 20) "
    "and macd() > macd_signal() and adx(14) > 20"
)
DAY_MS = 86_400_000


def walk(t: int, n: int, seed: int = 42) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0.0003, 0.02, (t, n)), axis=0))
    open_ = np.vstack([close[:1], close[:-1]])
    high = np.maximum(open_, close) * (1 + np.abs(rng.normal(0, 0.005, (t, n))))
    low = np.minimum(open_, close) * (1 - np.abs(rng.normal(0, 0.005, (t, n))))
    volume = rng.lognormal(12, 0.6, (t, n))
    return {"open": open_, "high": high, "low": low, "close": close, "volume": volume}


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    fn()
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs), min(runs)


def raw_scan(d: dict[str, np.ndarray]) -> np.ndarray:
    """The same 5 conditions on the last bar, by hand: TA-Lib per column, numpy comparisons."""
    n = d["close"].shape[1]
    out = np.zeros(n, dtype=bool)
    for j in range(n):
        h, lo, c, v = (np.ascontiguousarray(d[k][:, j]) for k in ("high", "low", "close", "volume"))
        macd, signal, _ = talib.MACD(c)
        with np.errstate(invalid="ignore"):
            ok = (
                (talib.RSI(c, 14) < 45)
                & (c > talib.SMA(c, 200))
                & (v > 1.5 * talib.SMA(v, 20))
                & (macd > signal)
                & (talib.ADX(h, lo, c, 14) > 20)
            )
        out[j] = ok[-1]
    return out


def six_raw(h: np.ndarray, lo: np.ndarray, c: np.ndarray) -> None:
    talib.SMA(c, 20)
    talib.EMA(c, 20)
    talib.RSI(c, 14)
    talib.MACD(c)
    talib.BBANDS(c, 20, 2, 2)
    talib.ATR(h, lo, c, 14)


def six_ours(h: np.ndarray, lo: np.ndarray, c: np.ndarray) -> None:
    ta.sma(c, 20)
    ta.ema(c, 20)
    ta.rsi(c, 14)
    ta.macd(c)
    ta.bbands(c, 20, 2)
    ta.atr(h, lo, c, 14)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    rows = []

    # 1. the scan
    t, n = 2000, 500
    d = walk(t, n)
    idx = np.arange(t, dtype=np.int64) * DAY_MS + 1_500_000_000_000
    frame = Frame("1d", idx, d["open"], d["high"], d["low"], d["close"], d["volume"])
    panel = Panel(tuple(f"S{i}" for i in range(n)), {"1d": frame}, "1d")

    def ours_scan() -> object:
        return run_compiled(compile_scan(EXPR, "1d"), Panel(panel.symbols, {"1d": frame}, "1d"))

    outcome = run_compiled(compile_scan(EXPR, "1d"), panel)
    raw = raw_scan(d)
    ours_hits = {m.symbol for m in outcome.matches}
    assert ours_hits == {f"S{j}" for j in np.flatnonzero(raw)}, "scan and raw TA-Lib disagree"
    m1, b1 = timed(ours_scan, args.repeat)
    m2, b2 = timed(lambda: raw_scan(d), args.repeat)
    parse_m, _ = timed(lambda: compile_scan(EXPR, "1d"), args.repeat)
    rows.append(
        ("5-condition scan, 500 x 2,000 (parse+evaluate)", m1, b1, m2, b2, "<= 200 ms", len(ours_hits))
    )

    # 2. indicators, one long column
    one = walk(1_000_000, 1, seed=7)
    h1, l1, c1 = (np.ascontiguousarray(one[k][:, 0]) for k in ("high", "low", "close"))
    m3, b3 = timed(lambda: six_ours(h1, l1, c1), args.repeat)
    m4, b4 = timed(lambda: six_raw(h1, l1, c1), args.repeat)
    rows.append(("6 indicators, 1 x 1,000,000 bars", m3, b3, m4, b4, "<= 1.5x TA-Lib", None))

    # 3. indicators over a panel
    hp, lp, cp = (np.asfortranarray(d[k]) for k in ("high", "low", "close"))

    def raw_panel() -> None:
        for j in range(n):
            six_raw(*(np.ascontiguousarray(a[:, j]) for a in (hp, lp, cp)))

    def raw_panel_kept() -> None:
        outs: list[list[np.ndarray]] = [[] for _ in range(10)]
        for j in range(n):
            h, lo, c = (np.ascontiguousarray(a[:, j]) for a in (hp, lp, cp))
            res = [talib.SMA(c, 20), talib.EMA(c, 20), talib.RSI(c, 14), *talib.MACD(c)]
            res += [*talib.BBANDS(c, 20, 2, 2), talib.ATR(h, lo, c, 14)]
            for o, r in zip(outs, res, strict=True):
                o.append(r)
        for o in outs:
            np.column_stack(o)

    m5, b5 = timed(lambda: six_ours(hp, lp, cp), args.repeat)
    m6, b6 = timed(raw_panel, args.repeat)
    m7, b7 = timed(raw_panel_kept, args.repeat)
    rows.append(("6 indicators, 500 x 2,000, vs raw loop (discarded)", m5, b5, m6, b6, "-", None))
    rows.append(
        ("6 indicators, 500 x 2,000, vs raw loop into (T, N)", m5, b5, m7, b7, "<= 1.5x TA-Lib", None)
    )

    print(f"expression: {EXPR}")
    print(f"parse + type-check alone: {parse_m * 1e3:.2f} ms\n")
    print(f"{'case':50} {'ours median (best)':>22} {'raw TA-Lib median (best)':>26} {'ratio':>7}  target")
    for name, om, ob, rm, rb, target, hits in rows:
        extra = f"  ({hits} matches, same as raw)" if hits is not None else ""
        print(
            f"{name:50} {om * 1e3:9.1f} ms ({ob * 1e3:6.1f}) {rm * 1e3:13.1f} ms ({rb * 1e3:6.1f}) "
            f"{om / rm:6.2f}x  {target}{extra}"
        )


if __name__ == "__main__":
    main()
