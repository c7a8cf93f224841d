"""Which option-chain contracts the live feed streams, from the instrument master's real NFO/BFO contracts.

For each underlying (the configured indices and the F&O stocks users watch): the nearest ``expiries`` live
expiries, ``strikes_each_side`` listed strikes either side of the at-the-money strike (calls and puts), the
futures of those expiries and the underlying's spot. An expiry is live until 15:30 IST of its day (it drops out
then, not at midnight). The band is recentred only when spot has moved past the midpoint to the next listed
strike by ``hysteresis`` of that gap, so a spot oscillating around a midpoint does not churn subscriptions.

Pure: ``ChainPlanner`` keeps the centres between calls; contracts and prices are passed in.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, time

from mantra.clock import ist_from_ms
from mantra.domain import Instrument
from mantra.market.instrument_master import INDEX_SPOT

log = logging.getLogger(__name__)

EXPIRY_CLOSE_IST = time(15, 30)
DEFAULT_UNDERLYINGS = ("NIFTY", "BANKNIFTY", "FINNIFTY", "MIDCPNIFTY", "SENSEX")


@dataclass(frozen=True)
class ChainSettings:
    underlyings: tuple[str, ...] = DEFAULT_UNDERLYINGS
    expiries: int = 2
    strikes_each_side: int = 10
    hysteresis: float = 0.25  # of the gap to the next strike, beyond its midpoint

    def __post_init__(self) -> None:
        if self.expiries < 1 or self.strikes_each_side < 0 or not 0 <= self.hysteresis < 1:
            raise ValueError("chains: expiries >= 1, strikes_each_side >= 0 and 0 <= hysteresis < 1")


@dataclass(frozen=True)
class ChainSelection:
    """One underlying's part of the subscription. ``options`` are ordered by expiry (nearest first), then by
    distance from the ATM strike (ATM first), so a cap that cuts the tail keeps what traders read most."""

    underlying: str
    spot: Instrument | None
    expiries: tuple[str, ...]
    centre_paise: int | None
    futures: tuple[Instrument, ...]
    options: tuple[tuple[int, int, Instrument], ...]  # (expiry rank, strikes from ATM, contract)
    note: str = ""  # why something is missing (no contracts, no price yet)


def live_expiries(expiries: Sequence[str], now_ms: int) -> list[str]:
    """ISO expiry dates still trading at ``now_ms``: an expiry drops out at 15:30 IST of its day."""
    now = ist_from_ms(now_ms)
    today, clock = now.date(), now.time()
    out = []
    for e in sorted(set(expiries)):
        day = date.fromisoformat(e)
        if day > today or (day == today and clock < EXPIRY_CLOSE_IST):
            out.append(e)
    return out


def spot_symbol(underlying: str) -> str:
    """The instrument an underlying's price comes from: the index (NIFTY -> "NIFTY 50") or the stock itself."""
    return INDEX_SPOT.get(underlying, underlying)


def recentre(strikes: Sequence[int], centre: int | None, spot_paise: int, hysteresis: float) -> int:
    """The band's centre: the listed strike nearest spot, but the old centre is kept until spot is past the
    midpoint to the next strike by ``hysteresis`` of that gap (strikes ascending, paise)."""
    nearest = min(strikes, key=lambda k: (abs(k - spot_paise), k))
    if centre is None or centre not in strikes or nearest == centre:
        return nearest
    i = strikes.index(centre)
    neighbour = strikes[i + 1] if nearest > centre else strikes[i - 1]
    midpoint = (centre + neighbour) / 2
    beyond = abs(neighbour - centre) * hysteresis  # past the midpoint by this much
    moved = spot_paise - midpoint if nearest > centre else midpoint - spot_paise
    return nearest if moved > beyond else centre


