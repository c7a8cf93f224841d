"""Our own indicators (not TA-Lib's) against the definitions traders compare with, on real NSE daily bars.

Each reference below is a plain scalar loop written from the published definition, stated at its function, so
a difference between our vectorised kernels and what a trader sees on a chart shows up here:

* Supertrend: TradingView's ``ta.supertrend(factor, atrPeriod)`` (the Pine v5 reference script in the Pine
  manual), with ``ta.atr`` = ``ta.rma(ta.tr(true), n)``.
* VWAP: TradingView's ``ta.vwap(hlc3)`` with an anchor period (here the ISO week on daily bars).
* Pivots: TradingView's "Pivot Points Standard", type Traditional.
* Heikin-Ashi: TradingView's Heikin Ashi candles.
* z-score: the standard score against the ``n`` values before it, by the standard library's ``statistics``.
* Relative strength: the ratio-of-returns definition (Mansfield-style, as in our docs).

The gap rule (see ``mantra.quant.indicators._columns``) is checked on the real symbols that miss days.
"""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest
import talib
from mantra.quant.indicators import custom, ta
from nse_files import DailyPanel, daily_panel, symbols_with_gaps

LIQUID = ["RELIANCE", "HDFCBANK", "INFY", "TCS", "SBIN", "ITC", "TATAMOTORS", "ADANIENT", "IDEA", "YESBANK"]


@pytest.fixture(scope="module")
def panel() -> DailyPanel:
    p = daily_panel(LIQUID)
    assert np.isfinite(p.close).all(), "the liquid symbols trade every day of the sample"
    return p


@pytest.fixture(scope="module")
def gappy() -> DailyPanel:
    return daily_panel(symbols_with_gaps())


# ---- references, each a transcription of its definition -------------------------------------------------------


def pine_rma_atr(h: list[float], lo: list[float], c: list[float], n: int) -> list[float]:
    """ta.atr(n) = ta.rma(ta.tr(true), n); ta.tr(true) is high - low when close[1] is na;
    ta.rma: sum := na(sum[1]) ? ta.sma(src, n) : alpha * src + (1 - alpha) * nz(sum[1]), alpha = 1/n."""
    tr = [h[0] - lo[0]] + [
        max(h[t] - lo[t], abs(h[t] - c[t - 1]), abs(lo[t] - c[t - 1])) for t in range(1, len(c))
    ]
    out = [math.nan] * len(c)
    for t in range(len(c)):
        if t < n - 1:
            continue
        out[t] = sum(tr[t - n + 1 : t + 1]) / n if t == n - 1 else tr[t] / n + (1 - 1 / n) * out[t - 1]
    return out


def pine_supertrend(
    h: list[float], lo: list[float], c: list[float], factor: float, n: int
) -> tuple[list[float], list[int]]:
    """The Pine v5 reference ``pine_supertrend`` line by line; direction -1 is up-trend (Pine's convention)."""
    atr = pine_rma_atr(h, lo, c, n)
    st: list[float] = []
    dirs: list[int] = []
    prev_lower = prev_upper = math.nan
    for t in range(len(c)):
        src = (h[t] + lo[t]) / 2
        upper, lower = src + factor * atr[t], src - factor * atr[t]
        p_lower = 0.0 if math.isnan(prev_lower) else prev_lower  # nz(lowerBand[1])
        p_upper = 0.0 if math.isnan(prev_upper) else prev_upper
        close_1 = c[t - 1] if t else math.nan
        lower = lower if (lower > p_lower or close_1 < p_lower) else p_lower
        upper = upper if (upper < p_upper or close_1 > p_upper) else p_upper
        if t == 0 or math.isnan(atr[t - 1]):
            d = 1
        elif st[t - 1] == p_upper:
            d = -1 if c[t] > upper else 1
        else:
            d = 1 if c[t] < lower else -1
        st.append(lower if d == -1 else upper)
        dirs.append(d)
        prev_lower, prev_upper = lower, upper
    return st, dirs


def tv_vwap(
    h: list[float], lo: list[float], c: list[float], v: list[float], anchor: list[object]
) -> list[float]:
    """ta.vwap(hlc3) anchored: sum(hlc3 * volume) / sum(volume) since the anchor period began."""
    out: list[float] = []
    pv = vol = 0.0
    for t in range(len(c)):
        if t == 0 or anchor[t] != anchor[t - 1]:
            pv = vol = 0.0
        pv += (h[t] + lo[t] + c[t]) / 3 * v[t]
        vol += v[t]
        out.append(pv / vol if vol > 0 else math.nan)
    return out


