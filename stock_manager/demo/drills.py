"""Scripted market events in the demo's simulated day (issue 13): a volatility interruption
on a held symbol, below its stop. Observers of :class:`~stock_manager.demo.runner.Demo`.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import httpx

from stock_manager.domain.krx import Rounding, round_to_tick
from stock_manager.domain.trade import SymbolState

if TYPE_CHECKING:
    from stock_manager.demo.dashboard import Frame
    from stock_manager.demo.runner import Demo

BELOW_STOP = Decimal("0.965")  # the default stop-loss is 3 % under the entry
VI_MOVE = Decimal("0.93")  # 7 % more: past the 6 % dynamic VI threshold


class ViDrill:
    """Once a position is held (not the one ``avoid`` names), one trade prints 3.5 % under
    its entry and the next move of 7 % sets off a dynamic VI: a 2-minute single-price
    auction (seconds in the demo) in which 최유리지정가 is refused. The exit must be sent as
    an order the auction accepts and fill at the auction's price; ``outcome`` records it."""

    def __init__(self, avoid: Callable[[], str | None] = lambda: None) -> None:
        self.avoid = avoid
        self.symbol: str | None = None
        self.auction_price = 0
        self.after_odno = ""  # orders numbered after this one came after the drill
        self.outcome: dict[str, Any] | None = None

    def __call__(self, demo: Demo, frame: Frame) -> None:
        if self.symbol is None:
            self._force(demo, frame)
        elif self.outcome is None:
            self._look(demo)

    def _force(self, demo: Demo, frame: Frame) -> None:
        if frame.status.market.value != "TRADING":
            return
        held = [
            t
            for t in frame.status.symbols
            if t.state is SymbolState.HOLDING and t.quantity and t.symbol != self.avoid()
        ]
        if not held:
            return
        trade = held[-1]
        below = round_to_tick(trade.average_price * BELOW_STOP, Rounding.DOWN)
        self.auction_price = round_to_tick(below * VI_MOVE, Rounding.DOWN)
        body = {
            "symbol": trade.symbol,
            "path": [below, self.auction_price],
            "hold": True,
            "vi": True,
            "at_once": True,
        }
        state = httpx.get(f"{demo.rest}/_sim/state", timeout=5).json()
        self.after_odno = max((o["odno"] for o in state["orders"]), default="")
        httpx.post(f"{demo.rest}/_sim/price", json=body, timeout=5).raise_for_status()
        self.symbol = trade.symbol
        demo.console.print(
            f"VI drill: {trade.symbol} traded at {below:,} (below its stop), then a dynamic VI "
            f"at {self.auction_price:,}"
        )

    def _look(self, demo: Demo) -> None:
        state = httpx.get(f"{demo.rest}/_sim/state", timeout=5).json()
        sells = [
            o
            for o in state["orders"]
            if o["symbol"] == self.symbol
            and o["side"] == "sell"
            and o["kind"] == "new"
            and o["odno"] > self.after_odno
        ]
        done = [o for o in sells if o["status"] in ("filled", "rejected", "cancelled")]
        if not sells or len(done) < len(sells):
            return
        self.outcome = {"sells": sells, "auction_price": self.auction_price}
        httpx.post(
            f"{demo.rest}/_sim/price", json={"symbol": self.symbol, "release": True}, timeout=5
        )
        fills = sorted({f["price"] for o in sells for f in o["fills"]})
        demo.console.print(
            f"VI drill: {self.symbol} exit "
            + ", ".join(f"{o['ord_dvsn']} {o['status']}" for o in sells)
            + f"; filled at {fills}"
        )
