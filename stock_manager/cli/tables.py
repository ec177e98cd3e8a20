"""Tables shared by ``status`` and the demo's dashboard."""

from __future__ import annotations

from collections.abc import Iterable

from rich.table import Table

from stock_manager.domain.orders import Order


def orders_table(
    orders: Iterable[Order], title: str = "open orders", expand: bool = False
) -> Table:
    table = Table(
        "id",
        "symbol",
        "side",
        "type",
        "qty",
        "price",
        "filled",
        "status",
        "odno",
        title=title,
        title_justify="left",
        expand=expand,
    )
    for o in orders:
        table.add_row(
            str(o.id),
            o.symbol,
            o.side.value,
            o.order_type.name,
            f"{o.quantity:,}",
            f"{o.price:,}",
            f"{o.filled_quantity:,}",
            o.status.value,
            o.broker_order_no or "-",
        )
    return table
