"""The simulator: one cash balance, positions per symbol, fills, costs, intrabar exits.

Semantics (the contract the tests pin down)
-------------------------------------------
* **Decisions are taken on a bar's close.**  A decision on bar ``t`` fills at bar ``t+1``'s open
  (``fill="next_open"``, the default).  A strategy that declares it may fill on the same bar's close
  (``fill="close"``).  A decision on the last bar with ``next_open`` has no bar to fill on and is dropped.
* **Signals** (``Signals``): per bar and symbol, ``entries`` & ``exits`` for longs, ``short_entries`` &
  ``short_exits`` for shorts.  An entry and an exit of the same side on the same bar cancel out; a long and a
  short entry on the same bar cancel out.  Flat + long entry -> buy; long + exit -> sell; long + short entry
  ->
  sell, then sell short (reversal), and the mirror for shorts.  An entry while already in that direction is
  ignored (one position per symbol, no pyramiding).
* **Fill order inside a bar**: pending exits, then pending entries (symbol order), then intrabar exits.
* **Sizing** (``Sizing``), computed at fill time with the fill price (no look-ahead: the order is "buy as much
  as X allows" and the fill price is the one the order gets):
  ``all_in``: the largest whole quantity (multiple of the lot size) with ``qty*price + charges <= value x
  buying power`` (value = 1.0 by default); ``percent_equity``: same with ``value x equity`` (capped by buying
  power); ``quantity``: ``value`` units (cut to what buying power allows); ``risk``: ``value x equity /
  (stop distance)`` units, stop distance = entry x sl fraction (a stop is required); ``vol_target``:
  ``value / realised annual vol x equity`` in notional, vol from the ``vol_window`` close-to-close log
  returns up
  to the decision bar.  Buying power = equity - gross exposure of other positions (1x, cash-covered shorts).
  With ``Sizing(fractional=True)`` quantities are not rounded (crypto-style); otherwise whole units.
  A quantity of 0 (cannot afford one lot) means no trade.
* **Intrabar exits** (stop-loss ``sl``, take-profit ``tp``, trailing stop ``trail``; ``sl`` + ``tp`` =
  bracket),
  as fractions of the entry fill price, or absolute levels from the event API.  They are live from the bar of
  the entry fill (for next-open fills the whole bar follows the fill) and checked on each bar's high/low.
  The **conservative rule**: if the bar opens beyond a level, the fill is at the open (a gap); if the stop
  and the
  target are both inside one bar's range the stop is taken first (worst case); the trailing level used in a
  bar is
  computed from extremes of *earlier* bars (the current bar's high cannot raise the stop before its low is
  tested).  Stop and market fills pay slippage; a take-profit (a limit order) does not.
* **Costs** are charged on every fill from cash; equity = cash + sum(qty x close).  A position still open
  after the
  last bar is marked at the last close without exit costs and listed as an open trade
  (``exit_reason="open"``);
  trade statistics use closed trades only.

Implementation: a sparse event loop over bars where something is decided (every bar for the event API; only
bars with a signal for signal arrays), with intrabar exits scanned with numpy between decisions.  Signals
without intrabar exits or shorts on independent columns take a fast kernel (`_fast_long_only`) that the tests
check against the general loop to 1e-9.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from mantra.quant.backtest.costs import NO_SLIPPAGE, CostModel, FractionalCommission, Slippage
from mantra.quant.backtest.data import Bars, FloatArray

BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]
Fill = Literal["next_open", "close"]
SizingMode = Literal["all_in", "percent_equity", "quantity", "risk", "vol_target"]
REASONS = ("signal", "sl", "tp", "trail", "open")


class BacktestError(ValueError):
    """A backtest that cannot run as configured; the message says why."""


@dataclass(frozen=True)
class Sizing:
    mode: SizingMode = "all_in"
    value: float = 1.0
    vol_window: int = 20
    fractional: bool = False

    def __post_init__(self) -> None:
        if self.mode not in ("all_in", "percent_equity", "quantity", "risk", "vol_target"):
            raise BacktestError(f"unknown sizing mode {self.mode!r}")
        if not (self.value > 0 and math.isfinite(self.value)):
            raise BacktestError("sizing value must be > 0")
        if self.mode in ("all_in", "percent_equity") and self.value > 1.0:
            raise BacktestError(f"{self.mode} takes a fraction <= 1 (1.0 = 100%), got {self.value}")


@dataclass(frozen=True)
class Exits:
    """Intrabar exits as fractions of the entry fill price: 0.05 = 5 % away."""

    sl: float | None = None
    tp: float | None = None
    trail: float | None = None

    def __post_init__(self) -> None:
        for name in ("sl", "tp", "trail"):
            v = getattr(self, name)
            if v is not None and not 0 < v < 1:
                raise BacktestError(f"{name} must be a fraction in (0, 1), got {v}")

    @property
    def any(self) -> bool:
        return self.sl is not None or self.tp is not None or self.trail is not None


@dataclass(frozen=True)
class BacktestConfig:
    cash: float = 100_000.0
    fill: Fill = "next_open"
    costs: CostModel = field(default_factory=FractionalCommission)
    slippage: Slippage = NO_SLIPPAGE
    sizing: Sizing = field(default_factory=Sizing)
    exits: Exits = field(default_factory=Exits)
    lot_size: int | tuple[int, ...] = 1
    shared_cash: bool = True
    risk_free: float = 0.0
    periods_per_year: float | None = None

    def __post_init__(self) -> None:
        if not (self.cash > 0 and math.isfinite(self.cash)):
            raise BacktestError(f"cash must be > 0, got {self.cash}")
        if self.fill not in ("next_open", "close"):
            raise BacktestError(f"fill must be 'next_open' or 'close', got {self.fill!r}")
        lots = (self.lot_size,) if isinstance(self.lot_size, int) else self.lot_size
        if any(int(x) < 1 for x in lots):
            raise BacktestError("lot sizes must be >= 1")

    def lots(self, n: int) -> list[float]:
        if isinstance(self.lot_size, int):
            return [float(self.lot_size)] * n
        if len(self.lot_size) != n:
            raise BacktestError(f"{len(self.lot_size)} lot sizes for {n} symbols")
        return [float(x) for x in self.lot_size]


@dataclass(frozen=True)
class Signals:
    entries: BoolArray
    exits: BoolArray | None = None
    short_entries: BoolArray | None = None
    short_exits: BoolArray | None = None
    # fraction of equity an entry on (bar, symbol) commits, overriding the config's sizing (NaN: use it);
    # how a strategy sizes legs against each other, e.g. a pair by its hedge ratio
    weights: FloatArray | None = None

    @staticmethod
    def of(
        entries: NDArray[np.bool_] | Sequence[bool],
        exits: NDArray[np.bool_] | Sequence[bool] | None = None,
        short_entries: NDArray[np.bool_] | Sequence[bool] | None = None,
        short_exits: NDArray[np.bool_] | Sequence[bool] | None = None,
    ) -> Signals:
        def b2(a: NDArray[np.bool_] | Sequence[bool] | None) -> BoolArray | None:
            if a is None:
                return None
            arr = np.asarray(a, dtype=bool)
            return arr.reshape(-1, 1) if arr.ndim == 1 else arr

        e = b2(entries)
        assert e is not None
        return Signals(e, b2(exits), b2(short_entries), b2(short_exits))

    def checked(self, shape: tuple[int, ...]) -> Signals:
        for name in ("entries", "exits", "short_entries", "short_exits", "weights"):
            a = getattr(self, name)
            if a is not None and a.shape != shape:
                raise BacktestError(f"signal {name} has shape {a.shape}, the bars are {shape}")
        return self

    @property
    def has_shorts(self) -> bool:
        return self.short_entries is not None and bool(self.short_entries.any())

    def actions(self) -> tuple[BoolArray, BoolArray, BoolArray, BoolArray]:
        """(long entry, long exit, short entry, short exit) after cancelling same-bar conflicts."""
        z = np.zeros_like(self.entries)
        le0 = self.entries
        lx0 = self.exits if self.exits is not None else z
        se0 = self.short_entries if self.short_entries is not None else z
        sx0 = self.short_exits if self.short_exits is not None else z
        both = le0 & se0
        le = le0 & ~lx0 & ~both
        lx = lx0 & ~le0
        se = se0 & ~sx0 & ~both
        sx = sx0 & ~se0
        return le, lx, se, sx


@dataclass(frozen=True)
class Order:
    """An instruction taken on a bar's close: ``side`` +1 go long, -1 go short, 0 close."""

    symbol: int
    side: int
    qty: float | None = None
    sl: float | None = None  # absolute price levels (event API)
    tp: float | None = None
    sl_pct: float | None = None  # fractions of the fill price (signals)
    tp_pct: float | None = None
    trail: float | None = None
    tag: str = ""
    equity_frac: float | None = None  # size as this fraction of equity instead of the config's sizing


