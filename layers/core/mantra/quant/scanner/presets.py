"""Built-in scanners: what traders look for every morning, written in the scanner language.

Every preset compiles, runs on its timeframe, and fits the Starter plan's cost budget (tested).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Preset(BaseModel):
    model_config = ConfigDict(frozen=True)

    preset_id: str = Field(examples=["breakout_20d_volume"])
    name: str = Field(examples=["20-day breakout on volume"])
    category: str = Field(examples=["breakouts"])
    description: str
    expression: str = Field(examples=["breakout(20) and volume > 1.5 * sma(volume, 20)"])
    timeframe: str = Field("1d", examples=["1d"])


def _p(preset_id: str, name: str, category: str, description: str, expression: str, tf: str = "1d") -> Preset:
    return Preset(
        preset_id=preset_id,
        name=name,
        category=category,
        description=description,
        expression=expression,
        timeframe=tf,
    )


PRESETS: tuple[Preset, ...] = (
    _p(
        "breakout_20d_volume",
        "20-day breakout on volume",
        "breakouts",
        "Close above the highest high of the previous 20 sessions, on 1.5x average volume.",
        "breakout(20) and volume > 1.5 * sma(volume, 20)",
    ),
    _p(
        "breakdown_20d_volume",
        "20-day breakdown on volume",
        "breakouts",
        "Close below the lowest low of the previous 20 sessions, on 1.5x average volume.",
        "breakdown(20) and volume > 1.5 * sma(volume, 20)",
    ),
    _p(
        "new_52w_high",
        "New 52-week high",
        "breakouts",
        "Trading above the previous 52-week high with above-average volume.",
        "new_52w_high() and volume > sma(volume, 20)",
    ),
    _p(
        "new_52w_low",
        "New 52-week low",
        "breakouts",
        "Trading below the previous 52-week low.",
        "new_52w_low()",
    ),
    _p(
        "bollinger_breakout",
        "Bollinger band breakout",
        "breakouts",
        "Close crosses above the upper Bollinger band (20, 2).",
        "close crosses above bb_upper(close, 20, 2)",
    ),
    _p(
        "bollinger_squeeze",
        "Bollinger squeeze",
        "volatility",
        "Band width within 5% of its 120-session low: volatility is coiled.",
        "bb_width(close, 20, 2) < 1.05 * lowest(bb_width(close, 20, 2), 120)",
    ),
    _p(
        "nr7_inside_bar",
        "NR7 inside bar",
        "volatility",
        "The narrowest range of 7 sessions, inside the previous bar: a breakout often follows.",
        "nr7() and inside_bar()",
    ),
    _p(
        "oversold_bounce",
        "Oversold bounce in an uptrend",
        "reversals",
        "RSI(14) climbs back above 30 while price holds above the 200-day average.",
        "rsi(14) crosses above 30 and close > sma(close, 200)",
    ),
    _p(
        "overbought_turn",
        "Overbought turning down",
        "reversals",
        "RSI(14) falls back below 70.",
        "rsi(14) crosses below 70",
    ),
    _p(
        "bullish_engulfing_support",
        "Bullish engulfing at support",
        "candlesticks",
        "A bullish engulfing candle within 2% of the latest swing low.",
        'pattern("bullish_engulfing") and near_support(pct=2)',
    ),
    _p(
        "hammer_support",
        "Hammer at support",
        "candlesticks",
        "A hammer within 2% of the latest swing low, after a fall (RSI below 45).",
        'pattern("hammer") and near_support(pct=2) and rsi(14) < 45',
    ),
    _p(
        "morning_star",
        "Morning star",
        "candlesticks",
        "A morning star (or morning doji star) reversal after weakness.",
        '(pattern("morning_star") or pattern("morning_doji_star")) and rsi(14) < 50',
    ),
    _p(
        "bearish_engulfing_resistance",
        "Bearish engulfing at resistance",
        "candlesticks",
        "A bearish engulfing candle within 2% of the latest swing high.",
        'pattern("bearish_engulfing") and near_resistance(pct=2)',
    ),
    _p(
        "volume_shockers",
        "Volume shockers",
        "activity",
        "Volume three times its 20-day average with a move of more than 2%.",
        "volume_spike(3, 20) and abs(change_pct(1d)) > 2",
    ),
    _p(
        "unusual_volume",
        "Unusual volume",
        "activity",
        "Volume 3 standard deviations above its last 20 sessions.",
        "unusual_volume(z=3, n=20)",
    ),
    _p(
        "gap_up_volume",
        "Gap up on volume",
        "gaps",
        "The day's low is more than 1% above yesterday's high, on above-average volume.",
        "gap_up(1) and volume > sma(volume, 20)",
    ),
    _p(
        "gap_down", "Gap down", "gaps", "The day's high is more than 1% below yesterday's low.", "gap_down(1)"
    ),
    _p(
        "golden_cross",
        "Golden cross",
        "trend",
        "The 50-day average crosses above the 200-day average.",
        "golden_cross(50, 200)",
    ),
    _p(
        "death_cross",
        "Death cross",
        "trend",
        "The 50-day average crosses below the 200-day average.",
        "death_cross(50, 200)",
    ),
    _p(
        "strong_uptrend",
        "Strong uptrend",
        "trend",
        "ADX-based trend strength above 25 with price above a rising EMA stack (50 over 200).",
        "trend_strength(14) > 25 and close > ema(close, 50) and ema(close, 50) > ema(close, 200)",
    ),
    _p(
        "macd_bullish_cross",
        "MACD bullish crossover below zero",
        "momentum",
        "The MACD line crosses above its signal line while still below zero.",
        "macd() crosses above macd_signal() and macd() < 0",
    ),
    _p(
        "supertrend_buy",
        "Supertrend turns up",
        "trend",
        "Supertrend (10, 3) flips to an uptrend.",
        "supertrend_dir(10, 3) crosses above 0",
    ),
    _p(
        "supertrend_sell",
        "Supertrend turns down",
        "trend",
        "Supertrend (10, 3) flips to a downtrend.",
        "supertrend_dir(10, 3) crosses below 0",
    ),
    _p(
        "double_bottom",
        "Double bottom breakout",
        "chart patterns",
        "Two similar lows within 60 sessions, confirmed by a close above the peak between them.",
        "double_bottom(60, 2)",
    ),
    _p(
        "double_top",
        "Double top breakdown",
        "chart patterns",
        "Two similar highs within 60 sessions, confirmed by a close below the dip between them.",
        "double_top(60, 2)",
    ),
    _p(
        "outperformers",
        "Outperforming NIFTY",
        "relative strength",
        "Beating the NIFTY 50 over 55 sessions and by more than 5% over the last 21.",
        "rs(55) > 0 and rs(21) > 5",
    ),
    _p(
        "vwap_reclaim",
        "VWAP reclaim (15 min)",
        "intraday",
        "Price crosses back above the session VWAP on above-average volume.",
        "close crosses above vwap() and volume > sma(volume, 20)",
        "15m",
    ),
    _p(
        "ema_cross_15m",
        "15-minute EMA 9/21 cross above VWAP",
        "intraday",
        "On 5-minute bars: the 15-minute EMA(9) crosses above EMA(21) while price is above VWAP.",
        "[15m] ema(close, 9) crosses above [15m] ema(close, 21) and close > vwap()",
        "5m",
    ),
    _p(
        "pivot_r1_breakout",
        "Pivot R1 breakout (15 min)",
        "intraday",
        "Price crosses above the day's R1 floor pivot.",
        "close crosses above r1()",
        "15m",
    ),
)

BY_ID: dict[str, Preset] = {p.preset_id: p for p in PRESETS}
