"""The event API: a strategy with state writes ``init`` (once) and ``next`` (on every bar's close).

It runs on the same simulator as signal arrays (``engine.simulate``).  A strategy sees bars up to now only,
by construction, not by convention:

* ``self.data.close`` (``open``, ``high``, ``low``, ``volume``; ``self.symbol(j)`` for other symbols) is a
  read-only array that ends at the current bar.  It is a view of a buffer filled as the clock advances, so
  not even its ``base`` holds a later bar.
* ``self.data.close_full`` (``open_full``, ...) is not an array: it is a handle that only ``self.I`` accepts.
  ``self.I(fn, handle, ...)`` computes an indicator once on the whole series and proves it causal: ``fn`` is
  run again on the series cut at two bars and must give the same values up to each cut (a centred window, a
  full-sample normalisation or a shifted series raise ``LookAheadError``).
* Series made with ``self.I`` refuse to be read past the current bar, and their slices and ``values`` are
  copies of the past only.
* The strategy holds no ``Bars``: ``self.symbols``, ``self.t``, positions, cash and equity are what it can
  ask about.

::

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
and a trailing fraction; without a quantity the backtest's ``Sizing`` applies.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, SupportsIndex, overload

import numpy as np

from mantra.quant.backtest.data import Bars, FloatArray
from mantra.quant.backtest.engine import BacktestConfig, BacktestError, Book, Order, SimResult, simulate


class LookAheadError(IndexError):
    """A strategy read (or an indicator used) a value from a bar after the current one."""


class _Clock:
    """The current bar, shared by a strategy and everything it reads through."""

    __slots__ = ("t",)

    def __init__(self) -> None:
        self.t = -1


class _Past:
    """A column revealed as the clock advances: ``view()`` is ``full[: t + 1]`` read from a buffer that has
    been filled only up to ``t`` (later cells are NaN), so no view of it reaches a later bar.  Views are
    read-only."""

    __slots__ = ("_clock", "_filled", "_full", "_last", "_n", "_raw", "_ro")

    def __init__(self, full: FloatArray, clock: _Clock) -> None:
        self._full = full
        self._clock = clock
        self._raw = np.full(full.shape[0], np.nan)
        self._ro = self._raw.view()
        self._ro.flags.writeable = False
        self._filled = 0
        self._n = -1
        self._last = self._ro[:0]

    def view(self) -> FloatArray:
        n = self._clock.t + 1
        if n == self._n:
            return self._last
        f = self._filled
        if n > f:
            if n == f + 1:
                self._raw[f] = self._full[f]
            else:
                self._raw[f:n] = self._full[f:n]
            self._filled = n
        v = self._last = self._ro[:n]
        self._n = n
        return v


class Series:
    """A 1-D array seen from the strategy's clock: ``s[-1]`` is the current bar, ``s[-2]`` the one before."""

    __slots__ = ("_arr", "_clock", "_past")

    def __init__(self, arr: FloatArray, clock: _Clock) -> None:
        self._arr = arr
        self._clock = clock
        self._past = _Past(arr, clock)

    @overload
    def __getitem__(self, k: SupportsIndex) -> float: ...

    @overload
    def __getitem__(self, k: slice) -> FloatArray: ...

    def __getitem__(self, k: SupportsIndex | slice) -> float | FloatArray:
        t = self._clock.t
        if isinstance(k, slice):
            return self._past.view()[k]
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
        return self._past.view()


class FullSeries:
    """A whole column, for causal indicators computed once in ``init``: pass it to ``Strategy.I``.  It holds
    no readable values (indexing or converting it raises ``LookAheadError``)."""

    __slots__ = ("_arr", "_name")

    def __init__(self, arr: FloatArray, name: str) -> None:
        self._arr = arr
        self._name = name

    def _refuse(self) -> LookAheadError:
        return LookAheadError(
            f"{self._name} is the whole series, future bars included: pass it to self.I(fn, ...) "
            f"for an indicator, or read self.data.{self._name.removesuffix('_full')} (bars up to now)"
        )

    def __getitem__(self, k: object) -> float:
        raise self._refuse()

    def __array__(self, dtype: object = None, copy: object = None) -> FloatArray:
        raise self._refuse()

    def __len__(self) -> int:
        raise self._refuse()

    def __iter__(self) -> Any:
        raise self._refuse()

    def __repr__(self) -> str:
        return f"<{self._name}: whole series, readable only through Strategy.I>"


_FIELDS = ("open", "high", "low", "close", "volume")


