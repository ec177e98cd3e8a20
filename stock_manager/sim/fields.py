"""Small KIS field helpers shared by the REST outputs and the WebSocket records."""

from __future__ import annotations

from stock_manager.sim.market import SymbolMarket

# prdy_vrss_sign: 1 상한, 2 상승, 3 보합, 4 하한, 5 하락
UPPER, UP, FLAT, LOWER, DOWN = "1", "2", "3", "4", "5"


def sign(market: SymbolMarket) -> str:
    if market.last >= market.limits.upper:
        return UPPER
    if market.last <= market.limits.lower:
        return LOWER
    return diff_sign(market.last - market.prev_close)


def diff_sign(diff: int) -> str:
    if diff > 0:
        return UP
    return DOWN if diff < 0 else FLAT


def pct(numerator: float, denominator: float) -> str:
    return f"{numerator / denominator * 100.0:.2f}" if denominator else "0.00"


def change_rate(price: int, base: int) -> str:
    return pct(price - base, base)


def strength(market: SymbolMarket) -> str:
    """체결강도: buyer- over seller-initiated volume, in percent."""
    return pct(market.buy_volume, market.sell_volume) if market.sell_volume else "0.00"