@dataclass
class TradeTable:
    """Closed (and still open) trades as parallel numpy arrays; bars are indices into the ``Bars``."""

    group: IntArray
    symbol: IntArray
    direction: IntArray
    qty: FloatArray
    entry_bar: IntArray
    entry_price: FloatArray
    exit_bar: IntArray
    exit_price: FloatArray
    costs: FloatArray
    pnl: FloatArray
    ret: FloatArray
    reason: IntArray

    @property
    def n(self) -> int:
        return int(self.qty.shape[0])

    @property
    def closed(self) -> NDArray[np.bool_]:
        return self.reason != REASONS.index("open")

    def select(self, mask: NDArray[np.bool_]) -> TradeTable:
        return TradeTable(*(getattr(self, f)[mask] for f in _TRADE_FIELDS))

    @staticmethod
    def from_rows(rows: Sequence[tuple[float, ...]]) -> TradeTable:
        if not rows:
            return TradeTable.empty()
        a = np.array(rows, dtype=np.float64)
        cols = [a[:, k] for k in range(a.shape[1])]
        ints = {"group", "symbol", "direction", "entry_bar", "exit_bar", "reason"}
        return TradeTable(
            *(cols[k].astype(np.int64) if f in ints else cols[k] for k, f in enumerate(_TRADE_FIELDS))  # type: ignore[arg-type]
        )

    @staticmethod
    def empty() -> TradeTable:
        ints = {"group", "symbol", "direction", "entry_bar", "exit_bar", "reason"}
        arrays: list[Any] = [np.zeros(0, dtype=np.int64 if f in ints else np.float64) for f in _TRADE_FIELDS]
        return TradeTable(*arrays)

    @staticmethod
    def concat(tables: Sequence[TradeTable]) -> TradeTable:
        if not tables:
            return TradeTable.empty()
        return TradeTable(*(np.concatenate([getattr(t, f) for t in tables]) for f in _TRADE_FIELDS))


