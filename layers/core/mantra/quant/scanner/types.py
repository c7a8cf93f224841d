"""Types of the scanner language and the checked tree (IR) the evaluator runs.

Types: ``number`` (a constant), ``series`` (a number per bar and instrument), ``condition`` (true/false per bar
and instrument), ``text`` and ``duration``. Every IR node has a canonical ``key`` (identical sub-expressions are
computed once per timeframe) and a ``cost``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mantra.quant.scanner.functions import Fn


class Type(Enum):
    NUMBER = "number"
    SERIES = "series"
    BOOL = "condition"
    STR = "text"
    DURATION = "duration"

    @property
    def numeric(self) -> bool:
        return self in (Type.NUMBER, Type.SERIES)


@dataclass(frozen=True, slots=True)
class Period:
    """``1d``, ``15m``, ``5`` (bars): how far back; ``timeframe`` None means bars of the current timeframe."""

    count: int
    timeframe: str | None

    def __str__(self) -> str:
        return f"{self.count}" if self.timeframe is None else f"{self.count}x{self.timeframe}"


@dataclass(frozen=True, slots=True, eq=False)
class Const:
    value: float | bool | str | Period
    type: Type

    @property
    def key(self) -> str:
        return repr(self.value)


@dataclass(frozen=True, slots=True, eq=False)
class Apply:
    fn: Fn
    args: tuple[Any, ...]  # IR nodes for series/condition parameters, plain values for constants
    type: Type
    key: str


@dataclass(frozen=True, slots=True, eq=False)
class Arith:
    op: str
    left: IR
    right: IR
    type: Type
    key: str


@dataclass(frozen=True, slots=True, eq=False)
class Compare:
    op: str
    left: IR
    right: IR
    key: str
    type: Type = Type.BOOL


@dataclass(frozen=True, slots=True, eq=False)
class Crossing:
    direction: str
    left: IR
    right: IR
    key: str
    type: Type = Type.BOOL


@dataclass(frozen=True, slots=True, eq=False)
class Logic:
    op: str  # and | or
    left: IR
    right: IR
    key: str
    type: Type = Type.BOOL


@dataclass(frozen=True, slots=True, eq=False)
class Negate:
    op: str  # "-" | "not"
    operand: IR
    type: Type
    key: str


@dataclass(frozen=True, slots=True, eq=False)
class OnTf:
    timeframe: str
    operand: IR
    type: Type
    key: str


IR = Const | Apply | Arith | Compare | Crossing | Logic | Negate | OnTf


def children(node: IR) -> tuple[IR, ...]:
    match node:
        case Const():
            return ()
        case Apply():
            return tuple(
                a
                for a in node.args
                if isinstance(a, (Const, Apply, Arith, Compare, Crossing, Logic, Negate, OnTf))
            )
        case Arith() | Compare() | Crossing() | Logic():
            return (node.left, node.right)
        case Negate() | OnTf():
            return (node.operand,)
