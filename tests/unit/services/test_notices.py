"""Execution notices are cheap (issue 16): a notice updates its order from itself and reads
the broker only for what it cannot say, narrowed to that order."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from stock_manager.domain.broker import ExecutionNotice
from stock_manager.domain.fees import FeeSchedule
from stock_manager.domain.instruments import Instrument, InstrumentKind
from stock_manager.domain.orders import Order, OrderStatus, OrderType, Side
from stock_manager.domain.trade import SymbolState
from stock_manager.services.notices import NOTICES_TASK, on_execution_notices
from stock_manager.services.orders import Outcome, cancel_order, enter, exit_position
from stock_manager.services.sync import sync_orders
from tests.unit.services.conftest import World

SYMBOL = "005930"


def buy(world: World, quantity: int = 10, symbol: str = SYMBOL) -> Order:
    result = enter(world.ctx, symbol, quantity, 71_500, OrderType.LIMIT, "momentum")
    assert result.outcome is Outcome.SUBMITTED
    return world.orders(symbol)[-1]


def fill(
    world: World, order: Order, quantity: int, price: int, sequence: int = 0
) -> ExecutionNotice:
    """Fill at the broker; the notice the stream would forward for it."""
    world.broker.fill(order.broker_order_no or "", quantity, price)
    return notice(world, order, quantity, price, sequence=sequence)


def notice(
    world: World, order: Order, quantity: int, price: int, **fields: object
) -> ExecutionNotice:
    base = ExecutionNotice(
        order.broker_order_no or "",
        "",
        order.symbol,
        order.side,
        True,
        False,
        quantity,
        price,
        world.clock.now(),
        order.quantity,
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def accepted(world: World, order: Order) -> ExecutionNotice:
    return notice(world, order, order.quantity, order.price, is_fill=False, accept_only=True)


def reads(world: World) -> list[tuple[object, ...]]:
    return [args for name, args in world.broker.calls if name == "orders"]


def order(world: World, o: Order) -> Order:
    with world.uow:
        found = world.uow.orders.get(o.id or 0)
    assert found is not None
    return found


def test_a_fill_notice_fills_the_order_without_reading_the_broker(world: World) -> None:
    entry = buy(world)
    notices = [accepted(world, entry), fill(world, entry, 4, 71_500), fill(world, entry, 6, 71_400)]
    (result,) = on_execution_notices(world.ctx, notices)
    assert (result.applied, result.read) == (2, "")
    assert reads(world) == []
    filled = order(world, entry)
    assert (filled.status, filled.filled_quantity) == (OrderStatus.FILLED, 10)
    assert filled.filled_amount == 4 * 71_500 + 6 * 71_400
    held = world.symbol()
    assert (held.state, held.quantity, held.cost) == (SymbolState.HOLDING, 10, filled.filled_amount)
    sync_orders(world.ctx)  # the poll finds the broker agreeing: nothing moves, nothing read
    assert order(world, entry) == filled and reads(world) == []


def test_a_redelivered_notice_changes_nothing_but_a_second_identical_fill_counts(
    world: World,
) -> None:
    entry = buy(world)
    first = fill(world, entry, 3, 71_500)
    on_execution_notices(world.ctx, [first])
    (again,) = on_execution_notices(world.ctx, [first])  # Celery delivered it twice
    assert again.applied == 0 and order(world, entry).filled_quantity == 3
    second = fill(world, entry, 3, 71_500, sequence=1)  # same second, same size and price
    (result,) = on_execution_notices(world.ctx, [second])
    assert result.applied == 1 and order(world, entry).filled_quantity == 6
    assert reads(world) == []


def test_a_notice_after_a_read_counted_fills_reads_that_order_alone(world: World) -> None:
    entry = buy(world)
    late = fill(world, entry, 4, 71_500)
    sync_orders(world.ctx)  # the poll saw the fill before its notice arrived
    assert order(world, entry).filled_quantity == 4
    before = len(reads(world))
    (result,) = on_execution_notices(world.ctx, [late])
    assert (result.applied, result.read) == (0, entry.broker_order_no)
    assert order(world, entry).filled_quantity == 4  # not counted twice
    (narrowed,) = reads(world)[before:]
    assert narrowed[-1] == entry.broker_order_no  # ODNO: one order, not the day


def test_a_notice_beyond_the_order_quantity_is_not_trusted(world: World) -> None:
    entry = buy(world, quantity=5)
    world.broker.fill(entry.broker_order_no or "", 5, 71_500)
    (result,) = on_execution_notices(world.ctx, [notice(world, entry, 6, 71_500)])
    assert result.read == entry.broker_order_no
    assert order(world, entry).filled_quantity == 5  # from the broker's read


def test_a_cancel_notice_reads_the_cancelled_order_by_its_odno(world: World) -> None:
    entry = buy(world)
    on_execution_notices(world.ctx, [fill(world, entry, 4, 71_500)])
    assert cancel_order(world.ctx, entry.id or 0).outcome is Outcome.SUBMITTED
    cancel_row = list(world.broker.rows.values())[-1]
    receipt = replace(
        notice(world, entry, 6, 71_500, is_fill=False),
        broker_order_no=cancel_row.broker_order_no,
        original_order_no=entry.broker_order_no or "",
    )
    (result,) = on_execution_notices(world.ctx, [receipt])
    assert result.read == entry.broker_order_no
    assert [r[-1] for r in reads(world)] == [entry.broker_order_no]
    cancelled = order(world, entry)
    assert (cancelled.status, cancelled.filled_quantity) == (OrderStatus.CANCELED, 4)
    assert world.symbol().state is SymbolState.HOLDING


def test_notices_of_a_symbol_whose_send_is_undecided_read_the_symbol(world: World) -> None:
    from stock_manager.domain.broker import OrderOutcomeUnknown

    world.broker.fail_next_submit(OrderOutcomeUnknown("timeout"))
    enter(world.ctx, SYMBOL, 10, 71_500, OrderType.LIMIT, "momentum")
    unknown = world.orders()[-1]
    assert unknown.status is OrderStatus.UNKNOWN
    maybe_ours = replace(unknown, broker_order_no="0000000077")
    before = len(reads(world))
    (result,) = on_execution_notices(world.ctx, [accepted(world, maybe_ours)])
    assert result.read == "*"  # the resolver needs the symbol's whole list
    assert reads(world)[before:] == [(world.day, SYMBOL, None, None)]


def test_a_busy_symbol_sends_its_notices_again_shortly(world: World) -> None:
    entry = buy(world)
    world.locks.acquire(SYMBOL, "someone", 30)
    (result,) = on_execution_notices(world.ctx, [fill(world, entry, 4, 71_500)])
    assert result.busy
    ((task, args, countdown),) = world.ctx.tasks.pending  # type: ignore[attr-defined]
    assert (task, args[1], countdown > 0) == (NOTICES_TASK, 1, True)
    assert order(world, entry).filled_quantity == 0


def with_grace(world: World, seconds: float = 5) -> World:
    policy = replace(world.ctx.policy, notice_grace=timedelta(seconds=seconds))
    world.ctx = replace(world.ctx, policy=policy)
    return world


def test_the_poll_leaves_a_young_working_order_to_the_notices(world: World) -> None:
    with_grace(world)
    entry = buy(world)
    world.broker.fill(entry.broker_order_no or "", 4, 71_500)  # its notice is on its way
    world.clock.advance(3)
    assert sync_orders(world.ctx).orders == 0 and reads(world) == []
    world.clock.advance(3)  # no notice came within the grace: the poll reads
    assert sync_orders(world.ctx).changed == 1
    assert order(world, entry).filled_quantity == 4 and len(reads(world)) == 1


def test_a_trading_day_reads_the_order_history_at_most_0_2_times_per_order(
    world: World,
) -> None:
    """16 round trips on 4 symbols: every fill arrives as notices (split in two, the pair
    the same second, size and price), every eighth entry is cancelled half filled, the 3 s
    poll also runs while an order waits for its notices, one notice in ten arrives twice."""
    with_grace(world)
    symbols = [f"00{n:04d}" for n in range(4)]
    for s in symbols:
        world.broker.set_quote(s, 71_500)
        world.broker.set_book(s, asks=[(71_600, 100)], bids=[(71_500, 100)])
    sent = 0

    def deliver(*notices: ExecutionNotice) -> None:
        nonlocal sent
        for n in notices:
            sent += 1
            on_execution_notices(world.ctx, [n] * (2 if sent % 10 == 0 else 1))

    def poll() -> None:
        world.clock.advance(1)
        sync_orders(world.ctx)

    for n in range(16):
        symbol = symbols[n % len(symbols)]
        entry = buy(world, 10, symbol)
        poll()  # the notices are late: the order is young, left to them
        deliver(accepted(world, entry), fill(world, entry, 5, 71_500))
        if n % 8 == 7:
            cancel_order(world.ctx, entry.id or 0)
            rest = list(world.broker.rows.values())[-1]
            deliver(
                replace(
                    notice(world, entry, 5, 71_500, is_fill=False),
                    broker_order_no=rest.broker_order_no,
                    original_order_no=entry.broker_order_no or "",
                )
            )
        else:
            deliver(fill(world, entry, 5, 71_500, sequence=1))
        poll()
        held = world.symbol(symbol).quantity
        exit_position(world.ctx, symbol, OrderType.LIMIT, 71_500)
        sell = world.orders(symbol)[-1]
        assert sell.side is Side.SELL and sell.quantity == held
        poll()
        deliver(accepted(world, sell), fill(world, sell, held, 71_500))
        poll()
        assert world.symbol(symbol).state is SymbolState.FLAT
    orders = len(world.orders())
    assert orders == 32
    assert len(reads(world)) / orders <= 0.2, f"{len(reads(world))} reads for {orders} orders"
    with world.uow:
        recorded = sum(f.quantity for f in world.uow.fills.for_day(world.day))
    at_broker = sum(r.filled_quantity for r in world.broker.rows.values())
    assert recorded == at_broker  # every fill counted once


def test_an_etfs_fills_from_notices_are_costed_as_an_etfs_per_execution(world: World) -> None:
    """Fills a notice brings are costed as sync's are: per execution, at the ETF's rate, and
    an ETF's sale is not taxed (was: per order, on the stock schedule, so the sale was taxed)."""
    etf = "122630"
    world.broker.set_quote(etf, 20_000)
    world.broker.instruments[etf] = Instrument(etf, InstrumentKind.ETF)
    entry = buy(world, 10, etf)
    on_execution_notices(world.ctx, [fill(world, entry, 10, 20_000)])
    assert exit_position(world.ctx, etf, OrderType.LIMIT, 20_500).outcome is Outcome.SUBMITTED
    sale = world.orders(etf)[-1]
    on_execution_notices(world.ctx, [fill(world, sale, 3, 20_500), fill(world, sale, 7, 20_500)])
    fees = FeeSchedule()
    with world.uow:
        fills = world.uow.fills.for_order(sale.id or 0)
    assert [(f.quantity, f.tax) for f in fills] == [(3, 0), (7, 0)]
    expected = [fees.commission(q * 20_500, InstrumentKind.ETF) for q in (3, 7)]
    assert [f.commission for f in fills] == expected
