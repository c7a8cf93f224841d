"""A seeded simulated market: a random walk on each instrument's tick grid with an intraday volume profile.

Deterministic for a seed and a clock, so tests can reason about it; realistic enough that candles, quotes and
alerts behave as they would on a live feed.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

from mantra.clock import ist_from_ms
from mantra.domain import Instrument, Tick


@dataclass
class _State:
    instrument: Instrument
    price: int
    open: int
    prev_close: int
    volume: int = 0
    seq: int = 0


def volume_profile(ts_ms: int) -> float:
    """U-shaped intraday activity: busy at the open and the close, quiet at lunch (1.0 = average)."""
    t = ist_from_ms(ts_ms)
    minutes = (t.hour * 60 + t.minute) - (9 * 60 + 15)
    x = min(max(minutes / 375.0, 0.0), 1.0)  # 0 at 09:15, 1 at 15:30
    return 0.6 + 1.6 * (x - 0.5) ** 2 * 4 / 2


class SimulatedMarket:
    name = "simulated"

    def __init__(
        self, instruments: Sequence[tuple[Instrument, int]], seed: int, tick_probability: float = 0.8
    ):
        self._rng = random.Random(seed)
        self._p = tick_probability
        self._states = [
            _State(inst, base, base, base - inst.tick_size_paise * self._rng.randint(-40, 40))
            for inst, base in instruments
        ]

    @property
    def instruments(self) -> list[Instrument]:
        return [s.instrument for s in self._states]

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
            s.volume += qty
            s.seq = max(s.seq + 1, now_ms * 1000)
            spread = step * max(1, math.ceil(self._rng.random() * 2))
            out.append(
                Tick(
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
        return out
