"""The README's walkthrough, run as written against the running platform: its commands come from the README
itself (the only change: curl is pointed at this platform's port, which the CLI finds on its own from the lock
file), and what they print is what the README promises."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

from conftest import Platform, wait_for

REPO = Path(__file__).resolve().parents[2]


def walkthrough() -> list[str]:
    text = (REPO / "README.md").read_text()
    block = next(b for b in re.findall(r"```bash\n(.*?)```", text, re.S) if "mantra token" in b)
    return [line for line in block.splitlines() if line.strip()]


def test_the_readme_walkthrough_works_as_written(platform: Platform) -> None:
    lines = walkthrough()
    assert any("mantra demo alert RELIANCE" in line for line in lines)
    port = platform.port("API")
    script = "set -e\n" + "\n".join(line.replace("localhost:8000", f"localhost:{port}") for line in lines)
    # the CLI is given only the data folder: ports come from the platform's lock file there
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MANTRA_", "AWS_"))}
    env["MANTRA_DATA_DIR"] = str(platform.data_dir)
    out = subprocess.run(
        ["bash", "-c", script], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stdout + out.stderr
    printed = out.stdout
    quote, _ = json.JSONDecoder().raw_decode(printed)  # curl ends its answer without a newline
    assert quote["symbol"] == "RELIANCE" and quote["ltp"]
    ids = re.findall(r"(alr_\w+)\s+crosses (?:above|below)", printed)
    assert len(ids) == 2, printed

    # and one of the two fires on the next move, as the README says
    api = platform.client(platform.token())

    def fired() -> list[dict[str, object]] | None:
        notes = [n for n in api.get("/api/notifications").json() if n["data"].get("alert_id") in ids]
        return notes or None

    notes = wait_for(fired, timeout_s=60, every_s=0.5)
    assert notes[0]["kind"] == "alert.triggered" and "RELIANCE crossed" in notes[0]["title"]
