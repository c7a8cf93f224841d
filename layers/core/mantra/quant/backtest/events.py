"""The event API: a strategy with state writes ``init`` (once) and ``next`` (on every bar's close).

It runs on the same simulator as signal arrays (``engine.simulate``); ``next`` sees data up to the current bar
only - ``self.data.close`` is a view that ends at the current bar, and series made with ``self.I`` refuse to
be
read past it - so look-ahead is impossible by construction::

    class SmaCross(Strategy):
        fast = 10
        slow = 20

        def init(self) -> None:
            self.f = self.I(talib.SMA, self.data.close_full, self.fast)
            self.s = self.I(talib.SMA, self.data.close_full, self.slow)

        def next(self) -> None:
            if self.f[-2] < self.s[-2] and self.f[-1] > self.s[-1]:
                self.buy()
            elif self.f[-2] > self.s[-2] and self.f[-1] < self.s[-1]:
                self.close()

Orders placed in ``next`` fill at the next bar's open (or this bar's close when the class sets
``fill_at_close = True``).  ``buy``/``sell`` take an optional quantity and bracket levels (absolute prices)
and a
trailing fraction; without a quantity the backtest's ``Sizing`` applies.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, SupportsIndex, overload

import numpy as np

from mantra.quant.backtest.data import Bars, FloatArray
from mantra.quant.backtest.engine import BacktestConfig, BacktestError, Book, Order, SimResult, simulate


class LookAheadError(IndexError):
    """A strategy read a value from a bar after the current one."""


class Series:
    """A 1-D array seen from the strategy's clock: ``s[-1]`` is the current bar, ``s[-2]`` the one before."""

    __slots__ = ("_arr", "_clock")

    def __init__(self, arr: FloatArray, clock: Strategy) -> None:
        self._arr = arr
        self._clock = clock

    @overload
    def __getitem__(self, k: SupportsIndex) -> float: ...

    @overload
    def __getitem__(self, k: slice) -> FloatArray: ...

    def __getitem__(self, k: SupportsIndex | slice) -> float | FloatArray:
        t = self._clock.t
        if isinstance(k, slice):
            return self._arr[: t + 1][k]
        i = int(k)
        if i < 0:
            i = t + 1 + i
            if i < 0:
                raise IndexError("before the first bar")
        elif i > t:
            raise LookAheadError(f"bar {i} is in the future (now at bar {t})")
        return float(self._arr[i])

    def __len__(self) -> int:
        return self._clock.t + 1

    @property
    def values(self) -> FloatArray:
        return self._arr[: self._clock.t + 1]


class _Data:
    def __init__(self, bars: Bars, clock: Strategy, j: int) -> None:
        self._bars = bars
        self._clock = clock
        self._j = j

    def _cut(self, a: FloatArray) -> FloatArray:
        return a[: self._clock.t + 1, self._j]

    @property
    def open(self) -> FloatArray:
        return self._cut(self._bars.open)

    @property
    def high(self) -> FloatArray:
        return self._cut(self._bars.high)

    @property
    def low(self) -> FloatArray:
        return self._cut(self._bars.low)

    @property
    def close(self) -> FloatArray:
        return self._cut(self._bars.close)

    @property
    def volume(self) -> FloatArray:
        return self._cut(self._bars.volume)

    @property
    def close_full(self) -> FloatArray:
        """The whole close series, for causal indicators computed once in ``init`` (wrap them in ``I``)."""
        return self._bars.close[:, self._j]

    @property
    def high_full(self) -> FloatArray:
        return self._bars.high[:, self._j]

    @property
    def low_full(self) -> FloatArray:
        return self._bars.low[:, self._j]

    @property
    def open_full(self) -> FloatArray:
        return self._bars.open[:, self._j]


