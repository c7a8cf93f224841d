"""Vectorised options maths: Black-Scholes prices and Greeks, implied volatility with a status per contract,
and option-chain analytics (ATM, PCR, max pain, skew). Pure numpy, no I/O."""

from mantra.quant.options.black76 import black76_greeks, black76_implied_vol, black76_price, parity_forward
from mantra.quant.options.black_scholes import Greeks, black_scholes, greeks, years_to_expiry
from mantra.quant.options.chain import (
    BUILDUPS,
    IvStanding,
    Skew,
    atm_index,
    buildup,
    iv_standing,
    max_pain,
    max_pain_exact,
    oi_change,
    put_call_ratio,
    skew,
)
from mantra.quant.options.implied_vol import IVResult, IVStatus, implied_vol
from mantra.quant.options.normal import norm_cdf, norm_pdf

__all__ = [
    "BUILDUPS",
    "Greeks",
    "IVResult",
    "IVStatus",
    "IvStanding",
    "Skew",
    "atm_index",
    "black76_greeks",
    "black76_implied_vol",
    "black76_price",
    "black_scholes",
    "buildup",
    "greeks",
    "implied_vol",
    "iv_standing",
    "max_pain",
    "max_pain_exact",
    "norm_cdf",
    "norm_pdf",
    "oi_change",
    "parity_forward",
    "put_call_ratio",
    "skew",
    "years_to_expiry",
]
