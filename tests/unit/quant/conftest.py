from __future__ import annotations

import pytest
from mantra.quant.backtest.data import Bars
from quant_helpers import random_bars


@pytest.fixture
def bars() -> Bars:
    return random_bars()
