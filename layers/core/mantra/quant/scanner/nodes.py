"""The syntax tree the parser builds. Every node remembers where it starts (1-based line and column)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Pos:
    line: int
    col: int


@dataclass(frozen=True, slots=True)
class Number:
    value: float
    text: str
    pos: Pos


@dataclass(frozen=True, slots=True)
class Duration:
    count: int
    unit: str  # m | h | d | w
    pos: Pos

    @property
    def text(self) -> str:
        return f"{self.count}{self.unit}"


@dataclass(frozen=True, slots=True)
class String:
    value: str
    pos: Pos


@dataclass(frozen=True, slots=True)
class Bool:
    value: bool
    pos: Pos


@dataclass(frozen=True, slots=True)
class Name:
    name: str
    pos: Pos


@dataclass(frozen=True, slots=True)
class Arg:
    value: Node
    name: str | None  # keyword argument name
    pos: Pos


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    args: tuple[Arg, ...]
    pos: Pos


@dataclass(frozen=True, slots=True)
class Unary:
    op: str  # "-" | "not"
    operand: Node
    pos: Pos


@dataclass(frozen=True, slots=True)
class Binary:
    op: str  # + - * / < <= > >= == != and or
    left: Node
    right: Node
    pos: Pos


@dataclass(frozen=True, slots=True)
class Cross:
    direction: str  # "above" | "below"
    left: Node
    right: Node
    pos: Pos


@dataclass(frozen=True, slots=True)
class OnTimeframe:
    timeframe: str
    operand: Node
    pos: Pos


Node = Number | Duration | String | Bool | Name | Call | Unary | Binary | Cross | OnTimeframe


def show(node: Node) -> str:
    """Canonical source text of a node (used for cache keys and messages)."""
    match node:
        case Number():
            return node.text
        case Duration():
            return node.text
        case String():
            return repr(node.value)
        case Bool():
            return "true" if node.value else "false"
        case Name():
            return node.name
        case Call():
            args = ", ".join((f"{a.name}=" if a.name else "") + show(a.value) for a in node.args)
            return f"{node.name}({args})"
        case Unary():
            return f"{node.op} {show(node.operand)}" if node.op == "not" else f"-{show(node.operand)}"
        case Binary():
            return f"({show(node.left)} {node.op} {show(node.right)})"
        case Cross():
            return f"({show(node.left)} crosses {node.direction} {show(node.right)})"
        case OnTimeframe():
            return f"[{node.timeframe}] {show(node.operand)}"
