"""The scanner language: lexer, Pratt parser, type checker, vectorised evaluator, cost model and presets.

from mantra.quant.scanner import compile_scan, run_compiled
compiled = compile_scan("rsi(14) < 30 and close > sma(close, 200)", "1d")
outcome = run_compiled(compiled, panel)   # panel: frame.Panel of (time x instrument) arrays
"""

from mantra.quant.scanner.checker import Checked
from mantra.quant.scanner.engine import Match, ScanOutcome, compile_scan, enforce_budget, run_compiled, scan
from mantra.quant.scanner.errors import (
    ScanDataError,
    ScannerError,
    ScanSyntaxError,
    ScanTooExpensive,
    ScanTypeError,
)
from mantra.quant.scanner.frame import Frame, Panel

__all__ = [
    "Checked",
    "Frame",
    "Match",
    "Panel",
    "ScanDataError",
    "ScanOutcome",
    "ScanSyntaxError",
    "ScanTooExpensive",
    "ScanTypeError",
    "ScannerError",
    "compile_scan",
    "enforce_budget",
    "run_compiled",
    "scan",
]
