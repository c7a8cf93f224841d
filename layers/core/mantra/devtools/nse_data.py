"""Where the local platform finds the exchange's real daily reports (the repository's shared/data/nse)."""

from __future__ import annotations

from pathlib import Path

from mantra.settings import Settings


def nse_reports_dir(settings: Settings) -> Path | None:
    """``MANTRA_NSE_DATA_DIR``, else the first ``shared/data/nse`` beside this checkout or one of its parents."""
    if settings.nse_data_dir is not None:
        return settings.nse_data_dir if settings.nse_data_dir.is_dir() else None
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "data" / "nse"
        if candidate.is_dir():
            return candidate
    return None
