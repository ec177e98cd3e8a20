"""Plain-dict forms of domain values for Celery arguments (JSON, no secrets)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from stock_manager.domain.broker import ExecutionNotice
from stock_manager.domain.orders import Side


def notice_to_wire(n: ExecutionNotice) -> dict[str, Any]:
    return {
        "broker_order_no": n.broker_order_no,
        "original_order_no": n.original_order_no,
        "symbol": n.symbol,
        "side": n.side.value,
        "is_fill": n.is_fill,
        "rejected": n.rejected,
        "quantity": n.quantity,
        "price": n.price,
        "at": n.at.isoformat(),
        "order_quantity": n.order_quantity,
        "accept_only": n.accept_only,
        "sequence": n.sequence,
    }


def notice_from_wire(d: dict[str, Any]) -> ExecutionNotice:
    return ExecutionNotice(
        broker_order_no=str(d["broker_order_no"]),
        original_order_no=str(d.get("original_order_no", "")),
        symbol=str(d["symbol"]),
        side=Side(d["side"]),
        is_fill=bool(d["is_fill"]),
        rejected=bool(d.get("rejected", False)),
        quantity=int(d["quantity"]),
        price=int(d["price"]),
        at=datetime.fromisoformat(d["at"]),
        order_quantity=int(d.get("order_quantity", 0)),
        accept_only=bool(d.get("accept_only", False)),
        sequence=int(d.get("sequence", 0)),
    )
