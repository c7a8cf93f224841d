"""Call a catalog function's handler in-process, as Lambda would (with a Lambda-like context)."""

from __future__ import annotations

import importlib
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from mantra.catalog import FunctionSpec


@dataclass
class LocalContext:
    function_name: str
    memory_limit_in_mb: int
    timeout_s: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = "local"
    log_stream_name: str = "local"
    _deadline: float = 0.0

    def __post_init__(self) -> None:
        self.invoked_function_arn = f"arn:aws:lambda:local:000000000000:function:{self.function_name}"
        self._deadline = time.monotonic() + self.timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def handler_of(spec: FunctionSpec) -> Any:
    return getattr(importlib.import_module(spec.module), spec.attribute)


def invoke(spec: FunctionSpec, event: dict[str, Any]) -> Any:
    ctx = LocalContext(spec.name, spec.memory_mb, spec.timeout_s)
    return handler_of(spec)(event, ctx)