_TRADE_FIELDS = (
    "group",
    "symbol",
    "direction",
    "qty",
    "entry_bar",
    "entry_price",
    "exit_bar",
    "exit_price",
    "costs",
    "pnl",
    "ret",
    "reason",
)


@dataclass
class SimResult:
    """Raw simulation output: ``equity``, ``cash`` of shape (T, G) - one column per cash balance (G = 1 for a
    shared-cash portfolio, G = N for independent columns); ``position`` (T, N) signed quantities."""

    bars: Bars
    config: BacktestConfig
    equity: FloatArray
    cash: FloatArray
    position: FloatArray
    trades: TradeTable
    fills: int

    @property
    def start_value(self) -> float:
        """Starting capital of the whole portfolio: ``cash`` per cash balance (N x cash for N independent
        columns)."""
        return self.config.cash * self.equity.shape[1]

    @property
    def portfolio_equity(self) -> FloatArray:
        """The portfolio's equity curve: the one balance, or the sum of the independent columns' curves."""
        if self.equity.shape[1] == 1:
            return self.equity[:, 0]
        return np.asarray(self.equity.sum(axis=1), dtype=np.float64)


# --- sizing helpers


def _affordable(
    avail: float, price: float, side: int, costs: CostModel, lot: float, fractional: bool
) -> float:
    """Largest quantity with qty*price + charges <= avail (multiple of lot unless fractional)."""
    if avail <= 0 or price <= 0:
        return 0.0
    r = costs.linear_rate
    if r is not None:
        q = avail / (price * (1.0 + r))
        if fractional:
            return q
        return math.floor(q / lot) * lot
    q = avail / price
    if not fractional:
        q = math.floor(q / lot) * lot
    for _ in range(64):
        if q <= 0:
            return 0.0
        need = q * price + costs.charges(side, q, price)
        if need <= avail:
            return q
        shrink = (avail - costs.charges(side, q, price)) / price
        nq = min(q - (lot if not fractional else q * 1e-9), shrink)
        q = nq if fractional else math.floor(max(nq, 0.0) / lot) * lot
    return max(q, 0.0)


def _round_qty(q: float, lot: float, fractional: bool) -> float:
    if fractional:
        return max(q, 0.0)
    return math.floor(max(q, 0.0) / lot + 1e-9) * lot


# --- the fast kernel


def _fast_eligible(sig: Signals, cfg: BacktestConfig) -> bool:
    return (
        not cfg.exits.any
        and not sig.has_shorts
        and sig.weights is None
        and cfg.sizing.mode in ("all_in", "percent_equity", "quantity")
    )


