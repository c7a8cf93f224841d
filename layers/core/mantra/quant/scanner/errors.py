"""Scanner errors that point at the source: line, column, what was found and what was expected.

They subclass ``mantra.errors.Invalid``, so the API answers 422 with the message; the CLI prints the source line
with a caret under the position.
"""

from __future__ import annotations

from mantra.errors import Invalid, LimitExceeded


class ScannerError(Invalid):
    """A scan expression that cannot be compiled. ``line`` and ``col`` are 1-based."""

    kind = "error"

    def __init__(self, reason: str, line: int, col: int, source: str = "", hint: str | None = None) -> None:
        self.reason, self.line, self.col, self.source, self.hint = reason, line, col, source, hint
        text = f"line {line}, col {col}: {reason}"
        if hint:
            text += f" ({hint})"
        super().__init__(text)

    def excerpt(self) -> str:
        """The offending source line with a caret under the error position."""
        lines = self.source.splitlines() or [""]
        text = lines[self.line - 1] if 0 < self.line <= len(lines) else ""
        return f"{text}\n{' ' * max(self.col - 1, 0)}^"


class ScanSyntaxError(ScannerError):
    kind = "syntax"


class ScanTypeError(ScannerError):
    kind = "type"


class ScanTooExpensive(LimitExceeded):
    """The expression's cost is above what the caller's plan allows (403 at the API)."""

    def __init__(self, cost: int, budget: int, plan_name: str) -> None:
        self.cost, self.budget = cost, budget
        super().__init__(
            f"this scan costs {cost} units; your {plan_name} plan allows {budget} per scan: "
            "remove conditions or timeframes, shorten lookbacks, or upgrade"
        )


class ScanDataError(Invalid):
    """The data cannot support the scan (e.g. relative strength without the benchmark index)."""
