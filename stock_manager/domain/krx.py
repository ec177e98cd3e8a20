"""KRX price rules: the tick table (호가가격단위) and the daily price limits (가격제한폭).

Facts: ``shared/reference/krx.md`` §2-§3. The tick depends on the price level of the order
itself and on the instrument: the unified stock table has applied to KOSPI, KOSDAQ and KONEX
since 2023-01-25; ETFs and ETNs tick 1 won below 2,000 and 5 won from 2,000 (🟡 announced
for 2023-12-18). Every function takes the :class:`InstrumentKind` (default: stock).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from enum import Enum

from stock_manager.domain.errors import InvalidPrice
from stock_manager.domain.instruments import Instrument, InstrumentKind

_STOCK = InstrumentKind.STOCK

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
ETP_TICK_TABLE: tuple[tuple[int, int], ...] = ((0, 1), (2_000, 5))

DEFAULT_LIMIT_RATE = Decimal("0.30")


class Rounding(Enum):
    DOWN = "down"
    UP = "up"


def tick_table(kind: InstrumentKind = _STOCK) -> tuple[tuple[int, int], ...]:
    return ETP_TICK_TABLE if kind.is_exchange_traded_product else TICK_TABLE


def tick_size(price: int, kind: InstrumentKind = _STOCK) -> int:
    """The tick for an order at ``price`` won of an instrument of ``kind``."""
    if price <= 0:
        raise InvalidPrice(f"price must be positive, got {price}")
    table = tick_table(kind)
    tick = table[0][1]
    for lower, size in table:
        if price < lower:
            break
        tick = size
    return tick


def is_on_tick(price: int, kind: InstrumentKind = _STOCK) -> bool:
    return price > 0 and price % tick_size(price, kind) == 0


def round_to_tick(
    price: int | Decimal, rounding: Rounding = Rounding.DOWN, kind: InstrumentKind = _STOCK
) -> int:
    """Round ``price`` onto the tick grid, down (never overpay to sell) or up (marketable buy).

    Tier bounds are multiples of the larger tick, so stepping to the next multiple of the
    current tier's tick always lands on a valid price.
    """
    if price <= 0:
        raise InvalidPrice(f"price must be positive, got {price}")
    if rounding is Rounding.DOWN:
        whole = int(Decimal(price).to_integral_value(rounding=ROUND_FLOOR))
        return whole - whole % tick_size(whole, kind)
    whole = int(Decimal(price).to_integral_value(rounding=ROUND_CEILING))
    remainder = whole % tick_size(whole, kind)
    return whole if remainder == 0 else whole + tick_size(whole, kind) - remainder


def ticks_away(price: int, steps: int, kind: InstrumentKind = _STOCK) -> int:
    """The price ``steps`` ticks above (positive) or below (negative) an on-tick price."""
    current = price
    for _ in range(abs(steps)):
        if steps > 0:
            current += tick_size(current, kind)
        elif current > 1:
            current -= tick_size(current - 1, kind)
    return current


@dataclass(frozen=True, slots=True)
class PriceLimits:
    """The day's upper (상한가) and lower (하한가) limit for one symbol."""

    base: int
    upper: int
    lower: int
    kind: InstrumentKind = _STOCK

    def contains(self, price: int) -> bool:
        return self.lower <= price <= self.upper

    def check(self, price: int) -> None:
        """Raise :class:`InvalidPrice` unless ``price`` is on tick and within the limits."""
        if not is_on_tick(price, self.kind):
            tick = tick_size(price, self.kind)
            raise InvalidPrice(f"price {price} is not on the tick grid (tick {tick})")
        if not self.contains(price):
            raise InvalidPrice(f"price {price} is outside the limits {self.lower}..{self.upper}")


def price_limits(
    base: int, rate: Decimal = DEFAULT_LIMIT_RATE, kind: InstrumentKind = _STOCK
) -> PriceLimits:
    """KRX's limits for a base price (usually the previous close) of an instrument of ``kind``.

    ``width = floor(base * rate / tick(base)) * tick(base)``; the upper limit is then truncated
    to the tick of its own level; the lower limit is ``base - width``. Base 9,980 gives
    12,970 / 6,990, KRX's own example. A leveraged ETF passes ``rate`` times its multiple
    (:func:`limit_rate`).
    """
    if base <= 0:
        raise InvalidPrice(f"base price must be positive, got {base}")
    base_tick = tick_size(base, kind)
    width = int(Decimal(base) * rate / base_tick) * base_tick
    raw_upper = base + width
    upper = raw_upper - raw_upper % tick_size(raw_upper, kind)
    lower = max(base - width, 1)
    return PriceLimits(base=base, upper=upper, lower=lower, kind=kind)


def instrument_limits(base: int, instrument: Instrument) -> PriceLimits:
    """The day's limits of ``instrument``: its tick table, and ±30 % times a leveraged ETF's
    multiple (krx.md §3)."""
    rate = DEFAULT_LIMIT_RATE * instrument.limit_multiple
    return price_limits(base, rate, instrument.kind)