def _fast_long_only(
    o: FloatArray,
    c: FloatArray,
    le: BoolArray,
    lx: BoolArray,
    cfg: BacktestConfig,
    lots: Sequence[float],
) -> tuple[FloatArray, FloatArray, FloatArray, TradeTable, int]:
    """Independent long-only columns (T, N) with market orders: state changes are found with numpy for all
    columns at once, cash with a float loop over each column's fills, series and trades with numpy again.

    Same semantics as the general loop, including an entry that cannot be afforded: the position stays flat
    and the next entry signal tries again (an exit signal while flat does nothing)."""
    t_len, n = c.shape
    ev = np.where(le, 1, np.where(lx, 0, -1)).astype(np.int8).T  # (N, T)
    m_col, m_bar = np.nonzero(ev >= 0)
    vals = ev[m_col, m_bar]
    # keep only changes of the signalled state per column (0->1 entries, 1->0 exits); each column starts flat
    prev = np.empty_like(vals)
    if vals.size:
        prev[0] = 0
        prev[1:] = vals[:-1]
        first = np.ones(vals.size, dtype=bool)
        first[1:] = m_col[1:] != m_col[:-1]
        prev[first] = 0
    change = vals != prev
    d_col, d_bar = m_col[change], m_bar[change]
    bounds = np.searchsorted(d_col, np.arange(n + 1)).tolist()
    le_col, le_bar = m_col[vals == 1], m_bar[vals == 1]
    le_bounds = np.searchsorted(le_col, np.arange(n + 1)).tolist()
    shift = 1 if cfg.fill == "next_open" else 0
    px_arr = o if cfg.fill == "next_open" else c
    px_all = px_arr[np.minimum(d_bar + shift, t_len - 1), d_col].tolist()
    dec_all = d_bar.tolist()
    costs = cfg.costs
    slip = cfg.slippage
    zero_slip = slip.is_zero
    rate = costs.linear_rate
    sizing = cfg.sizing
    frac = sizing.fractional
    use_value = sizing.value if sizing.mode != "quantity" else 1.0
    f_col: list[int] = []
    f_bar: list[int] = []
    f_px: list[float] = []
    f_qty: list[float] = []
    f_fee: list[float] = []
    f_cash: list[float] = []
    for j in range(n):
        lot = lots[j]
        fixed_q = _round_qty(sizing.value, lot, frac) if sizing.mode == "quantity" else 0.0
        simple = rate is not None and not frac and lot == 1.0 and not fixed_q
        lo_k, hi_k = bounds[j], bounds[j + 1]
        dec = dec_all[lo_k:hi_k]
        px = px_all[lo_k:hi_k]
        cash = cfg.cash
        f_col.append(j)  # the column's starting level at bar 0
        f_bar.append(0)
        f_px.append(0.0)
        f_qty.append(0.0)
        f_fee.append(0.0)
        f_cash.append(cash)
        q = 0.0
        k, nd = 0, len(dec)
        if simple and zero_slip:
            # the common case in a tight loop; stops at an entry it cannot afford (the loop below goes on)
            r = float(rate)  # type: ignore[arg-type]
            r1 = 1.0 + r
            lim = t_len - shift
            cs: list[float] = []
            qs_: list[float] = []
            fs: list[float] = []
            while k < nd and dec[k] < lim:
                p = px[k]
                if k % 2 == 0:
                    q = float(math.floor(cash * use_value / (p * r1)))
                    if q <= 0:
                        break
                    fee = q * p * r
                    cash -= q * p + fee
                else:
                    fee = q * p * r
                    cash += q * p - fee
                    q = 0.0
                cs.append(cash)
                qs_.append(q)
                fs.append(fee)
                k += 1
            f_col.extend([j] * k)
            f_bar.extend([d + shift for d in dec[:k]])
            f_px.extend(px[:k])
            f_qty.extend(qs_)
            f_fee.extend(fs)
            f_cash.extend(cs)
            if k < nd and dec[k] >= lim:
                k = nd
            elif k % 2 == 0:
                q = 0.0
        while k < nd:
            d = dec[k]
            fb = d + shift
            if fb >= t_len:
                break
            if k % 2 == 0:  # entry
                p = px[k]
                while True:
                    if not zero_slip:
                        p = slip.apply(1, p)
                    if simple:
                        q = float(math.floor(cash * use_value / (p * (1.0 + rate))))  # type: ignore[operator]
                    else:
                        q = _affordable(cash * use_value, p, 1, costs, lot, frac)
                        if fixed_q:
                            q = min(q, fixed_q)
                    if q > 0:
                        break
                    # cannot afford: stay flat; retry on the next entry signal before the next exit signal
                    lm = le_bar[le_bounds[j] : le_bounds[j + 1]]
                    i = int(np.searchsorted(lm, d, side="right"))
                    nxt = int(lm[i]) if i < lm.size else t_len
                    if (k + 1 < nd and nxt >= dec[k + 1]) or nxt + shift >= t_len:
                        break
                    d = nxt
                    fb = d + shift
                    p = float(px_arr[fb, j])
                if q <= 0:
                    k += 2
                    continue
                fee = q * p * rate if rate is not None else costs.charges(1, q, p)
                cash -= q * p + fee
            else:
                p = px[k] if zero_slip else slip.apply(-1, px[k])
                fee = q * p * rate if rate is not None else costs.charges(-1, q, p)
                cash += q * p - fee
                q = 0.0
            f_col.append(j)
            f_bar.append(fb)
            f_px.append(p)
            f_qty.append(q)
            f_fee.append(fee)
            f_cash.append(cash)
            k += 1
    cols = np.asarray(f_col, dtype=np.int64)
    bars_f = np.asarray(f_bar, dtype=np.int64)
    # levels: forward-fill the last fill id over each column's bars (fills are sorted by column, then bar)
    level = np.full(n * t_len, -1, dtype=np.int64)
    level[cols * t_len + bars_f] = np.arange(cols.size)
    level = np.maximum.accumulate(level).reshape(n, t_len).T
    cash_arr = np.asarray(f_cash, dtype=np.float64)[level]
    qty_all = np.asarray(f_qty, dtype=np.float64)
    qty_arr = qty_all[level]
    equity = cash_arr + qty_arr * c
    # trades: after each column's starting level, fills alternate entry, exit
    real = np.ones(cols.size, dtype=bool)
    real[np.searchsorted(cols, np.arange(n))] = False
    ridx = np.flatnonzero(real)
    seq = np.arange(ridx.size) - np.searchsorted(cols[ridx], cols[ridx])  # position within the column
    ent = ridx[seq % 2 == 0]
    ext = ridx[seq % 2 == 1]
    n_tr = ent.size
    pxs = np.asarray(f_px, dtype=np.float64)
    fees = np.asarray(f_fee, dtype=np.float64)
    has_exit = np.zeros(n_tr, dtype=bool)
    pos_in = np.searchsorted(ent, ext - 1)  # each exit follows its entry
    has_exit[pos_in] = True
    x_at = np.zeros(n_tr, dtype=np.int64)
    x_at[pos_in] = ext
    e_col = cols[ent]
    qs = qty_all[ent]
    e_px = pxs[ent]
    e_fee = fees[ent]
    x_bar = np.where(has_exit, bars_f[x_at], t_len - 1)
    x_px = np.where(has_exit, pxs[x_at], c[-1, e_col])
    x_fee = np.where(has_exit, fees[x_at], 0.0)
    reason = np.where(has_exit, 0, REASONS.index("open")).astype(np.int64)
    pnl = qs * (x_px - e_px) - e_fee - x_fee
    trades = TradeTable(
        e_col,
        e_col.copy(),
        np.ones(n_tr, dtype=np.int64),
        qs,
        bars_f[ent],
        e_px,
        x_bar,
        x_px,
        e_fee + x_fee,
        pnl,
        pnl / (qs * e_px),
        reason,
    )
    return equity, cash_arr, qty_arr, trades, int(ridx.size)


