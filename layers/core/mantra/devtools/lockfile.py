"""The lock file ``mantra dev`` keeps in its data folder: which process runs the platform and on which ports.

Every other command reads it, so moving a port (``MANTRA_API_PORT=9000 mantra dev``) needs no variable exported
anywhere else. Kept light: the CLI reads it on every start."""

from __future__ import annotations

import json
import os
from pathlib import Path

PORTS = ("api_port", "dynamodb_port", "kinesis_port", "moto_port", "stripe_port", "smtp_port")
LOCK_NAME = "dev.lock"


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def read(data_dir: Path) -> dict[str, object]:
    try:
        info = json.loads((data_dir.resolve() / LOCK_NAME).read_text())
    except (OSError, ValueError):
        return {}
    return info if isinstance(info, dict) else {}


def running_platform_env(data_dir: Path) -> dict[str, str]:
    """The ports of the platform running on ``data_dir``, as the settings' variables; empty when none runs."""
    info = read(data_dir)
    pid = info.get("pid")
    if not isinstance(pid, int) or not alive(pid):
        return {}
    ports = info.get("ports")
    if not isinstance(ports, dict):
        return {}
    return {f"MANTRA_{name.upper()}": str(int(ports[name])) for name in PORTS if name in ports}
