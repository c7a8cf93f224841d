"""Indicators over (time x instrument) arrays: TA-Lib behind a typed API (``ta``) plus our own (``custom``)."""

from mantra.quant.indicators import custom, ta
from mantra.quant.indicators._columns import apply, ffill, shift

__all__ = ["apply", "custom", "ffill", "shift", "ta"]