# --- the general loop


@dataclass
class _Pos:
    qty: float
    entry_bar: int
    entry_price: float
    entry_cost: float
    sl: float
    tp: float
    trail: float
    anchor: float


Decider = Callable[[int, "Book"], Sequence[Order]]


class Book:
    """Cash, positions and the fill log of one portfolio; what a strategy may ask about while it runs."""

    def __init__(self, bars: Bars, cfg: BacktestConfig, group: int = 0, symbols: Sequence[int] | None = None):
        self.bars = bars
        self.cfg = cfg
        self.group = group
        self.syms = list(symbols) if symbols is not None else list(range(bars.n_symbols))
        self.cash = cfg.cash
        self.pos: dict[int, _Pos] = {}
        self.lots = cfg.lots(bars.n_symbols)
        self._o = bars.open
        self._h = bars.high
        self._lo = bars.low
        self._c = bars.close
        self.log_bar: list[int] = []
        self.log_cash: list[float] = []
        self.log_sym: list[int] = []
        self.log_qty: list[float] = []
        self.rows: list[tuple[float, ...]] = []
        self.t = 0

    # -- what strategies read
    def position(self, j: int = 0) -> float:
        p = self.pos.get(j)
        return p.qty if p is not None else 0.0

    def equity(self, t: int | None = None, at_open: bool = False) -> float:
        tt = self.t if t is None else t
        px = self._o if at_open else self._c
        return self.cash + sum(p.qty * float(px[tt, j]) for j, p in self.pos.items())

    def gross_exposure(self, t: int, at_open: bool, skip: int = -1) -> float:
        px = self._o if at_open else self._c
        return sum(abs(p.qty) * float(px[t, j]) for j, p in self.pos.items() if j != skip)

    # -- fills
    def _record(self, t: int, j: int) -> None:
        self.log_bar.append(t)
        self.log_cash.append(self.cash)
        self.log_sym.append(j)
        self.log_qty.append(self.position(j))

    def _close(self, t: int, j: int, raw_price: float, reason: str, slip: bool = True) -> None:
        p = self.pos.pop(j)
        side = -1 if p.qty > 0 else 1
        price = self.cfg.slippage.apply(side, raw_price) if slip else raw_price
        q = abs(p.qty)
        fee = self.cfg.costs.charges(side, q, price)
        self.cash += p.qty * price - fee
        d = 1 if p.qty > 0 else -1
        pnl = d * q * (price - p.entry_price) - p.entry_cost - fee
        self.rows.append(
            (
                self.group,
                j,
                d,
                q,
                p.entry_bar,
                p.entry_price,
                t,
                price,
                p.entry_cost + fee,
                pnl,
                pnl / (q * p.entry_price),
                REASONS.index(reason),
            )
        )
        self._record(t, j)

    def _open(self, t: int, order: Order, raw_price: float, at_open: bool) -> None:
        cfg = self.cfg
        j, side = order.symbol, order.side
        price = cfg.slippage.apply(side, raw_price)
        lot = self.lots[j]
        sz = cfg.sizing
        frac = sz.fractional
        equity = self.equity(t, at_open)
        power = equity - self.gross_exposure(t, at_open, skip=j)
        sl_level = order.sl
        if sl_level is None and (order.sl_pct or cfg.exits.sl):
            f = order.sl_pct or cfg.exits.sl or 0.0
            sl_level = price * (1 - f) if side > 0 else price * (1 + f)
        if order.qty is not None:
            want = _round_qty(order.qty, lot, frac)
            q = min(want, _affordable(power, price, side, cfg.costs, lot, frac))
        elif order.equity_frac is not None:
            q = _affordable(min(order.equity_frac * equity, power), price, side, cfg.costs, lot, frac)
        elif sz.mode == "all_in":
            q = _affordable(power * sz.value, price, side, cfg.costs, lot, frac)
        elif sz.mode == "percent_equity":
            q = _affordable(min(sz.value * equity, power), price, side, cfg.costs, lot, frac)
        elif sz.mode == "quantity":
            q = min(_round_qty(sz.value, lot, frac), _affordable(power, price, side, cfg.costs, lot, frac))
        elif sz.mode == "risk":
            if sl_level is None:
                raise BacktestError("sizing mode 'risk' needs a stop-loss (exits sl or an order sl)")
            dist = abs(price - sl_level)
            want = _round_qty(sz.value * equity / dist, lot, frac) if dist > 0 else 0.0
            q = min(want, _affordable(power, price, side, cfg.costs, lot, frac))
        else:  # vol_target
            dec = t - 1 if at_open else t
            lo = max(0, dec - sz.vol_window)
            closes = self._c[lo : dec + 1, j]
            ppy = cfg.periods_per_year or 252.0
            vol = float(np.std(np.diff(np.log(closes)), ddof=1)) * math.sqrt(ppy) if closes.size > 2 else 0.0
            notional = sz.value / vol * equity if vol > 0 else 0.0
            q = min(
                _round_qty(notional / price, lot, frac), _affordable(power, price, side, cfg.costs, lot, frac)
            )
        if q <= 0:
            return
        fee = cfg.costs.charges(side, q, price)
        self.cash -= side * q * price + fee
        tp_level = order.tp
        if tp_level is None and (order.tp_pct or cfg.exits.tp):
            f = order.tp_pct or cfg.exits.tp or 0.0
            tp_level = price * (1 + f) if side > 0 else price * (1 - f)
        trail = order.trail if order.trail is not None else (cfg.exits.trail or 0.0)
        inf = math.inf
        self.pos[j] = _Pos(
            qty=side * q,
            entry_bar=t,
            entry_price=price,
            entry_cost=fee,
            sl=sl_level if sl_level is not None else (-inf if side > 0 else inf),
            tp=tp_level if tp_level is not None else (inf if side > 0 else -inf),
            trail=trail,
            anchor=price,
        )
        self._record(t, j)

    def execute(self, t: int, orders: Sequence[Order], at_open: bool) -> None:
        px = self._o if at_open else self._c
        # exits and reversals' closing legs first, then entries
        for od in orders:
            p = self.pos.get(od.symbol)
            if p is not None and (od.side == 0 or (od.side > 0) != (p.qty > 0)):
                self._close(t, od.symbol, float(px[t, od.symbol]), "signal")
        for od in orders:
            if od.side != 0 and od.symbol not in self.pos:
                self._open(t, od, float(px[t, od.symbol]), at_open)

    def scan_exits(self, a: int, b: int) -> None:
        """Intrabar stops / targets / trailing stops over bars a..b inclusive (see the module docstring)."""
        if a > b:
            return
        for j in [
            j for j, p in self.pos.items() if p.trail > 0 or math.isfinite(p.sl) or math.isfinite(p.tp)
        ]:
            p = self.pos[j]
            start = max(a, p.entry_bar if self.cfg.fill == "next_open" else p.entry_bar + 1)
            if start > b:
                continue
            o = self._o[start : b + 1, j]
            h = self._h[start : b + 1, j]
            lo = self._lo[start : b + 1, j]
            long = p.qty > 0
            if p.trail > 0:
                ext = h if long else lo
                prev = np.empty_like(ext)
                prev[0] = p.anchor
                prev[1:] = ext[:-1]
                anchors = (
                    np.maximum.accumulate(np.maximum(prev, p.anchor))
                    if long
                    else np.minimum.accumulate(np.minimum(prev, p.anchor))
                )
                trail_lv = anchors * (1 - p.trail) if long else anchors * (1 + p.trail)
                stop = np.maximum(trail_lv, p.sl) if long else np.minimum(trail_lv, p.sl)
            else:
                anchors = None
                stop = np.full(o.shape, p.sl)
            if long:
                hit_s = lo <= stop
                hit_t = h >= p.tp
            else:
                hit_s = h >= stop
                hit_t = lo <= p.tp
            hit = hit_s | hit_t
            if not hit.any():
                if p.trail > 0:
                    p.anchor = float(max(p.anchor, h.max())) if long else float(min(p.anchor, lo.min()))
                continue
            k = int(np.argmax(hit))
            t = start + k
            if hit_s[k]:
                lvl = float(stop[k])
                price = min(float(o[k]), lvl) if long else max(float(o[k]), lvl)
                is_trail = anchors is not None and (lvl > p.sl if long else lvl < p.sl)
                self._close(t, j, price, "trail" if is_trail else "sl")
            else:
                price = max(float(o[k]), p.tp) if long else min(float(o[k]), p.tp)
                self._close(t, j, price, "tp", slip=False)

    def finish(self) -> tuple[FloatArray, FloatArray, FloatArray, TradeTable]:
        t_len, n = self._c.shape
        last = t_len - 1
        for j, p in list(self.pos.items()):
            q = abs(p.qty)
            d = 1 if p.qty > 0 else -1
            price = float(self._c[last, j])
            pnl = d * q * (price - p.entry_price) - p.entry_cost
            self.rows.append(
                (
                    self.group,
                    j,
                    d,
                    q,
                    p.entry_bar,
                    p.entry_price,
                    last,
                    price,
                    p.entry_cost,
                    pnl,
                    pnl / (q * p.entry_price),
                    REASONS.index("open"),
                )
            )
        bars_arr = np.asarray(self.log_bar, dtype=np.int64)
        idx = np.searchsorted(bars_arr, np.arange(t_len), side="right") - 1
        cash = np.concatenate([[self.cfg.cash], np.asarray(self.log_cash, dtype=np.float64)])[idx + 1]
        position = np.zeros((t_len, n))
        syms = np.asarray(self.log_sym, dtype=np.int64)
        qtys = np.asarray(self.log_qty, dtype=np.float64)
        for j in self.syms:
            m = syms == j
            if not m.any():
                continue
            jb = bars_arr[m]
            jq = np.concatenate([[0.0], qtys[m]])
            position[:, j] = jq[np.searchsorted(jb, np.arange(t_len), side="right")]
        equity = cash + (position[:, self.syms] * self._c[:, self.syms]).sum(axis=1)
        rows = sorted(self.rows, key=lambda r: (r[4], r[1]))
        return equity, cash, position, TradeTable.from_rows(rows)


