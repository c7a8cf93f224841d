"""Every TA-Lib candlestick pattern (all 61 ``CDL*`` functions), named for humans.

Two-sided patterns (engulfing, harami, ...) answer to their plain name (either direction) and to
``bullish_<name>`` / ``bearish_<name>``. Names are case- and separator-insensitive: "Bullish Engulfing",
"bullish-engulfing" and "bullish_engulfing" are the same pattern.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Literal

import numpy as np
import talib
from numpy.typing import ArrayLike

from mantra.quant.indicators._columns import BoolArray, apply

Direction = Literal["bullish", "bearish", "any"]

# (TA-Lib function, human name, which signs it produces: bull | bear | both | neutral)
_TABLE: tuple[tuple[str, str, str], ...] = (
    ("CDL2CROWS", "two_crows", "bear"),
    ("CDL3BLACKCROWS", "three_black_crows", "bear"),
    ("CDL3INSIDE", "three_inside", "both"),
    ("CDL3LINESTRIKE", "three_line_strike", "both"),
    ("CDL3OUTSIDE", "three_outside", "both"),
    ("CDL3STARSINSOUTH", "three_stars_in_the_south", "bull"),
    ("CDL3WHITESOLDIERS", "three_white_soldiers", "bull"),
    ("CDLABANDONEDBABY", "abandoned_baby", "both"),
    ("CDLADVANCEBLOCK", "advance_block", "bear"),
    ("CDLBELTHOLD", "belt_hold", "both"),
    ("CDLBREAKAWAY", "breakaway", "both"),
    ("CDLCLOSINGMARUBOZU", "closing_marubozu", "both"),
    ("CDLCONCEALBABYSWALL", "concealing_baby_swallow", "bull"),
    ("CDLCOUNTERATTACK", "counterattack", "both"),
    ("CDLDARKCLOUDCOVER", "dark_cloud_cover", "bear"),
    ("CDLDOJI", "doji", "neutral"),
    ("CDLDOJISTAR", "doji_star", "both"),
    ("CDLDRAGONFLYDOJI", "dragonfly_doji", "neutral"),
    ("CDLENGULFING", "engulfing", "both"),
    ("CDLEVENINGDOJISTAR", "evening_doji_star", "bear"),
    ("CDLEVENINGSTAR", "evening_star", "bear"),
    ("CDLGAPSIDESIDEWHITE", "side_by_side_white_lines", "both"),
    ("CDLGRAVESTONEDOJI", "gravestone_doji", "neutral"),
    ("CDLHAMMER", "hammer", "bull"),
    ("CDLHANGINGMAN", "hanging_man", "bear"),
    ("CDLHARAMI", "harami", "both"),
    ("CDLHARAMICROSS", "harami_cross", "both"),
    ("CDLHIGHWAVE", "high_wave", "neutral"),
    ("CDLHIKKAKE", "hikkake", "both"),
    ("CDLHIKKAKEMOD", "modified_hikkake", "both"),
    ("CDLHOMINGPIGEON", "homing_pigeon", "bull"),
    ("CDLIDENTICAL3CROWS", "identical_three_crows", "bear"),
    ("CDLINNECK", "in_neck", "bear"),
    ("CDLINVERTEDHAMMER", "inverted_hammer", "bull"),
    ("CDLKICKING", "kicking", "both"),
    ("CDLKICKINGBYLENGTH", "kicking_by_length", "both"),
    ("CDLLADDERBOTTOM", "ladder_bottom", "bull"),
    ("CDLLONGLEGGEDDOJI", "long_legged_doji", "neutral"),
    ("CDLLONGLINE", "long_line", "both"),
    ("CDLMARUBOZU", "marubozu", "both"),
    ("CDLMATCHINGLOW", "matching_low", "bull"),
    ("CDLMATHOLD", "mat_hold", "bull"),
    ("CDLMORNINGDOJISTAR", "morning_doji_star", "bull"),
    ("CDLMORNINGSTAR", "morning_star", "bull"),
    ("CDLONNECK", "on_neck", "bear"),
    ("CDLPIERCING", "piercing_line", "bull"),
    ("CDLRICKSHAWMAN", "rickshaw_man", "neutral"),
    ("CDLRISEFALL3METHODS", "three_methods", "both"),
    ("CDLSEPARATINGLINES", "separating_lines", "both"),
    ("CDLSHOOTINGSTAR", "shooting_star", "bear"),
    ("CDLSHORTLINE", "short_line", "both"),
    ("CDLSPINNINGTOP", "spinning_top", "both"),
    ("CDLSTALLEDPATTERN", "stalled_pattern", "bear"),
    ("CDLSTICKSANDWICH", "stick_sandwich", "bull"),
    ("CDLTAKURI", "takuri", "bull"),
    ("CDLTASUKIGAP", "tasuki_gap", "both"),
    ("CDLTHRUSTING", "thrusting", "bear"),
    ("CDLTRISTAR", "tristar", "both"),
    ("CDLUNIQUE3RIVER", "unique_three_river", "bull"),
    ("CDLUPSIDEGAP2CROWS", "upside_gap_two_crows", "bear"),
    ("CDLXSIDEGAP3METHODS", "gap_three_methods", "both"),
)

# Names traders use for one side of a two-sided pattern, in place of bullish_/bearish_ + name.
_SIDE_NAMES = {
    ("three_inside", "bullish"): "three_inside_up",
    ("three_inside", "bearish"): "three_inside_down",
    ("three_outside", "bullish"): "three_outside_up",
    ("three_outside", "bearish"): "three_outside_down",
    ("three_methods", "bullish"): "rising_three_methods",
    ("three_methods", "bearish"): "falling_three_methods",
    ("gap_three_methods", "bullish"): "upside_gap_three_methods",
    ("gap_three_methods", "bearish"): "downside_gap_three_methods",
    ("tasuki_gap", "bullish"): "upside_tasuki_gap",
    ("tasuki_gap", "bearish"): "downside_tasuki_gap",
}


@dataclass(frozen=True)
class CandlePattern:
    name: str
    title: str
    function: str
    direction: Direction

    def detect(self, open_: ArrayLike, high: ArrayLike, low: ArrayLike, close: ArrayLike) -> BoolArray:
        raw = apply(getattr(talib, self.function), (open_, high, low, close))
        if self.direction == "bullish":
            return np.asarray(raw > 0)
        if self.direction == "bearish":
            return np.asarray(raw < 0)
        return np.asarray(raw != 0)


def _build() -> dict[str, CandlePattern]:
    out: dict[str, CandlePattern] = {}

    def add(name: str, fn: str, direction: Direction) -> None:
        out[name] = CandlePattern(name, name.replace("_", " ").title(), fn, direction)

    for fn, name, kind in _TABLE:
        if kind == "both":
            add(name, fn, "any")
            for side in ("bullish", "bearish"):
                add(_SIDE_NAMES.get((name, side), f"{side}_{name}"), fn, side)
        else:
            add(name, fn, {"bull": "bullish", "bear": "bearish"}.get(kind, "any"))  # type: ignore[arg-type]
    return out


PATTERNS: dict[str, CandlePattern] = _build()


def normalize(name: str) -> str:
    return "_".join(name.strip().lower().replace("-", " ").replace("_", " ").split())


def lookup(name: str) -> CandlePattern | None:
    return PATTERNS.get(normalize(name))


def suggest(name: str, n: int = 3) -> list[str]:
    return difflib.get_close_matches(normalize(name), list(PATTERNS), n=n, cutoff=0.5)


def detect(name: str, open_: ArrayLike, high: ArrayLike, low: ArrayLike, close: ArrayLike) -> BoolArray:
    pattern = lookup(name)
    if pattern is None:
        hint = suggest(name)
        raise KeyError(
            f"unknown candlestick pattern {name!r}" + (f"; did you mean {hint[0]!r}?" if hint else "")
        )
    return pattern.detect(open_, high, low, close)
