"""A seeded simulated market: a random walk on each instrument's tick grid with an intraday volume profile,
plus index option chains priced by Black-Scholes on a smile from the simulated index, with drifting OI.

Deterministic for a seed and a clock, so tests can reason about it; realistic enough that candles, quotes and
alerts behave as they would on a live feed. ``SimulatedProvider`` pushes its ticks like a broker connection.
"""

from __future__ import annotations

import logging
import math
import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from mantra.clock import Clock, ist_from_ms
from mantra.domain import Instrument, Tick
from mantra.feed.base import TickSink
from mantra.feed.options_sim import (
    CHAINS,
    OptionState,
    chain_instruments,
    expiry_for,
    initial_oi,
    quote_option,
)

log = logging.getLogger(__name__)


@dataclass
class _State:
    instrument: Instrument
    price: int
    open: int
    prev_close: int
    volume: int = 0
    seq: int = 0
    day: int = -1  # the IST day ``volume`` counts (a cumulative is per session, like the brokers')


DAY_MS = 86_400_000
IST_MS = 19_800_000
OPEN_S = (9 * 60 + 15) * 60


def day_so_far(ts_ms: int, mean_qty: float) -> int:
    """Where a session's cumulative volume stands when the simulator (re)starts during it: as if one tick of
    the mean size had traded every second since 09:15. Deterministic in time, so a restarted demo feed carries
    on near where it was (the day's candles keep their volume) instead of counting the day again from zero."""
    seconds = ((ts_ms + IST_MS) % DAY_MS) // 1000 - OPEN_S
    return int(mean_qty * min(max(seconds, 0), 375 * 60))


def _session_volume(volume: int, day: int, now_ms: int, mean_qty: float) -> tuple[int, int]:
    """(cumulative, day) for a tick at ``now_ms``: a new IST day starts its cumulative afresh."""
    today = (now_ms + IST_MS) // DAY_MS
    return (volume, day) if today == day else (day_so_far(now_ms, mean_qty), today)


def volume_profile(ts_ms: int) -> float:
    """U-shaped intraday activity: busy at the open and the close, quiet at lunch (1.0 = average)."""
    t = ist_from_ms(ts_ms)
    minutes = (t.hour * 60 + t.minute) - (9 * 60 + 15)
    x = min(max(minutes / 375.0, 0.0), 1.0)  # 0 at 09:15, 1 at 15:30
    return 0.6 + 1.6 * (x - 0.5) ** 2 * 4 / 2