def simulate(
    bars: Bars,
    decide: Decider,
    cfg: BacktestConfig,
    decision_bars: IntArray | None = None,
    *,
    group: int = 0,
    symbols: Sequence[int] | None = None,
    on_bar: Callable[[int], None] | None = None,
) -> tuple[Book, tuple[FloatArray, FloatArray, FloatArray, TradeTable]]:
    """The general loop. ``decide(t, book)`` is called on each decision bar's close (all if None)."""
    t_len = bars.n_bars
    book = Book(bars, cfg, group, symbols)
    dbars = range(t_len) if decision_bars is None else decision_bars.tolist()
    pending: Sequence[Order] = ()
    at_close = cfg.fill == "close"
    t = 0
    for d in dbars:
        if d < t:
            continue
        if pending:
            book.execute(t, pending, at_open=True)
            pending = ()
        book.scan_exits(t, d)
        book.t = d
        if on_bar is not None:
            on_bar(d)
        orders = decide(d, book)
        if orders:
            if at_close:
                book.execute(d, orders, at_open=False)
            elif d + 1 < t_len:
                pending = orders
        t = d + 1
    if t < t_len:
        if pending:
            book.execute(t, pending, at_open=True)
        book.scan_exits(t, t_len - 1)
    return book, book.finish()


