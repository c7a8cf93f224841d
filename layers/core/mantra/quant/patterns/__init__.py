"""Candlestick patterns (every TA-Lib CDL, named for humans) and chart/activity patterns."""

from mantra.quant.patterns import candlesticks, chart

__all__ = ["candlesticks", "chart"]