class Strategy:
    """Subclass it; class attributes are parameters (overridable by ``params``)."""

    fill_at_close: ClassVar[bool] = False

    def __init__(self, bars: Bars, book: Book, params: Mapping[str, Any] | None = None) -> None:
        self.bars = bars
        self.t = 0
        self._book = book
        self._orders: list[Order] = []
        names = self.param_names()
        for k, v in (params or {}).items():
            if k not in names:
                close = difflib.get_close_matches(k, names, n=1, cutoff=0.5)
                hint = f"; did you mean {close[0]}?" if close else ""
                raise BacktestError(f"{type(self).__name__} has no parameter {k!r}{hint}")
            default = getattr(type(self), k)
            if isinstance(default, int | float) and not isinstance(default, bool):
                try:
                    v = type(default)(v)
                except (TypeError, ValueError):
                    raise BacktestError(
                        f"parameter {k} must be {type(default).__name__}, got {v!r}"
                    ) from None
            setattr(self, k, v)
        self.data = _Data(bars, self, 0)

    @classmethod
    def param_names(cls) -> list[str]:
        """Parameters are the public class attributes that are plain values (not methods or properties)."""
        out: list[str] = []
        for klass in cls.__mro__:
            if klass is Strategy or klass is object:
                continue
            for k, v in vars(klass).items():
                if not k.startswith("_") and isinstance(v, int | float | str | bool) and k not in out:
                    out.append(k)
        return out

    # --- to override
    def init(self) -> None:
        """Compute indicators once (causal functions of the full arrays, wrapped in ``self.I``)."""

    def next(self) -> None:
        """Decide on the close of bar ``self.t``."""

    # --- helpers
    def I(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Series:  # noqa: N802, E743 - the usual name
        out = np.asarray(fn(*args, **kwargs), dtype=np.float64)
        if out.shape[0] != self.bars.n_bars:
            raise BacktestError(f"indicator {getattr(fn, '__name__', fn)} returned {out.shape[0]} values")
        return Series(out, self)

    def symbol(self, name_or_index: str | int) -> _Data:
        j = self.bars.symbols.index(name_or_index) if isinstance(name_or_index, str) else int(name_or_index)
        return _Data(self.bars, self, j)

    def position(self, symbol: int = 0) -> float:
        return self._book.position(symbol)

    @property
    def equity(self) -> float:
        return self._book.equity(self.t)

    @property
    def cash(self) -> float:
        return self._book.cash

    def buy(
        self,
        qty: float | None = None,
        *,
        sl: float | None = None,
        tp: float | None = None,
        trail: float | None = None,
        symbol: int = 0,
    ) -> None:
        self._orders.append(Order(symbol, 1, qty, sl=sl, tp=tp, trail=trail))

    def sell(
        self,
        qty: float | None = None,
        *,
        sl: float | None = None,
        tp: float | None = None,
        trail: float | None = None,
        symbol: int = 0,
    ) -> None:
        """Go short (closing a long first)."""
        self._orders.append(Order(symbol, -1, qty, sl=sl, tp=tp, trail=trail))

    def close(self, symbol: int = 0) -> None:
        self._orders.append(Order(symbol, 0))


def run_strategy(
    bars: Bars,
    cls: type[Strategy],
    cfg: BacktestConfig,
    params: Mapping[str, Any] | None = None,
    on_bar: Callable[[int], None] | None = None,
) -> SimResult:
    """Run an event strategy on the general simulator (one shared cash balance)."""
    if cls.fill_at_close and cfg.fill != "close":
        from dataclasses import replace

        cfg = replace(cfg, fill="close")
    holder: dict[str, Strategy] = {}

    def decide(t: int, book: Book) -> list[Order]:
        st = holder.get("s")
        if st is None:
            st = cls(bars, book, params)
            st.init()
            holder["s"] = st
        st.t = t
        st._orders = []
        st.next()
        return st._orders

    book, (eq, cash, pos, trades) = simulate(bars, decide, cfg, None, on_bar=on_bar)
    return SimResult(bars, cfg, eq.reshape(-1, 1), cash.reshape(-1, 1), pos, trades, len(book.log_bar))