def _signal_decider(
    acts: tuple[BoolArray, BoolArray, BoolArray, BoolArray],
    cols: Sequence[int] | None = None,
    weights: FloatArray | None = None,
) -> tuple[Decider, IntArray]:
    le, lx, se, sx = acts

    def entry(t: int, j: int, side: int) -> Order:
        w = weights[t, j] if weights is not None else math.nan
        return Order(j, side, equity_frac=None if math.isnan(w) else float(w))

    col_ids = np.arange(le.shape[1]) if cols is None else np.asarray(list(cols), dtype=np.int64)
    any_ev = (le | lx | se | sx)[:, col_ids]
    dbars = np.flatnonzero(any_ev.any(axis=1)).astype(np.int64)
    # the symbols with a signal on each decision bar, so a bar costs only its own signals
    ev_t, ev_j = np.nonzero(any_ev[dbars])
    split = np.searchsorted(ev_t, np.arange(dbars.size + 1))
    syms_at = {int(t): col_ids[ev_j[split[k] : split[k + 1]]].tolist() for k, t in enumerate(dbars.tolist())}

    def decide(t: int, book: Book) -> list[Order]:
        orders: list[Order] = []
        for j in syms_at.get(t, ()):
            pos = book.position(j)
            if pos > 0:
                if se[t, j]:
                    orders.append(entry(t, j, -1))
                elif lx[t, j]:
                    orders.append(Order(j, 0))
            elif pos < 0:
                if le[t, j]:
                    orders.append(entry(t, j, 1))
                elif sx[t, j]:
                    orders.append(Order(j, 0))
            elif le[t, j]:
                orders.append(entry(t, j, 1))
            elif se[t, j]:
                orders.append(entry(t, j, -1))
        return orders

    return decide, dbars


