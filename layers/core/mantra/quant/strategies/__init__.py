"""Strategy library and registry: ``get_strategy("sma_cross").resolve({"fast": "10"})``."""

from mantra.quant.strategies.registry import REGISTRY, Param, StrategyError, StrategySpec, get_strategy

__all__ = ["REGISTRY", "Param", "StrategyError", "StrategySpec", "get_strategy"]