def band(strikes: Sequence[int], centre: int, each_side: int) -> list[tuple[int, int]]:
    """(strikes from the centre, strike) for the listed strikes within ``each_side`` of the centre's position."""
    i = bisect.bisect_left(strikes, centre)
    i = min(max(i, 0), len(strikes) - 1)
    if i > 0 and abs(strikes[i - 1] - centre) < abs(strikes[i] - centre):
        i -= 1
    lo, hi = max(0, i - each_side), min(len(strikes), i + each_side + 1)
    return [(abs(j - i), strikes[j]) for j in range(lo, hi)]


@dataclass
class ChainPlanner:
    """Plans each underlying's chain and remembers where its band is centred (for the hysteresis)."""

    settings: ChainSettings = field(default_factory=ChainSettings)
    centres: dict[str, int] = field(default_factory=dict)

    def select(
        self,
        underlying: str,
        contracts: Sequence[Instrument],
        spot: Instrument | None,
        price: Callable[[str], int | None],
        now_ms: int,
    ) -> ChainSelection:
        """``contracts``: the underlying's derivatives in the instrument master (any exchange, NFO or BFO);
        ``price(symbol)``: the latest traded price in paise the feed has seen (None before any)."""
        s = self.settings
        options = [c for c in contracts if c.instrument_type in ("CE", "PE") and c.expiry and c.strike_paise]
        futures = [c for c in contracts if c.instrument_type == "FUT" and c.expiry]
        expiries = tuple(live_expiries([c.expiry for c in options if c.expiry], now_ms)[: s.expiries])
        if not expiries:  # a futures-only underlying (or no options listed): its nearest live future
            fut = live_expiries([c.expiry for c in futures if c.expiry], now_ms)[:1]
            chosen = tuple(f for f in futures if f.expiry in fut)
            return ChainSelection(underlying, spot, (), None, chosen, (), "no live options in the master")
        chosen_futures = [f for f in futures if f.expiry in expiries]
        live_futures = live_expiries([f.expiry for f in futures if f.expiry], now_ms)
        if not chosen_futures and live_futures:  # weekly expiries have no future: the nearest one prices it
            chosen_futures = [f for f in futures if f.expiry == live_futures[0]]
        ref = price(spot.symbol) if spot is not None else None
        if ref is None:  # no spot tick yet: the nearest future's price places the ATM close enough
            ref = next((p for f in chosen_futures if (p := price(f.symbol)) is not None), None)
        if ref is None and underlying in self.centres:
            ref = self.centres[underlying]
        if ref is None:
            return ChainSelection(
                underlying, spot, expiries, None, tuple(chosen_futures), (),
                f"no price for {spot.symbol if spot else underlying} yet: options follow its first tick",
            )  # fmt: skip
        by_expiry: dict[str, list[Instrument]] = {}
        for c in options:
            if c.expiry in expiries:
                by_expiry.setdefault(c.expiry or "", []).append(c)
        nearest = sorted({c.strike_paise for c in by_expiry[expiries[0]] if c.strike_paise})
        centre = recentre(nearest, self.centres.get(underlying), ref, s.hysteresis)
        if centre != self.centres.get(underlying):
            if underlying in self.centres:
                log.info(
                    "%s: option band recentred from %d to %d paise",
                    underlying,
                    self.centres[underlying],
                    centre,
                )
            self.centres[underlying] = centre
        picked: list[tuple[int, int, Instrument]] = []
        for rank, expiry in enumerate(expiries):
            rows = by_expiry.get(expiry, [])
            strikes = sorted({c.strike_paise for c in rows if c.strike_paise})
            within = {k: d for d, k in band(strikes, centre, s.strikes_each_side)}
            for c in sorted(rows, key=lambda c: (c.strike_paise or 0, c.instrument_type)):
                if c.strike_paise in within:
                    picked.append((rank, within[c.strike_paise], c))
        picked.sort(key=lambda x: (x[0], x[1], x[2].strike_paise or 0, x[2].instrument_type))
        return ChainSelection(underlying, spot, expiries, centre, tuple(chosen_futures), tuple(picked))
