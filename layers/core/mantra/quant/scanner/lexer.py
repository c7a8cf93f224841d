"""Tokens of the scanner language, each with its 1-based line and column.

    rsi(14) < 30 and close > sma(close, 200)
    [15m] ema(close, 9) crosses above [15m] ema(close, 21)
    pattern("hammer") and change_pct(1d) > 2

Numbers (``2``, ``1.5``, ``.5``), durations (``1d``, ``15m``, ``52w``: a whole number glued to a unit), strings in
single or double quotes, identifiers, operators, parentheses, brackets and commas. ``#`` starts a comment.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from mantra.quant.scanner.errors import ScanSyntaxError


class T(Enum):
    NUMBER = "number"
    DURATION = "duration"
    STRING = "string"
    IDENT = "name"
    OP = "operator"
    LPAREN = "'('"
    RPAREN = "')'"
    LBRACKET = "'['"
    RBRACKET = "']'"
    COMMA = "','"
    EOF = "end of expression"


KEYWORDS = frozenset({"and", "or", "not", "crosses", "above", "below", "true", "false"})
DURATION_UNITS = frozenset({"m", "h", "d", "w"})
OPERATORS = ("<=", ">=", "==", "!=", "&&", "||", "<", ">", "+", "-", "*", "/", "=", "!")
SINGLE = {"(": T.LPAREN, ")": T.RPAREN, "[": T.LBRACKET, "]": T.RBRACKET, ",": T.COMMA}
MAX_SOURCE_CHARS = 4000


@dataclass(frozen=True, slots=True)
class Token:
    kind: T
    text: str
    line: int
    col: int

    def describe(self) -> str:
        if self.kind is T.EOF:
            return "the end of the expression"
        return f"{self.text!r}"


def tokenize(source: str) -> list[Token]:
    if len(source) > MAX_SOURCE_CHARS:
        raise ScanSyntaxError(
            f"expression is {len(source)} characters long; the limit is {MAX_SOURCE_CHARS}", 1, 1, source
        )
    tokens: list[Token] = []
    i, line, line_start, n = 0, 1, 0, len(source)

    def err(reason: str, at: int, hint: str | None = None) -> ScanSyntaxError:
        return ScanSyntaxError(reason, line, at - line_start + 1, source, hint)

    while i < n:
        ch = source[i]
        col = i - line_start + 1
        if ch == "\n":
            i += 1
            line, line_start = line + 1, i
            continue
        if ch in " \t\r":
            i += 1
            continue
        if ch == "#":
            while i < n and source[i] != "\n":
                i += 1
            continue
        if ch.isdigit() or (ch == "." and i + 1 < n and source[i + 1].isdigit()):
            j = i
            while j < n and source[j].isdigit():
                j += 1
            is_int = True
            if j < n and source[j] == "." and j + 1 < n and source[j + 1].isdigit():
                is_int = False
                j += 1
                while j < n and source[j].isdigit():
                    j += 1
            if j < n and (source[j].isalpha() or source[j] == "_"):
                k = j
                while k < n and (source[k].isalnum() or source[k] == "_"):
                    k += 1
                unit = source[j:k]
                if is_int and unit in DURATION_UNITS:
                    tokens.append(Token(T.DURATION, source[i:k], line, col))
                    i = k
                    continue
                raise err(
                    f"unexpected {source[i:k]!r}",
                    i,
                    "a duration is a whole number and one of m, h, d, w, e.g. 15m or 1d",
                )
            tokens.append(Token(T.NUMBER, source[i:j], line, col))
            i = j
            continue
        if ch.isalpha() or ch == "_":
            j = i
            while j < n and (source[j].isalnum() or source[j] == "_"):
                j += 1
            tokens.append(Token(T.IDENT, source[i:j], line, col))
            i = j
            continue
        if ch in "\"'":
            j = i + 1
            while j < n and source[j] != ch and source[j] != "\n":
                j += 1
            if j >= n or source[j] != ch:
                raise err(f"unterminated string: expected a closing {ch}", i)
            tokens.append(Token(T.STRING, source[i + 1 : j], line, col))
            i = j + 1
            continue
        if ch in SINGLE:
            tokens.append(Token(SINGLE[ch], ch, line, col))
            i += 1
            continue
        op = next((o for o in OPERATORS if source.startswith(o, i)), None)
        if op is None:
            raise err(f"unexpected character {ch!r}", i)
        tokens.append(Token(T.OP, op, line, col))
        i += len(op)
    tokens.append(Token(T.EOF, "", line, n - line_start + 1))
    return tokens
