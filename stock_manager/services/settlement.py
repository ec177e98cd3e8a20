"""The daily settlement: the cash the ledger says moved, against the broker's D+2 cash, and
the ledger's commission and tax against the broker's own figure for the day (inquire-balance
``thdt_tlex_amt``). Either difference is an alert, never a silent pass."""

from __future__ import annotations

from datetime import date

from stock_manager.domain.orders import Side
from stock_manager.domain.records import DailySettlement
from stock_manager.ports import Lane, Notice, using_lane
from stock_manager.services.context import ServiceContext


def settle_day(ctx: ServiceContext, day: date) -> DailySettlement:
    with ctx.uow as uow:
        fills = uow.fills.for_day(day)
        opening = uow.market.opening_cash(day)
    with using_lane(Lane.SYNC):
        balance = ctx.broker.balance()
    closing = balance.settled_cash_d2
    settlement = DailySettlement(
        trading_day=day,
        buy_amount=sum(f.notional for f in fills if f.side is Side.BUY),
        sell_amount=sum(f.notional for f in fills if f.side is Side.SELL),
        commission=sum(f.commission for f in fills),
        tax=sum(f.tax for f in fills),
        broker_cash_change=None if opening is None else closing - opening,
        broker_costs=balance.costs_today,
    )
    with ctx.uow as uow:
        uow.reports.save_settlement(settlement)
        uow.commit()
    if settlement.difference:
        ctx.notifier.send(
            Notice(
                "settlement_difference",
                "warning",
                f"Settlement {day}: ledger and broker differ",
                f"ledger net cash flow {settlement.net_cash_flow:+,} won, "
                f"broker D+2 cash change {settlement.broker_cash_change:+,} won: "
                f"difference {settlement.difference:+,} won",
            )
        )
    if settlement.costs_difference:
        ctx.notifier.send(
            Notice(
                "settlement_costs_difference",
                "warning",
                f"Settlement {day}: fees and tax differ from the broker's",
                f"ledger commission {settlement.commission:,} + tax {settlement.tax:,} won, "
                f"broker {settlement.broker_costs:,} won (thdt_tlex_amt): difference "
                f"{settlement.costs_difference:+,} won. Check COMMISSION_RATE, "
                "ETP_COMMISSION_RATE, SELL_TAX_RATE, FEE_ROUNDING and FEE_BASIS.",
            )
        )
    return settlement
