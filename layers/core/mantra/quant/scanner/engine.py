"""Compile (parse + type-check + cost) and run scans: the scanner's public entry points."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from mantra.market.timeframes import TIMEFRAMES_MS
from mantra.quant.indicators._columns import BoolArray
from mantra.quant.scanner.checker import Checked, check
from mantra.quant.scanner.errors import ScanSyntaxError, ScanTooExpensive
from mantra.quant.scanner.evaluator import Evaluator
from mantra.quant.scanner.frame import Panel
from mantra.quant.scanner.parser import parse


def compile_scan(source: str, timeframe: str = "1d") -> Checked:
    """Parse and type-check ``source`` for a scan read on ``timeframe`` bars."""
    if timeframe not in TIMEFRAMES_MS:
        raise ScanSyntaxError(
            f"unknown timeframe {timeframe!r}; use one of {', '.join(TIMEFRAMES_MS)}", 1, 1, source
        )
    return check(parse(source), source, timeframe)


def enforce_budget(compiled: Checked, budget: int, plan_name: str) -> None:
    if compiled.cost > budget:
        raise ScanTooExpensive(compiled.cost, budget, plan_name)


@dataclass(frozen=True)
class Match:
    symbol: str
    close_paise: int
    change_pct: Decimal | None
    volume: int


@dataclass(frozen=True)
class ScanOutcome:
    """The answer on the panel's last base bar: matching symbols, best movers first."""

    matches: tuple[Match, ...]
    scanned: int
    bar_ms: int
    mask: BoolArray  # (T, N) on the base timeframe, for callers that want history


def run_compiled(compiled: Checked, panel: Panel) -> ScanOutcome:
    mask = Evaluator(panel).run(compiled.ir, compiled.base)
    frame = panel.frame(compiled.base)
    if frame.shape[0] == 0:
        return ScanOutcome((), len(panel.symbols), 0, mask)
    last = mask[-1]
    close = frame.close[-1]
    prev = frame.close[-2] if frame.shape[0] > 1 else np.full_like(close, np.nan)
    out = []
    for j in np.flatnonzero(last).tolist():
        c = close[j]
        if not np.isfinite(c):
            continue
        paise = round(float(c) * 100)
        p = prev[j]
        change = None
        if np.isfinite(p) and p > 0:
            prev_paise = round(float(p) * 100)
            # unrounded (28 significant digits): rounding is for display
            change = Decimal(paise - prev_paise) * 100 / Decimal(prev_paise)
        vol = frame.volume[-1, j]
        out.append(
            Match(
                symbol=panel.symbols[j],
                close_paise=paise,
                change_pct=change,
                volume=int(vol) if np.isfinite(vol) else 0,
            )
        )
    out.sort(key=lambda m: (-(m.change_pct if m.change_pct is not None else Decimal(-(10**9))), m.symbol))
    return ScanOutcome(tuple(out), len(panel.symbols), int(frame.index_ms[-1]), mask)


def scan(source: str, panel: Panel) -> ScanOutcome:
    """Compile ``source`` for the panel's base timeframe and run it."""
    return run_compiled(compile_scan(source, panel.base), panel)
