"""The strategy registry: names, typed parameters with bounds, and helpful errors ("did you mean fast?")."""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from mantra.quant.backtest.data import Bars
from mantra.quant.backtest.engine import Signals, Sizing


class StrategyError(ValueError):
    """Unknown strategy, unknown or invalid parameter; the message suggests the fix."""


@dataclass(frozen=True)
class Param:
    name: str
    type: type[int] | type[float] | type[bool] | type[str]
    default: int | float | bool | str
    help: str = ""
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] = ()

    def coerce(self, raw: object) -> int | float | bool | str:
        try:
            if self.type is bool:
                if isinstance(raw, str):
                    low = raw.strip().lower()
                    if low not in ("1", "0", "true", "false", "yes", "no"):
                        raise ValueError(raw)
                    val: int | float | bool | str = low in ("1", "true", "yes")
                else:
                    val = bool(raw)
            elif self.type is int:
                f = float(raw) if isinstance(raw, str) else raw
                if not isinstance(f, int | float) or not math.isfinite(f) or f != int(f):
                    raise ValueError(raw)
                val = int(f)
            elif self.type is float:
                val = float(raw)  # type: ignore[arg-type]
                if not math.isfinite(val):
                    raise ValueError(raw)
            else:
                val = str(raw)
        except (TypeError, ValueError):
            raise StrategyError(f"parameter {self.name} must be {self.type.__name__}, got {raw!r}") from None
        if isinstance(val, int | float) and not isinstance(val, bool):
            if self.min is not None and val < self.min:
                raise StrategyError(f"parameter {self.name} must be >= {self.min:g}, got {val}")
            if self.max is not None and val > self.max:
                raise StrategyError(f"parameter {self.name} must be <= {self.max:g}, got {val}")
        if self.choices and val not in self.choices:
            raise StrategyError(
                f"parameter {self.name} must be one of {', '.join(self.choices)}, got {val!r}"
            )
        return val


SignalFn = Callable[[Bars, Mapping[str, Any]], Signals]


@dataclass(frozen=True)
class StrategySpec:
    name: str
    description: str
    params: tuple[Param, ...]
    signals: SignalFn
    kind: Literal["signals", "options"] = "signals"
    min_symbols: int = 1
    max_symbols: int | None = None
    check: Callable[[Mapping[str, Any]], None] | None = None
    sizing: Callable[[Mapping[str, Any], int], Sizing] | None = None
    fill_at_close: bool = False
    tags: tuple[str, ...] = field(default=())

    @property
    def defaults(self) -> dict[str, int | float | bool | str]:
        return {p.name: p.default for p in self.params}

    def resolve(self, raw: Mapping[str, object] | None) -> dict[str, Any]:
        """Validate user parameters: unknown names get a "did you mean", values are typed and bounded."""
        names = [p.name for p in self.params]
        out: dict[str, Any] = self.defaults
        for k, v in (raw or {}).items():
            if k not in names:
                close = difflib.get_close_matches(k, names, n=1, cutoff=0.5)
                hint = f"; did you mean {close[0]}?" if close else ""
                known = ", ".join(names) or "(none)"
                raise StrategyError(f"{self.name} has no parameter {k!r}{hint} (parameters: {known})")
            spec = next(p for p in self.params if p.name == k)
            out[k] = spec.coerce(v)
        if self.check is not None:
            self.check(out)
        return out


REGISTRY: dict[str, StrategySpec] = {}


def register(spec: StrategySpec) -> StrategySpec:
    REGISTRY[spec.name] = spec
    return spec


def get_strategy(name: str) -> StrategySpec:
    from mantra.quant.strategies import library  # noqa: F401 - registers the library

    key = name.strip().lower().replace("-", "_")
    if key in REGISTRY:
        return REGISTRY[key]
    close = difflib.get_close_matches(key, list(REGISTRY), n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]}?" if close else ""
    raise StrategyError(f"unknown strategy {name!r}{hint} (available: {', '.join(sorted(REGISTRY))})")


def parse_param_pairs(pairs: list[str] | None) -> dict[str, str]:
    """``["fast=10", "slow=20"]`` -> ``{"fast": "10", "slow": "20"}`` (values are coerced by ``resolve``)."""
    out: dict[str, str] = {}
    for item in pairs or []:
        if "=" not in item:
            raise StrategyError(f"--param takes NAME=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        k = k.strip()
        if not k:
            raise StrategyError(f"--param takes NAME=VALUE, got {item!r}")
        if k in out:
            raise StrategyError(f"parameter {k} given twice")
        out[k] = v.strip()
    return out
