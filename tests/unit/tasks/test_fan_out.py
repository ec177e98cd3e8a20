"""Planned entries and exits go out as tasks that expire: a late or redelivered message must
never act on a stale signal (an old entry could open a new trade once the symbol is FLAT)."""

from __future__ import annotations

from typing import Any

from stock_manager.domain.exits import ExitReason
from stock_manager.domain.orders import OrderType
from stock_manager.services.entry import EntryPlan
from stock_manager.services.prices import ExitPlan
from tasks._runtime import send_entries, send_exits


class Capture:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def send_task(self, name: str, **options: Any) -> None:
        self.sent.append((name, options))


def test_entries_expire_with_the_scan_that_planned_them() -> None:
    app = Capture()
    send_entries(
        app,
        [EntryPlan("005930", 10, 71_500, OrderType.LIMIT, "momentum", "breakout")],
        expires=30.0,
    )
    ((name, options),) = app.sent
    assert name == "tasks.orders.enter"
    assert options["expires"] == 30.0
    assert options["args"] == ["005930", 10, 71_500, "00", "momentum", "breakout"]


def test_exits_expire_quickly_because_price_checks_plan_them_again() -> None:
    app = Capture()
    send_exits(app, [ExitPlan("005930", ExitReason.STOP_LOSS, "at 69,000")])
    ((name, options),) = app.sent
    assert name == "tasks.orders.exit"
    assert options["expires"] == 10.0
    assert options["args"] == ["005930", "stop_loss", "at 69,000"]
