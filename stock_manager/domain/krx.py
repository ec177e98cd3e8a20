"""KRX price rules: the tick table (호가가격단위) and the daily price limits (가격제한폭).

Facts: ``shared/reference/krx.md`` §2-§3. The tick depends on the price level of the order
itself; the unified table has applied to KOSPI, KOSDAQ and KONEX since 2023-01-25.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from enum import Enum

from stock_manager.domain.errors import InvalidPrice

# (lower bound inclusive, tick) in ascending order.
TICK_TABLE: tuple[tuple[int, int], ...] = (
    (0, 1),
    (2_000, 5),
    (5_000, 10),
    (20_000, 50),
    (50_000, 100),
    (200_000, 500),
    (500_000, 1_000),
)

DEFAULT_LIMIT_RATE = Decimal("0.30")


class Rounding(Enum):
    DOWN = "down"
    UP = "up"


def tick_size(price: int) -> int:
    """The tick for an order at ``price`` won."""
    if price <= 0:
        raise InvalidPrice(f"price must be positive, got {price}")
    tick = TICK_TABLE[0][1]
    for lower, size in TICK_TABLE:
        if price < lower:
            break
        tick = size
    return tick


def is_on_tick(price: int) -> bool:
    return price > 0 and price % tick_size(price) == 0


def round_to_tick(price: int | Decimal, rounding: Rounding = Rounding.DOWN) -> int:
    """Round ``price`` onto the tick grid, down (never overpay to sell) or up (marketable buy).

    Tier bounds are multiples of the larger tick, so stepping to the next multiple of the
    current tier's tick always lands on a valid price.
    """
    if price <= 0:
        raise InvalidPrice(f"price must be positive, got {price}")
    if rounding is Rounding.DOWN:
        whole = int(Decimal(price).to_integral_value(rounding=ROUND_FLOOR))
        return whole - whole % tick_size(whole)
    whole = int(Decimal(price).to_integral_value(rounding=ROUND_CEILING))
    remainder = whole % tick_size(whole)
    return whole if remainder == 0 else whole + tick_size(whole) - remainder


def ticks_away(price: int, steps: int) -> int:
    """The price ``steps`` ticks above (positive) or below (negative) an on-tick price."""
    current = price
    for _ in range(abs(steps)):
        if steps > 0:
            current += tick_size(current)
        elif current > 1:
            current -= tick_size(current - 1)
    return current


@dataclass(frozen=True, slots=True)
class PriceLimits:
    """The day's upper (상한가) and lower (하한가) limit for one symbol."""

    base: int
    upper: int
    lower: int

    def contains(self, price: int) -> bool:
        return self.lower <= price <= self.upper

    def check(self, price: int) -> None:
        """Raise :class:`InvalidPrice` unless ``price`` is on tick and within the limits."""
        if not is_on_tick(price):
            raise InvalidPrice(f"price {price} is not on the tick grid (tick {tick_size(price)})")
        if not self.contains(price):
            raise InvalidPrice(f"price {price} is outside the limits {self.lower}..{self.upper}")


def price_limits(base: int, rate: Decimal = DEFAULT_LIMIT_RATE) -> PriceLimits:
    """KRX's limits for a base price (usually the previous close).

    ``width = floor(base * rate / tick(base)) * tick(base)``; the upper limit is then truncated
    to the tick of its own level; the lower limit is ``base - width``. Base 9,980 gives
    12,970 / 6,990, KRX's own example.
    """
    if base <= 0:
        raise InvalidPrice(f"base price must be positive, got {base}")
    base_tick = tick_size(base)
    width = int(Decimal(base) * rate / base_tick) * base_tick
    raw_upper = base + width
    upper = raw_upper - raw_upper % tick_size(raw_upper)
    lower = max(base - width, 1)
    return PriceLimits(base=base, upper=upper, lower=lower)
