"""Evaluates checked IR over a whole universe at once: every node is a (time x instrument) array.

Identical sub-expressions are computed once per timeframe (``sma(volume, 20)`` used twice costs one call).
``[tf] expr`` evaluates ``expr`` on that timeframe's frame (resampled if needed) and aligns the result back to
the current timeframe without look-ahead. Comparisons with missing values (NaN: not enough history) are false.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mantra.quant.indicators._columns import BoolArray, FloatArray, shift
from mantra.quant.scanner.frame import Frame, Panel, align
from mantra.quant.scanner.types import IR, Apply, Arith, Compare, Const, Crossing, Logic, Negate, OnTf, Type

Value = Any  # FloatArray | BoolArray | float | bool


class _Ctx:
    def __init__(self, evaluator: Evaluator, frame: Frame) -> None:
        self._ev, self._frame = evaluator, frame

    @property
    def frame(self) -> Frame:
        return self._frame

    @property
    def panel(self) -> Panel:
        return self._ev.panel

    def align(self, values: Any, src: Frame) -> Any:
        return align(values, src, self._frame)


class Evaluator:
    def __init__(self, panel: Panel) -> None:
        self.panel = panel
        self.cache: dict[tuple[str, str], Value] = {}

    def run(self, ir: IR, tf: str | None = None) -> BoolArray:
        """The condition on every bar of ``tf`` (the panel's base by default), shape (T, N)."""
        frame = self.panel.frame(tf or self.panel.base)
        value = self.eval(ir, frame)
        if not isinstance(value, np.ndarray):
            return np.full(frame.shape, bool(value))
        return value

    def eval(self, node: IR, frame: Frame) -> Value:
        if isinstance(node, Const):
            return node.value
        cache_key = (frame.timeframe, node.key)
        hit = self.cache.get(cache_key)
        if hit is not None:
            return hit
        value = self._eval(node, frame)
        self.cache[cache_key] = value
        return value

    def _eval(self, node: IR, frame: Frame) -> Value:
        match node:
            case Apply():
                args = [self._arg(a, frame) for a in node.args]
                out = node.fn.kernel(_Ctx(self, frame), *args)
                return out
            case Arith():
                a, b = self.eval(node.left, frame), self.eval(node.right, frame)
                with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
                    if node.op == "+":
                        return a + b
                    if node.op == "-":
                        return a - b
                    if node.op == "*":
                        return a * b
                    return np.where(np.asarray(b) == 0, np.nan, a / np.where(np.asarray(b) == 0, 1, b))
            case Compare():
                a, b = self.eval(node.left, frame), self.eval(node.right, frame)
                with np.errstate(invalid="ignore"):
                    return _compare(node.op, a, b, frame)
            case Crossing():
                a = _as_series(self.eval(node.left, frame), frame)
                b = _as_series(self.eval(node.right, frame), frame)
                with np.errstate(invalid="ignore"):
                    if node.direction == "above":
                        return (a > b) & (shift(a, 1) <= shift(b, 1))
                    return (a < b) & (shift(a, 1) >= shift(b, 1))
            case Logic():
                a = self.eval(node.left, frame)
                b = self.eval(node.right, frame)
                return np.logical_and(a, b) if node.op == "and" else np.logical_or(a, b)
            case Negate():
                v = self.eval(node.operand, frame)
                return np.logical_not(v) if node.op == "not" else -v
            case OnTf():
                other = self.panel.frame(node.timeframe)
                v = self.eval(node.operand, other)
                if not isinstance(v, np.ndarray):
                    return v
                return align(v, other, frame)
        raise TypeError(f"cannot evaluate {node!r}")  # pragma: no cover

    def _arg(self, a: Any, frame: Frame) -> Any:
        if hasattr(a, "key") and hasattr(a, "type"):
            v = self.eval(a, frame)
            if a.type is Type.BOOL:
                return v if isinstance(v, np.ndarray) else np.full(frame.shape, bool(v))
            return _as_series(v, frame)
        return a


def _as_series(v: Value, frame: Frame) -> FloatArray:
    if isinstance(v, np.ndarray):
        return v
    return np.full(frame.shape, float(v), order="F")


def _compare(op: str, a: Value, b: Value, frame: Frame) -> BoolArray:
    if op == "<":
        r = np.less(a, b)
    elif op == "<=":
        r = np.less_equal(a, b)
    elif op == ">":
        r = np.greater(a, b)
    elif op == ">=":
        r = np.greater_equal(a, b)
    elif op == "==":
        r = np.equal(a, b)
    else:
        r = np.not_equal(a, b) & ~np.isnan(a) & ~np.isnan(b)
    if not isinstance(r, np.ndarray) or r.ndim == 0:
        return np.full(frame.shape, bool(r))
    return r
