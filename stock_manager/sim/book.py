"""A synthetic 10-level order book around the last trade, on the tick grid, inside the limits.

The last trade sits on the side it hit: a buyer-initiated trade leaves the best ask at its
price, a seller-initiated one the best bid. Level sizes come from a hash of the symbol's
trade count, so they are deterministic and need no draws from the price generator. Our own
orders take displayed size away until the next trade redraws the book; they do not move
the price.
"""

from __future__ import annotations

from dataclasses import dataclass

from stock_manager.domain.instruments import InstrumentKind
from stock_manager.domain.krx import PriceLimits, tick_size

LEVELS = 10


@dataclass(slots=True)
class Book:
    asks: list[int]  # ask1..ask10, 0 where the limit leaves no level
    ask_qty: list[int]
    bids: list[int]
    bid_qty: list[int]

    @property
    def total_ask(self) -> int:
        return sum(self.ask_qty)

    @property
    def total_bid(self) -> int:
        return sum(self.bid_qty)

    def best(self, buy: bool) -> int:
        """The best price an aggressive order of this side meets (0 if none)."""
        for price, qty in zip(*(self.sides(buy)), strict=True):
            if price and qty:
                return price
        return 0

    def best_same_side(self, buy: bool) -> int:
        return self.bids[0] if buy else self.asks[0]

    def sides(self, buy: bool) -> tuple[list[int], list[int]]:
        """Prices and sizes an aggressive order of this side takes from."""
        return (self.asks, self.ask_qty) if buy else (self.bids, self.bid_qty)


def up(price: int, kind: InstrumentKind = InstrumentKind.STOCK) -> int:
    return price + tick_size(price, kind)


def down(price: int, kind: InstrumentKind = InstrumentKind.STOCK) -> int:
    return price - tick_size(price - 1, kind) if price > 1 else 0


def nearest_tick(price: float, kind: InstrumentKind = InstrumentKind.STOCK) -> int:
    """The on-tick price nearest to ``price`` (at least 1 won) on ``kind``'s grid."""
    whole = max(1, int(price))
    tick = tick_size(whole, kind)
    lower = whole - whole % tick
    return lower + tick if price - lower >= tick / 2 else lower


def to_tick(price: float, limits: PriceLimits) -> int:
    """The nearest on-tick price (the limits' instrument grid), kept inside the limits."""
    return min(limits.upper, max(limits.lower, nearest_tick(price, limits.kind)))


def _mix(value: int) -> int:
    value = (value ^ (value >> 16)) * 0x45D9F3B & 0xFFFFFFFF
    value = (value ^ (value >> 16)) * 0x45D9F3B & 0xFFFFFFFF
    return value ^ (value >> 16)


def _size(salt: int, level: int, base: float) -> int:
    jitter = (_mix(salt * 31 + level) % 1000) / 1000.0
    return max(1, int(base * (1.0 + 0.35 * level) * (0.5 + jitter)))


def build_book(
    last: int, buyer_initiated: bool, limits: PriceLimits, base_qty: float, salt: int
) -> Book:
    kind = limits.kind
    if buyer_initiated:
        ask, bid = last, down(last, kind)
    else:
        ask, bid = up(last, kind), last
    asks, ask_qty, bids, bid_qty = [], [], [], []
    for level in range(LEVELS):
        on_ask = 0 < ask <= limits.upper
        asks.append(ask if on_ask else 0)
        ask_qty.append(_size(salt, level, base_qty) if on_ask else 0)
        on_bid = bid > 0 and bid >= limits.lower
        bids.append(bid if on_bid else 0)
        bid_qty.append(_size(salt, level + LEVELS, base_qty) if on_bid else 0)
        ask = up(ask, kind) if on_ask else 0
        bid = down(bid, kind) if on_bid else 0
    return Book(asks, ask_qty, bids, bid_qty)
