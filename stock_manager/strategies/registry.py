"""Strategies by name, selected with the ``STRATEGIES`` setting."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from stock_manager.strategies.base import Strategy
from stock_manager.strategies.bollinger import BollingerReversion
from stock_manager.strategies.momentum import MomentumBreakout

REGISTRY: dict[str, Callable[..., Strategy]] = {
    "momentum_breakout": MomentumBreakout,
    "bollinger_reversion": BollingerReversion,
}


class UnknownStrategy(ValueError):
    pass


def register(name: str, factory: Callable[..., Strategy]) -> None:
    """Make a custom strategy selectable by name."""
    REGISTRY[name] = factory


def build(
    names: Sequence[str], params: Mapping[str, Mapping[str, Any]] | None = None
) -> list[Strategy]:
    """Instantiate strategies by name, each with its parameters from ``params[name]``."""
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        raise UnknownStrategy(
            f"STRATEGIES: unknown {', '.join(unknown)}; known: {', '.join(sorted(REGISTRY))}"
        )
    return [REGISTRY[name](**dict((params or {}).get(name, {}))) for name in names]