def run_signals(
    bars: Bars, signals: Signals, cfg: BacktestConfig, *, force_general: bool = False
) -> SimResult:
    """Run signal arrays of shape (T, N).  ``cfg.shared_cash`` True: one portfolio; False: N independent
    columns, each starting with ``cfg.cash`` (the "many backtests in one call" mode)."""
    sig = signals.checked(bars.close.shape)
    t_len, n = bars.close.shape
    lots = cfg.lots(n)
    if cfg.shared_cash or n == 1:
        if n == 1 and not force_general and _fast_eligible(sig, cfg):
            le, lx, _, _ = sig.actions()
            eq, cash, qty, tt, nf = _fast_long_only(bars.open, bars.close, le, lx, cfg, lots)
            return SimResult(bars, cfg, eq, cash, qty, tt, nf)
        decide, dbars = _signal_decider(sig.actions(), None, sig.weights)
        book, (eq, cash, pos, trades) = simulate(bars, decide, cfg, dbars)
        return SimResult(bars, cfg, eq.reshape(-1, 1), cash.reshape(-1, 1), pos, trades, len(book.log_bar))
    if not force_general and _fast_eligible(sig, cfg):
        le, lx, _, _ = sig.actions()
        eq, cash, qty, tt, nf = _fast_long_only(bars.open, bars.close, le, lx, cfg, lots)
        return SimResult(bars, cfg, eq, cash, qty, tt, nf)
    equity = np.empty((t_len, n))
    cash_all = np.empty((t_len, n))
    position = np.zeros((t_len, n))
    tables: list[TradeTable] = []
    fills = 0
    acts = sig.actions()
    for j in range(n):
        decide, dbars = _signal_decider(acts, [j], sig.weights)
        book, (eq, cash, pos, trades) = simulate(bars, decide, cfg, dbars, group=j, symbols=[j])
        equity[:, j], cash_all[:, j], position[:, j] = eq, cash, pos[:, j]
        tables.append(trades)
        fills += len(book.log_bar)
    return SimResult(bars, cfg, equity, cash_all, position, TradeTable.concat(tables), fills)