class _Data:
    """One symbol's bars up to now."""

    __slots__ = ("_c", "_full", "_h", "_l", "_o", "_v")

    def __init__(self, bars: Bars, clock: _Clock, j: int) -> None:
        cols = {f: np.ascontiguousarray(getattr(bars, f)[:, j]) for f in _FIELDS}
        self._o, self._h, self._l, self._c, self._v = (_Past(cols[f], clock) for f in _FIELDS)
        self._full = {f: FullSeries(a, f + "_full") for f, a in cols.items()}

    @property
    def open(self) -> FloatArray:
        return self._o.view()

    @property
    def high(self) -> FloatArray:
        return self._h.view()

    @property
    def low(self) -> FloatArray:
        return self._l.view()

    @property
    def close(self) -> FloatArray:
        return self._c.view()

    @property
    def volume(self) -> FloatArray:
        return self._v.view()

    @property
    def close_full(self) -> FullSeries:
        """The whole close series, only for ``Strategy.I`` (causal indicators computed once in ``init``)."""
        return self._full["close"]

    @property
    def high_full(self) -> FullSeries:
        return self._full["high"]

    @property
    def low_full(self) -> FullSeries:
        return self._full["low"]

    @property
    def open_full(self) -> FullSeries:
        return self._full["open"]

    @property
    def volume_full(self) -> FullSeries:
        return self._full["volume"]


def _unwrap(a: Any, cut: int | None) -> Any:
    if isinstance(a, FullSeries):
        return a._arr if cut is None else a._arr[:cut].copy()
    return a


def _same_prefix(full: FloatArray, part: FloatArray) -> bool:
    a = full[: part.shape[0]]
    if a.shape != part.shape:
        return False
    scale = float(np.nanmax(np.abs(a))) if np.isfinite(a).any() else 1.0
    return bool(np.allclose(a, part, rtol=1e-9, atol=1e-12 * max(scale, 1.0), equal_nan=True))


class Strategy:
    """Subclass it; class attributes are parameters (overridable by ``params``)."""

    fill_at_close: ClassVar[bool] = False

    def __init__(self, bars: Bars, book: Book, params: Mapping[str, Any] | None = None) -> None:
        self._clock = _Clock()
        self._bars_ = bars
        self._book = book
        self._datas: dict[int, _Data] = {}
        self.symbols: tuple[str, ...] = tuple(bars.symbols)
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
        self.data = self.symbol(0)

    @property
    def t(self) -> int:
        """The current bar (its index); ``next`` decides on its close."""
        return self._clock.t

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
        """An indicator ``fn(*args, **kwargs)`` over the whole series (``args`` may be ``self.data.*_full``
        handles), checked causal: computed again on the series cut at two bars, its values up to each cut
        must not change (else ``LookAheadError``).  ``fn`` must be deterministic."""
        n_bars = self._bars_.n_bars
        name = getattr(fn, "__name__", repr(fn))

        def call(cut: int | None) -> FloatArray:
            a = [_unwrap(x, cut) for x in args]
            kw = {k: _unwrap(v, cut) for k, v in kwargs.items()}
            return np.asarray(fn(*a, **kw), dtype=np.float64)

        out = call(None)
        if out.ndim != 1 or out.shape[0] != n_bars:
            raise BacktestError(f"indicator {name} returned {out.shape[0] if out.ndim else 0} values")
        if any(isinstance(x, FullSeries) for x in (*args, *kwargs.values())):
            for cut in sorted({max(n_bars // 2, 1), max(n_bars - 1, 1)}):
                if cut >= n_bars:
                    continue
                if not _same_prefix(out, call(cut)):
                    raise LookAheadError(
                        f"indicator {name} looks ahead: its values before bar {cut} change when the bars "
                        "from there on are removed"
                    )
        return Series(out, self._clock)

    def symbol(self, name_or_index: str | int) -> _Data:
        j = self.symbols.index(name_or_index) if isinstance(name_or_index, str) else int(name_or_index)
        if not 0 <= j < len(self.symbols):
            raise BacktestError(f"no symbol {name_or_index!r}; the strategy trades {', '.join(self.symbols)}")
        d = self._datas.get(j)
        if d is None:
            d = self._datas[j] = _Data(self._bars_, self._clock, j)
        return d

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
        st._clock.t = t
        st._orders = []
        st.next()
        return st._orders

    book, (eq, cash, pos, trades) = simulate(bars, decide, cfg, None, on_bar=on_bar)
    return SimResult(bars, cfg, eq.reshape(-1, 1), cash.reshape(-1, 1), pos, trades, len(book.log_bar))