def tv_pivots_traditional(ph: float, pl: float, pc: float) -> dict[str, float]:
    """Pivot Points Standard, Traditional: PP = (H + L + C) / 3, R1 = 2PP - L, S1 = 2PP - H, R2 = PP + (H - L),
    S2 = PP - (H - L), R3 = 2PP + (H - 2L), S3 = 2PP - (2H - L)."""
    pp = (ph + pl + pc) / 3
    return {
        "pivot": pp,
        "r1": pp * 2 - pl,
        "s1": pp * 2 - ph,
        "r2": pp + (ph - pl),
        "s2": pp - (ph - pl),
        "r3": pp * 2 + (ph - 2 * pl),
        "s3": pp * 2 - (2 * ph - pl),
    }


def tv_heikin_ashi(
    o: list[float], h: list[float], lo: list[float], c: list[float]
) -> tuple[list[float], list[float], list[float], list[float]]:
    """haClose = ohlc4; haOpen = na(haOpen[1]) ? (open + close) / 2 : (haOpen[1] + haClose[1]) / 2;
    haHigh = max(high, haOpen, haClose); haLow = min(low, haOpen, haClose)."""
    ho: list[float] = []
    hc = [(o[t] + h[t] + lo[t] + c[t]) / 4 for t in range(len(c))]
    for t in range(len(c)):
        ho.append((o[t] + c[t]) / 2 if t == 0 else (ho[t - 1] + hc[t - 1]) / 2)
    hh = [max(h[t], ho[t], hc[t]) for t in range(len(c))]
    hl = [min(lo[t], ho[t], hc[t]) for t in range(len(c))]
    return ho, hh, hl, hc


def assert_same(ours: np.ndarray, reference: list[float], rtol: float = 1e-9) -> None:
    ref = np.array(reference, dtype=np.float64)
    assert np.array_equal(np.isnan(ours), np.isnan(ref)), "values exist on different bars"
    np.testing.assert_allclose(ours[~np.isnan(ref)], ref[~np.isnan(ref)], rtol=rtol, atol=1e-9)


# ---- the comparisons ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "factor"), [(10, 3.0), (7, 2.0), (14, 1.5), (20, 4.0)])
def test_supertrend_is_tradingviews_on_real_bars(panel: DailyPanel, n: int, factor: float) -> None:
    line, direction = custom.supertrend(panel.high, panel.low, panel.close, n, factor)
    flips = 0
    for j, symbol in enumerate(panel.symbols):
        h, lo, c = (a[:, j].tolist() for a in (panel.high, panel.low, panel.close))
        ref_line, ref_dir = pine_supertrend(h, lo, c, factor, n)
        first = n - 1  # the first bar with an ATR; Pine's line is na before it
        np.testing.assert_allclose(line[first:, j], ref_line[first:], rtol=1e-12, err_msg=symbol)
        assert np.isnan(line[:first, j]).all()
        # Pine: -1 = up-trend; ours: +1 = up-trend
        assert direction[first:, j].tolist() == [-float(d) for d in ref_dir[first:]], symbol
        flips += int(np.count_nonzero(np.diff(direction[first:, j])))
    assert flips > len(panel.symbols), "the real sample has trend changes, so both branches were compared"


def test_pine_atr_is_ta_atr(panel: DailyPanel) -> None:
    ours = custom.pine_atr(panel.high, panel.low, panel.close, 14)
    for j in range(len(panel.symbols)):
        ref = pine_rma_atr(*(a[:, j].tolist() for a in (panel.high, panel.low, panel.close)), 14)
        assert_same(ours[:, j], ref, rtol=1e-12)


def test_vwap_is_tradingviews_anchored_vwap(panel: DailyPanel) -> None:
    week = [d.isocalendar()[:2] for d in panel.days]
    week_ids = np.array([y * 100 + w for y, w in week])
    volume = panel.volume.copy()
    volume[:3, 0] = 0.0  # a symbol that has not traded yet this week: no VWAP until it has
    ours = custom.vwap(panel.high, panel.low, panel.close, volume, week_ids)
    for j in range(len(panel.symbols)):
        h, lo, c, v = (a[:, j].tolist() for a in (panel.high, panel.low, panel.close, volume))
        assert_same(ours[:, j], tv_vwap(h, lo, c, v, week), rtol=1e-12)
    assert np.isnan(ours[:3, 0]).all() and np.isfinite(ours[3:, 0]).all()


def test_pivots_are_tradingviews_traditional(panel: DailyPanel) -> None:
    days = np.arange(len(panel.days))
    pv = custom.pivot_points(panel.high, panel.low, panel.close, days)
    assert np.isnan(pv.pivot[0]).all(), "the first day has no previous session"
    for t in range(1, len(panel.days)):
        for j in range(len(panel.symbols)):
            ref = tv_pivots_traditional(panel.high[t - 1, j], panel.low[t - 1, j], panel.close[t - 1, j])
            for name, value in ref.items():
                assert getattr(pv, name)[t, j] == pytest.approx(value, rel=1e-12), (name, t, j)
    ladder = np.stack([pv.s3, pv.s2, pv.s1, pv.pivot, pv.r1, pv.r2, pv.r3])[:, 1:]
    assert (np.diff(ladder, axis=0) > 0).all(), "S3 < S2 < S1 < PP < R1 < R2 < R3 on every real day"


