"""A Pratt parser for the scanner language. No eval, no Python: tokens in, a syntax tree out.

Binding powers, loosest first::

    or  (also ||)                      10
    and (also &&)                      20
    not (prefix)                       30
    < <= > >= == !=, crosses above/below   40   (not chained: a < b < c is an error)
    + -                                50
    * /                                60
    - (prefix), [tf] (prefix)          70

``[15m] expr`` applies the timeframe to the operand that follows it (a call, a name, or a parenthesised
expression), so ``[15m] ema(close, 9) crosses above [15m] ema(close, 21)`` reads as two 15-minute EMAs.
"""

from __future__ import annotations

from mantra.market.timeframes import TIMEFRAMES_MS
from mantra.quant.scanner.errors import ScanSyntaxError
from mantra.quant.scanner.lexer import KEYWORDS, T, Token, tokenize
from mantra.quant.scanner.nodes import (
    Arg,
    Binary,
    Bool,
    Call,
    Cross,
    Duration,
    Name,
    Node,
    Number,
    OnTimeframe,
    Pos,
    String,
    Unary,
)

COMPARISONS = frozenset({"<", "<=", ">", ">=", "==", "!="})
INFIX_BP = {"or": 10, "||": 10, "and": 20, "&&": 20, "+": 50, "-": 50, "*": 60, "/": 60}
COMPARE_BP = 40
PREFIX_BP = 70
NOT_BP = 30
MAX_DEPTH = 64


class Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = tokenize(source)
        self.i = 0
        self.depth = 0

    # helpers
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        t = self.tokens[self.i]
        if t.kind is not T.EOF:
            self.i += 1
        return t

    def error(self, reason: str, at: Token | None = None, hint: str | None = None) -> ScanSyntaxError:
        t = at or self.tok
        return ScanSyntaxError(reason, t.line, t.col, self.source, hint)

    def expected(self, what: str, hint: str | None = None) -> ScanSyntaxError:
        return self.error(f"expected {what}, found {self.tok.describe()}", hint=hint)

    def is_word(self, word: str) -> bool:
        return self.tok.kind is T.IDENT and self.tok.text.lower() == word

    def expect(self, kind: T, what: str) -> Token:
        if self.tok.kind is not kind:
            raise self.expected(what)
        return self.advance()

    # grammar
    def parse(self) -> Node:
        if self.tok.kind is T.EOF:
            raise self.error("the expression is empty", hint="e.g. rsi(14) < 30")
        node = self.expression(0)
        if self.tok.kind is not T.EOF:
            if self.tok.kind is T.RPAREN:
                raise self.error("unmatched ')'")
            raise self.expected("an operator ('and', 'or', a comparison, '+', ...) or the end")
        return node

    def expression(self, min_bp: int) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"the expression nests deeper than {MAX_DEPTH} levels")
        left = self.prefix()
        compared = False
        while True:
            t = self.tok
            word = t.text.lower() if t.kind is T.IDENT else None
            if (t.kind is T.OP and t.text in COMPARISONS) or word == "crosses":
                if compared or min_bp == COMPARE_BP:
                    raise self.error("comparisons cannot be chained", hint="write 'a < b and b < c' instead")
                if min_bp > COMPARE_BP:
                    break
                left = self.comparison(left)
                compared = True
                continue
            if t.kind is T.OP and t.text == "=":
                raise self.error("'=' is not a comparison", hint="use '==' to test equality")
            op = word if word in ("and", "or") else (t.text if t.kind is T.OP else None)
            bp = INFIX_BP.get(op) if op else None
            if bp is None or bp <= min_bp:
                break
            self.advance()
            right = self.expression(bp)
            canonical = {"&&": "and", "||": "or"}.get(op, op) if op else ""
            left = Binary(canonical, left, right, _pos(t))
        self.depth -= 1
        return left

    def comparison(self, left: Node) -> Node:
        t = self.advance()
        if t.kind is T.IDENT:  # crosses above|below
            if self.is_word("above") or self.is_word("below"):
                direction = self.advance().text.lower()
            else:
                raise self.expected("'above' or 'below' after 'crosses'")
            right = self.expression(COMPARE_BP)
            return Cross(direction, left, right, _pos(t))
        right = self.expression(COMPARE_BP)
        return Binary(t.text, left, right, _pos(t))

    def prefix(self) -> Node:
        t = self.tok
        if t.kind is T.NUMBER:
            self.advance()
            return Number(float(t.text), t.text, _pos(t))
        if t.kind is T.DURATION:
            self.advance()
            return Duration(int(t.text[:-1]), t.text[-1], _pos(t))
        if t.kind is T.STRING:
            self.advance()
            return String(t.text, _pos(t))
        if t.kind is T.LPAREN:
            self.advance()
            inner = self.expression(0)
            if self.tok.kind is not T.RPAREN:
                raise self.expected("')'")
            self.advance()
            return inner
        if t.kind is T.LBRACKET:
            return self.timeframe()
        if t.kind is T.OP and t.text == "-":
            self.advance()
            return Unary("-", self.expression(PREFIX_BP), _pos(t))
        if t.kind is T.OP and t.text == "!":
            self.advance()
            return Unary("not", self.expression(NOT_BP), _pos(t))
        if t.kind is T.IDENT:
            word = t.text.lower()
            if word == "not":
                self.advance()
                return Unary("not", self.expression(NOT_BP), _pos(t))
            if word in ("true", "false"):
                self.advance()
                return Bool(word == "true", _pos(t))
            if word in KEYWORDS:
                raise self.error(f"expected a value, found the keyword {word!r}")
            self.advance()
            if self.tok.kind is T.LPAREN:
                return self.call(t)
            return Name(word, _pos(t))
        if t.kind is T.RPAREN:
            raise self.expected("a value", hint="an empty pair of parentheses or a missing operand")
        raise self.expected("a value (a number, a name like close, or a function call like rsi(14))")

    def timeframe(self) -> Node:
        open_ = self.advance()
        t = self.tok
        if t.kind is not T.DURATION or t.text not in TIMEFRAMES_MS:
            raise self.expected("a timeframe", hint=f"one of {', '.join(TIMEFRAMES_MS)}, e.g. [15m]")
        self.advance()
        self.expect(T.RBRACKET, "']'")
        operand = self.expression(PREFIX_BP)
        return OnTimeframe(t.text, operand, _pos(open_))

    def call(self, name: Token) -> Node:
        self.advance()  # (
        args: list[Arg] = []
        if self.tok.kind is not T.RPAREN:
            while True:
                start = self.tok
                keyword = None
                if (
                    start.kind is T.IDENT
                    and self.tokens[self.i + 1].kind is T.OP
                    and self.tokens[self.i + 1].text == "="
                ):
                    keyword = start.text.lower()
                    self.advance()
                    self.advance()
                value = self.expression(0)
                args.append(Arg(value, keyword, _pos(start)))
                if self.tok.kind is T.COMMA:
                    self.advance()
                    continue
                if self.tok.kind is not T.RPAREN:
                    raise self.expected("',' or ')'")
                break
        self.advance()  # )
        return Call(name.text.lower(), tuple(args), _pos(name))


def _pos(t: Token) -> Pos:
    return Pos(t.line, t.col)


def parse(source: str) -> Node:
    """Source text -> syntax tree, or ``ScanSyntaxError`` naming the line, the column and what was expected."""
    return Parser(source).parse()