class SimulatedMarket:
    name = "simulated"

    def __init__(
        self,
        instruments: Sequence[tuple[Instrument, int]],
        seed: int,
        tick_probability: float = 0.8,
        option_chains: Sequence[str] = (),
        start_ms: int | None = None,
        option_tick_probability: float = 0.15,
        strikes_each_side: int = 10,
    ):
        self._rng = random.Random(seed)
        self._p = tick_probability
        self._states = [
            _State(inst, base, base, base - inst.tick_size_paise * self._rng.randint(-40, 40))
            for inst, base in instruments
        ]
        self._by_symbol = {s.instrument.symbol: s for s in self._states}
        # options draw from their own generator so adding chains leaves the equities' path unchanged
        self._orng = random.Random(seed * 7919 + 1)
        self._op = option_tick_probability
        self._atm_vol: dict[str, float] = {}
        self._options: list[OptionState] = []
        self._option_days: dict[str, int] = {}  # the IST day each contract's cumulative volume counts
        for name in option_chains:
            spec = CHAINS[name]
            index = self._by_symbol.get(spec.index_symbol)
            if index is None:
                raise ValueError(f"option chain {name} needs the index {spec.index_symbol!r} in the market")
            if start_ms is None:
                raise ValueError("option chains need start_ms to pick their expiry")
            self._atm_vol[name] = spec.atm_vol
            expiry = expiry_for(start_ms, spec)
            for inst in chain_instruments(spec, index.price, expiry, strikes_each_side):
                self._options.append(OptionState(inst, spec, initial_oi(self._orng, index.price, inst, spec)))

    @property
    def instruments(self) -> list[Instrument]:
        return [s.instrument for s in self._states] + [o.instrument for o in self._options]

    def price(self, symbol: str) -> int | None:
        s = self._by_symbol.get(symbol)
        return s.price if s else None

    def next_ticks(self, now_ms: int) -> list[Tick]:
        """Ticks for one interval. ``seq`` is microsecond-based so it keeps rising across restarts."""
        out = []
        activity = volume_profile(now_ms)
        for s in self._states:
            if self._rng.random() > self._p:
                continue
            step = s.instrument.tick_size_paise
            # volatility ~ 2 bps per tick, at least one tick of the grid
            n_ticks = max(1, round(s.price * 0.0002 / step))
            move = self._rng.choice((-1, 1)) * step * self._rng.randint(0, n_ticks)
            s.price = max(step, s.price + move)
            qty = (
                max(1, int(self._rng.expovariate(1 / 150) * activity))
                if s.instrument.instrument_type != "INDEX"
                else 0
            )
            mean = 150 * self._p if s.instrument.instrument_type != "INDEX" else 0
            s.volume, s.day = _session_volume(s.volume, s.day, now_ms, mean)
            s.volume += qty
            s.seq = max(s.seq + 1, now_ms * 1000)
            spread = step * max(1, math.ceil(self._rng.random() * 2))
            out.append(
                Tick(
                    source="demo",
                    tick_id=f"{s.instrument.token}-{s.seq}",
                    seq=s.seq,
                    symbol=s.instrument.symbol,
                    token=s.instrument.token,
                    ts_ms=now_ms,
                    ltp_paise=s.price,
                    last_qty=qty,
                    volume=s.volume,
                    bid_paise=max(step, s.price - spread),
                    ask_paise=s.price + spread,
                    open_paise=s.open,
                    prev_close_paise=s.prev_close,
                )
            )
        if self._options:
            out.extend(self._option_ticks(now_ms, activity))
        return out

    def _option_ticks(self, now_ms: int, activity: float) -> list[Tick]:
        rng = self._orng
        for name in self._atm_vol:  # ATM vol wanders a little, mean-reverting to the chain's level
            v = self._atm_vol[name]
            self._atm_vol[name] = max(0.05, v + 0.02 * (CHAINS[name].atm_vol - v) + rng.gauss(0, 0.0005))
        out = []
        for o in self._options:
            if rng.random() > self._op:
                continue
            inst, spec = o.instrument, o.spec
            spot = self._by_symbol[spec.index_symbol].price
            ltp, bid, ask = quote_option(o, spot, self._atm_vol[spec.underlying], now_ms)
            assert inst.strike_paise is not None
            near = math.exp(-(((inst.strike_paise - spot) / spec.strike_step_paise / 5) ** 2))
            lots = max(1, int(rng.expovariate(1 / (1 + 20 * near)) * activity))
            qty = lots * inst.lot_size
            volume, day = _session_volume(o.volume, self._option_days.get(inst.symbol, -1), now_ms, 0)
            self._option_days[inst.symbol] = day
            o.volume = volume + qty
            # OI drifts: new positions opened or closed, a fraction of the traded lots, never negative
            o.oi = max(0, o.oi + int(rng.gauss(0.1, 1.0) * lots))
            if o.open_paise is None:
                o.open_paise = ltp
                o.prev_close_paise = max(
                    inst.tick_size_paise, ltp + inst.tick_size_paise * rng.randint(-20, 20)
                )
            o.seq = max(o.seq + 1, now_ms * 1000)
            out.append(
                Tick(
                    source="demo",
                    tick_id=f"{inst.token}-{o.seq}",
                    seq=o.seq,
                    symbol=inst.symbol,
                    token=inst.token,
                    ts_ms=now_ms,
                    ltp_paise=ltp,
                    last_qty=qty,
                    volume=o.volume,
                    bid_paise=bid,
                    ask_paise=ask,
                    open_paise=o.open_paise,
                    prev_close_paise=o.prev_close_paise,
                    oi=o.oi,
                )
            )
        return out


class SimulatedProvider:
    """The simulated market behind the provider interface: a thread steps it every ``interval_ms`` and pushes
    the ticks of the subscribed instruments it can simulate (others are ignored)."""

    name = "simulated"

    def __init__(self, market: SimulatedMarket, clock: Clock, interval_ms: int) -> None:
        self._market, self._clock, self._interval = market, clock, interval_ms / 1000
        self._wanted: set[str] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.streaming = 0

    def start(self, instruments: Sequence[Instrument], sink: TickSink) -> None:
        self.update(instruments)
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, args=(sink,), name="simulated-feed", daemon=True)
        self._thread.start()

    def update(self, instruments: Sequence[Instrument]) -> None:
        known = {i.symbol for i in self._market.instruments}
        self._wanted = {i.symbol for i in instruments} & known
        self.streaming = len(self._wanted)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def connected(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _loop(self, sink: TickSink) -> None:
        while not self._stop.is_set():
            ticks = [t for t in self._market.next_ticks(self._clock.now_ms()) if t.symbol in self._wanted]
            if ticks:
                sink(ticks)
            self._stop.wait(self._interval)