def test_heikin_ashi_is_tradingviews(panel: DailyPanel) -> None:
    ha = custom.heikin_ashi(panel.open, panel.high, panel.low, panel.close)
    for j in range(len(panel.symbols)):
        ref = tv_heikin_ashi(*(a[:, j].tolist() for a in (panel.open, panel.high, panel.low, panel.close)))
        for ours, theirs in zip((ha.open, ha.high, ha.low, ha.close), ref, strict=True):
            assert_same(ours[:, j], theirs, rtol=1e-12)


def test_zscore_is_the_standard_score_of_the_prior_window(panel: DailyPanel) -> None:
    n = 20
    z = custom.zscore(panel.close, n)
    for j in range(len(panel.symbols)):
        c = panel.close[:, j].tolist()
        ref = [math.nan] * n + [
            (c[t] - statistics.fmean(c[t - n : t])) / statistics.pstdev(c[t - n : t])
            for t in range(n, len(c))
        ]
        assert_same(
            z[:, j], ref, rtol=1e-7
        )  # TA-Lib's rolling stddev sums in float; 1e-7 is far below display


def test_relative_strength_is_the_ratio_of_returns(panel: DailyPanel) -> None:
    n = 20
    bench = panel.close[:, panel.symbols.index("RELIANCE")]
    rs = custom.relative_strength(panel.close, bench, n)
    for j in range(len(panel.symbols)):
        c = panel.close[:, j]
        ref = [math.nan] * n + [
            ((c[t] / c[t - n]) / (bench[t] / bench[t - n]) - 1) * 100 for t in range(n, len(c))
        ]
        assert_same(rs[:, j], ref, rtol=1e-12)
    assert np.allclose(rs[n:, panel.symbols.index("RELIANCE")], 0.0)


# ---- the gap rule, on the real symbols that miss days ------------------------------------------------------------


def _own_bars(p: DailyPanel, j: int) -> np.ndarray:
    return np.flatnonzero(np.isfinite(p.close[:, j]))


def test_the_sample_has_real_gaps(gappy: DailyPanel) -> None:
    missing = np.isnan(gappy.close).sum(axis=0)
    assert len(gappy.symbols) >= 10 and (missing > 0).all()
    assert "ABGSEC" in gappy.symbols and missing[gappy.symbols.index("ABGSEC")] >= 3


@pytest.mark.parametrize(
    "indicator",
    [
        pytest.param(lambda p: ta.ema(p.close, 5), id="ema"),
        pytest.param(lambda p: ta.rsi(p.close, 5), id="rsi"),
        pytest.param(lambda p: ta.atr(p.high, p.low, p.close, 5), id="atr"),
        pytest.param(lambda p: custom.supertrend(p.high, p.low, p.close, 5, 3.0)[0], id="supertrend"),
        pytest.param(lambda p: custom.heikin_ashi(p.open, p.high, p.low, p.close).open, id="ha_open"),
        pytest.param(lambda p: custom.zscore(p.close, 5), id="zscore"),
    ],
)
def test_a_gap_is_skipped_and_indicators_go_on_after_it(gappy: DailyPanel, indicator) -> None:  # type: ignore[no-untyped-def]
    """Each symbol's values are those of its own bars with the missing days left out, NaN on a missing day."""
    whole = indicator(gappy)
    for j, symbol in enumerate(gappy.symbols):
        rows = _own_bars(gappy, j)
        own = DailyPanel(
            [gappy.days[r] for r in rows],
            [symbol],
            *(
                np.asfortranarray(a[rows, j : j + 1])
                for a in (gappy.open, gappy.high, gappy.low, gappy.close, gappy.volume)
            ),
        )
        np.testing.assert_array_equal(whole[rows, j], indicator(own)[:, 0], err_msg=symbol)
        assert np.isnan(np.delete(whole[:, j], rows)).all(), symbol
        assert np.isfinite(whole[-1, j]), f"{symbol} has a value on its last bar, after its gap"


def test_without_the_rule_talib_loses_a_symbol_for_good_after_one_missing_day(gappy: DailyPanel) -> None:
    """What the rule fixes: TA-Lib's EMA on the aligned column carries the NaN into every later value."""
    j = gappy.symbols.index("ABGSEC")
    column = np.ascontiguousarray(gappy.close[:, j])
    first_gap = int(np.flatnonzero(np.isnan(column[5:]))[0]) + 5
    raw = talib.EMA(column, 5)
    assert np.isnan(raw[first_gap:]).all()
    ours = ta.ema(gappy.close, 5)[:, j]
    assert np.isfinite(ours[first_gap + 1 :][np.isfinite(column[first_gap + 1 :])]).all()
