"""Vectorised options maths: Black-Scholes prices and Greeks, implied volatility with a status per contract,
and option-chain analytics (ATM, PCR, max pain, skew). Pure numpy, no I/O."""

from mantra.quant.options.black_scholes import Greeks, black_scholes, greeks, years_to_expiry
from mantra.quant.options.chain import Skew, atm_index, max_pain, oi_change, put_call_ratio, skew
from mantra.quant.options.implied_vol import IVResult, IVStatus, implied_vol
from mantra.quant.options.normal import norm_cdf, norm_pdf

__all__ = [
    "Greeks",
    "IVResult",
    "IVStatus",
    "Skew",
    "atm_index",
    "black_scholes",
    "greeks",
    "implied_vol",
    "max_pain",
    "norm_cdf",
    "norm_pdf",
    "oi_change",
    "put_call_ratio",
    "skew",
    "years_to_expiry",
]
