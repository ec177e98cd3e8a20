"""How orders meet the market: crossing the book on arrival and sharing each trade's volume.

- An order that arrives marketable (a buy at or above the best ask, market and 최유리
  orders) takes the displayed book level by level at the levels' prices, up to its limit.
- A resting order fills when the market trades at or through its limit (``fill_on_touch``;
  strictly through otherwise), at its own limit price, sharing the trade's volume with our
  other resting orders in price-then-time priority. Resting market orders take the trade
  price.
- The closing call fills everything that crosses the closing price at that one price.
"""

from __future__ import annotations

from collections.abc import Iterable

from stock_manager.sim.book import Book
from stock_manager.sim.orders import SimOrder

# (order, qty, price)
Allocation = tuple[SimOrder, int, int]


def crosses_book(order: SimOrder, price: int) -> bool:
    if order.limit is None:
        return True
    return price <= order.limit if order.is_buy else price >= order.limit


def take_from_book(order: SimOrder, book: Book, want: int) -> list[tuple[int, int]]:
    """Take up to ``want`` shares from the book within the order's limit: ``(qty, price)``."""
    prices, sizes = book.sides(order.is_buy)
    taken: list[tuple[int, int]] = []
    for level, price in enumerate(prices):
        if want <= 0 or not price:
            break
        if not crosses_book(order, price):
            break
        qty = min(want, sizes[level])
        if qty:
            sizes[level] -= qty
            want -= qty
            taken.append((qty, price))
    return taken


def available_in_book(order: SimOrder, book: Book) -> int:
    """Shares the book offers within the order's limit (the FOK pre-check)."""
    prices, sizes = book.sides(order.is_buy)
    return sum(
        size
        for price, size in zip(prices, sizes, strict=True)
        if price and crosses_book(order, price)
    )


def _crosses_trade(order: SimOrder, price: int, on_touch: bool) -> bool:
    limit = order.limit
    if limit is None:
        return True
    if order.is_buy:
        return price < limit or (on_touch and price == limit)
    return price > limit or (on_touch and price == limit)


def _priority(order: SimOrder) -> tuple[int, int, int]:
    if order.limit is None:
        return (0, 0, order.odno)
    level = -order.limit if order.is_buy else order.limit
    return (1, level, order.odno)


def share_trade(
    orders: Iterable[SimOrder],
    price: int,
    volume: int,
    on_touch: bool,
    uniform: bool = False,
) -> list[Allocation]:
    """Split one market trade's volume among the resting orders it reaches.

    ``uniform`` (the closing call) fills everyone at ``price``; otherwise limit orders fill
    at their own limit and market orders at ``price``.
    """
    eligible = sorted((o for o in orders if _crosses_trade(o, price, on_touch)), key=_priority)
    allocations: list[Allocation] = []
    for order in eligible:
        if volume <= 0:
            break
        qty = min(order.remaining, volume)
        if qty <= 0:
            continue
        volume -= qty
        fill_price = price if uniform or order.limit is None else order.limit
        allocations.append((order, qty, fill_price))
    return allocations
