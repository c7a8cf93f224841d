"""Type checking: syntax tree -> typed IR, or a positioned ``ScanTypeError`` that says what was expected.

* names and functions resolve against the library, with "did you mean" for typos;
* arguments are matched by position or keyword, defaults filled in, whole numbers and bounds checked;
* arithmetic needs numbers, ``and``/``or``/``not`` need conditions, a scan must be a condition;
* candlestick pattern names are checked here, not when the scan runs;
* constants fold (``2 * 10`` is 20).

It also computes how many bars of history each timeframe needs and the cost of the expression.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from mantra.market.timeframes import TIMEFRAMES_MS
from mantra.quant.patterns import candlesticks
from mantra.quant.scanner import nodes as ast
from mantra.quant.scanner.errors import ScanTypeError
from mantra.quant.scanner.functions import FUNCTIONS, Fn, Param
from mantra.quant.scanner.types import (
    IR,
    Apply,
    Arith,
    Compare,
    Const,
    Crossing,
    Logic,
    Negate,
    OnTf,
    Period,
    Type,
)

DURATION_TF = {"m": "1m", "h": "1h", "d": "1d", "w": "1d"}
WEEK_SESSIONS = 5
TIMEFRAME_COST = 10
MAX_NODES = 200


def edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance (a swap of two neighbours counts as one edit)."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


def nearest(name: str, candidates: list[str] | tuple[str, ...]) -> str | None:
    """The closest candidate by edits (ties: the most similar length, then difflib's ratio), if close enough."""
    if not candidates:
        return None
    limit = max(1, len(name) // 3)

    def rank(c: str) -> tuple[int, int, float]:
        return (
            edit_distance(name, c),
            abs(len(c) - len(name)),
            -difflib.SequenceMatcher(None, name, c).ratio(),
        )

    best = min(candidates, key=rank)
    if edit_distance(name, best) <= limit or (len(name) > 3 and best.startswith(name)):
        return best
    fuzzy = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.75)
    return fuzzy[0] if fuzzy else None


def did_you_mean(name: str, candidates: list[str] | tuple[str, ...]) -> str | None:
    best = nearest(name, candidates)
    return f"did you mean {best!r}?" if best else None


@dataclass
class Checked:
    """A type-checked expression: its IR, the bars of history it needs per timeframe, and its cost."""

    ir: IR
    source: str
    base: str
    needs: dict[str, int] = field(default_factory=dict)
    cost: int = 0
    timeframes: frozenset[str] = frozenset()
    functions: frozenset[str] = frozenset()


class Checker:
    def __init__(self, source: str, base: str) -> None:
        self.source, self.base = source, base
        self.nodes = 0

    def fail(self, reason: str, pos: ast.Pos, hint: str | None = None) -> ScanTypeError:
        return ScanTypeError(reason, pos.line, pos.col, self.source, hint)

    def check(self, node: ast.Node) -> IR:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.fail(
                f"the expression has more than {MAX_NODES} parts; split it into several scans", node.pos
            )
        match node:
            case ast.Number():
                return Const(node.value, Type.NUMBER)
            case ast.Bool():
                return Const(node.value, Type.BOOL)
            case ast.String():
                raise self.fail(
                    'text is only allowed as a function argument, e.g. pattern("hammer")', node.pos
                )
            case ast.Duration():
                raise self.fail(
                    f"a duration like {node.text} is only allowed as a function argument",
                    node.pos,
                    "e.g. change_pct(1d); to change timeframe write [15m] before an expression",
                )
            case ast.Name():
                return self.call(node.name, (), node.pos)
            case ast.Call():
                return self.call(node.name, node.args, node.pos)
            case ast.Unary():
                return self.unary(node)
            case ast.Binary():
                return self.binary(node)
            case ast.Cross():
                left, right = self.check(node.left), self.check(node.right)
                for side, ir, n in (("left", left, node.left), ("right", right, node.right)):
                    if not ir.type.numeric:
                        raise self.fail(
                            f"'crosses {node.direction}' needs a number on the {side}, got a {ir.type.value}",
                            n.pos,
                        )
                if left.type is Type.NUMBER and right.type is Type.NUMBER:
                    raise self.fail("'crosses' needs a series on at least one side", node.pos)
                return Crossing(node.direction, left, right, f"({left.key} x{node.direction} {right.key})")
            case ast.OnTimeframe():
                inner = self.check(node.operand)
                if inner.type in (Type.NUMBER, Type.STR, Type.DURATION):
                    return inner
                return OnTf(node.timeframe, inner, inner.type, f"[{node.timeframe}]{inner.key}")
        raise self.fail("unsupported expression", node.pos)  # pragma: no cover

    def unary(self, node: ast.Unary) -> IR:
        inner = self.check(node.operand)
        if node.op == "not":
            if inner.type is not Type.BOOL:
                raise self.fail(f"'not' needs a condition, got a {inner.type.value}", node.operand.pos)
            if isinstance(inner, Const):
                return Const(not inner.value, Type.BOOL)
            return Negate("not", inner, Type.BOOL, f"(not {inner.key})")
        if not inner.type.numeric:
            raise self.fail(f"'-' needs a number, got a {inner.type.value}", node.operand.pos)
        if isinstance(inner, Const):
            return Const(-float(inner.value), Type.NUMBER)  # type: ignore[arg-type]
        return Negate("-", inner, inner.type, f"(-{inner.key})")

    def binary(self, node: ast.Binary) -> IR:
        left, right = self.check(node.left), self.check(node.right)
        op = node.op
        if op in ("and", "or"):
            for ir, n in ((left, node.left), (right, node.right)):
                if ir.type is not Type.BOOL:
                    raise self.fail(
                        f"'{op}' joins conditions, but this is a {ir.type.value}",
                        n.pos,
                        "compare it with something, e.g. rsi(14) < 30",
                    )
            if isinstance(left, Const) and isinstance(right, Const):
                v = (left.value and right.value) if op == "and" else (left.value or right.value)
                return Const(bool(v), Type.BOOL)
            return Logic(op, left, right, f"({left.key} {op} {right.key})")
        for ir, n in ((left, node.left), (right, node.right)):
            if not ir.type.numeric:
                raise self.fail(f"'{op}' needs numbers on both sides, got a {ir.type.value}", n.pos)
        if op in ("<", "<=", ">", ">=", "==", "!="):
            return Compare(op, left, right, f"({left.key} {op} {right.key})")
        if isinstance(left, Const) and isinstance(right, Const):
            a, b = float(left.value), float(right.value)  # type: ignore[arg-type]
            if op == "/" and b == 0:
                raise self.fail("division by zero", node.right.pos)
            return Const({"+": a + b, "-": a - b, "*": a * b, "/": a / b if b else 0.0}[op], Type.NUMBER)
        kind = Type.SERIES
        return Arith(op, left, right, kind, f"({left.key} {op} {right.key})")

    # calls
    def call(self, name: str, args: tuple[ast.Arg, ...], pos: ast.Pos) -> IR:
        fn = FUNCTIONS.get(name)
        if fn is None:
            hint = did_you_mean(name, tuple(FUNCTIONS))
            what = "function" if args else "name"
            raise self.fail(
                f"unknown {what} {name!r}",
                pos,
                hint or "functions are listed in mantra.quant.scanner.functions",
            )
        bound = self.bind(fn, args, pos)
        values: list[Any] = []
        for p, (value, at) in zip(fn.params, bound, strict=True):
            values.append(self.argument(fn, p, value, at))
        key = f"{fn.name}(" + ",".join(v.key if hasattr(v, "key") else repr(v) for v in values) + ")"
        return Apply(fn, tuple(values), fn.returns, key)

    def bind(self, fn: Fn, args: tuple[ast.Arg, ...], pos: ast.Pos) -> list[tuple[Any, ast.Pos]]:
        params = list(fn.params)
        positional = [a for a in args if a.name is None]
        keywords = [a for a in args if a.name is not None]
        if any(a.name is None for a in args[len(positional) :]):
            bad = next(a for a in args[len(positional) :] if a.name is None)
            raise self.fail("a positional argument cannot follow a keyword argument", bad.pos)
        # rsi(14) means rsi(close, 14): skip an omitted source series
        if (
            params
            and params[0].kind == "series"
            and not params[0].required
            and positional
            and isinstance(positional[0].value, (ast.Number, ast.Duration))
            and len(params) > 1
            and params[1].kind in ("int", "number", "period")
        ):
            start = 1
        else:
            start = 0
        slots: dict[str, tuple[Any, ast.Pos]] = {}
        usable = params[start:]
        if len(positional) > len(usable):
            extra = positional[len(usable)]
            raise self.fail(
                f"{fn.name}() takes at most {len(usable)} argument{'s' if len(usable) != 1 else ''}",
                extra.pos,
                f"usage: {fn.signature()}",
            )
        for p, a in zip(usable, positional, strict=False):
            slots[p.name] = (a.value, a.pos)
        names = [p.name for p in params]
        for a in keywords:
            assert a.name is not None
            if a.name not in names:
                hint = did_you_mean(a.name, names) or f"usage: {fn.signature()}"
                raise self.fail(f"{fn.name}() has no parameter {a.name!r}", a.pos, hint)
            if a.name in slots:
                raise self.fail(f"{fn.name}() got {a.name!r} twice", a.pos)
            slots[a.name] = (a.value, a.pos)
        out = []
        for p in params:
            if p.name in slots:
                out.append(slots[p.name])
            elif p.required:
                raise self.fail(f"{fn.name}() needs {p.name!r}", pos, f"usage: {fn.signature()}")
            else:
                out.append((_DEFAULT, pos))
        return out

    def argument(self, fn: Fn, p: Param, value: Any, at: ast.Pos) -> Any:
        if value is _DEFAULT:
            if p.kind == "series":
                return self.call(str(p.default), (), at)
            if p.kind == "period":
                return Period(int(p.default), None)
            return p.default
        where = f"{fn.name}(): {p.name}"
        if p.kind in ("series", "condition"):
            ir = self.check(value)
            want = Type.BOOL if p.kind == "condition" else None
            if want is Type.BOOL and ir.type is not Type.BOOL:
                raise self.fail(f"{where} must be a condition, got a {ir.type.value}", at)
            if want is None and not ir.type.numeric:
                raise self.fail(f"{where} must be a number or series, got a {ir.type.value}", at)
            return ir
        if p.kind == "text":
            if not isinstance(value, ast.String):
                raise self.fail(f"{where} must be text in quotes", at)
            if fn.name == "pattern" and candlesticks.lookup(value.value) is None:
                hint = candlesticks.suggest(value.value)
                raise self.fail(
                    f"unknown candlestick pattern {value.value!r}",
                    value.pos,
                    f"did you mean {hint[0]!r}?"
                    if hint
                    else "names are listed in mantra.quant.patterns.candlesticks",
                )
            return candlesticks.normalize(value.value)
        if p.kind == "period":
            if isinstance(value, ast.Duration):
                return self.period(value)
            number = self.constant(value, where)
            if number != int(number) or number < 1:
                raise self.fail(f"{where} must be a whole number of bars or a duration like 1d", at)
            return Period(int(number), None)
        number = self.constant(value, where)
        if p.kind == "int" and number != int(number):
            raise self.fail(f"{where} must be a whole number, got {number:g}", at)
        if (p.low is not None and number < p.low) or (p.high is not None and number > p.high):
            raise self.fail(f"{where} must be between {p.low:g} and {p.high:g}, got {number:g}", at)
        return int(number) if p.kind == "int" else float(number)

    def constant(self, value: ast.Node, where: str) -> float:
        ir = self.check(value)
        if not isinstance(ir, Const) or ir.type is not Type.NUMBER:
            raise self.fail(f"{where} must be a constant number", value.pos)
        return float(ir.value)  # type: ignore[arg-type]

    def period(self, d: ast.Duration) -> Period:
        if d.count < 1:
            raise self.fail("a duration must be at least 1", d.pos)
        tf = DURATION_TF[d.unit]
        count = d.count * (WEEK_SESSIONS if d.unit == "w" else 1)
        if d.unit == "m":
            for cand in ("15m", "5m"):
                if d.count % int(cand[:-1]) == 0:
                    tf, count = cand, d.count // int(cand[:-1])
                    break
        if tf not in TIMEFRAMES_MS:  # pragma: no cover
            raise self.fail(f"unsupported duration {d.text}", d.pos)
        return Period(count, tf)


_DEFAULT = object()


def _walk_needs(node: IR, tf: str, needs: dict[str, int], seen: set[tuple[str, str]]) -> int:
    """Bars of history ``node`` needs on ``tf``; records the needs of other timeframes in ``needs``."""
    own = 0
    match node:
        case Const():
            return 0
        case OnTf():
            inner = _walk_needs(node.operand, node.timeframe, needs, seen)
            needs[node.timeframe] = max(needs.get(node.timeframe, 0), inner + 2)
            return 0
        case Apply():
            consts = {
                p.name: v for p, v in zip(node.fn.params, node.args, strict=True) if not hasattr(v, "key")
            }
            lb = node.fn.lookback(tf=tf, **consts)
            if isinstance(lb, dict):
                for k, v in lb.items():
                    if k in ("", tf):
                        own = max(own, v)
                    else:
                        needs[k] = max(needs.get(k, 0), v + 2)
            else:
                own = lb
        case Crossing():
            own = 2
    kids = [a for a in _children(node)]
    deepest = max((_walk_needs(k, tf, needs, seen) for k in kids), default=0)
    return own + deepest


def _children(node: IR) -> list[IR]:
    from mantra.quant.scanner.types import children

    return list(children(node))


def _cost(node: IR, seen: set[str]) -> int:
    """Sum of the costs of distinct sub-expressions (a repeated one is computed once)."""
    key = f"{type(node).__name__}:{getattr(node, 'key', '')}"
    if key in seen:
        return 0
    seen.add(key)
    own = {Const: 0, Apply: -1, OnTf: 0}.get(type(node), 1)
    if isinstance(node, Apply):
        own = node.fn.cost
    if isinstance(node, Crossing):
        own = 2
    return own + sum(_cost(k, seen) for k in _children(node))


def _functions(node: IR, acc: set[str]) -> set[str]:
    if isinstance(node, Apply):
        acc.add(node.fn.name)
    for k in _children(node):
        _functions(k, acc)
    return acc


def _timeframes(node: IR, acc: set[str]) -> set[str]:
    if isinstance(node, OnTf):
        acc.add(node.timeframe)
    for k in _children(node):
        _timeframes(k, acc)
    return acc


def check(tree: ast.Node, source: str, base: str) -> Checked:
    checker = Checker(source, base)
    ir = checker.check(tree)
    if ir.type is not Type.BOOL:
        raise checker.fail(
            f"a scan must be a condition (true or false), but this is a {ir.type.value}",
            tree.pos,
            "compare it with something, e.g. rsi(14) < 30",
        )
    needs: dict[str, int] = {}
    base_bars = _walk_needs(ir, base, needs, set())
    needs[base] = max(needs.get(base, 0), base_bars + 2)
    tfs = frozenset(_timeframes(ir, set()) - {base})
    period_tfs = {k for k in needs if k != base}
    extra = len(tfs | period_tfs)
    cost = _cost(ir, set()) + TIMEFRAME_COST * extra + sum(v // 500 for v in needs.values())
    return Checked(
        ir=ir,
        source=source,
        base=base,
        needs=needs,
        cost=cost,
        timeframes=frozenset(tfs | period_tfs),
        functions=frozenset(_functions(ir, set())),
    )
