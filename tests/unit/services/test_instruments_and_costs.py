"""Issue 13 items 6 and 7 through the services: the instrument type comes from the broker and
is stored; the ledger charges by it and per execution; the settlement compares the broker's
own daily costs."""

from __future__ import annotations

from decimal import Decimal

from stock_manager.domain.instruments import Instrument, InstrumentKind
from stock_manager.domain.orders import OrderType, Side
from stock_manager.domain.trade import SymbolState
from stock_manager.services.entry import EntryPlan, enter_checked
from stock_manager.services.ledger import apply_fact
from stock_manager.services.orders import Outcome
from stock_manager.services.session import initialize_day
from stock_manager.services.settlement import settle_day
from stock_manager.services.sync import sync_orders
from tests.fakes.uow import FakeUnitOfWork
from tests.unit.services.conftest import World, make_world
from tests.unit.services.test_ledger import FEES, fact, opened, writer

ETF = InstrumentKind.ETF
LEVERAGED = Instrument("122630", ETF, multiple=Decimal("2.0"), name="KODEX 레버리지")


def etf_held(world: World, quantity: int = 10, price: int = 12_345) -> None:
    world.broker.instruments["122630"] = LEVERAGED
    world.broker.set_quote("122630", price)
    world.broker.set_book("122630", asks=[(price + 5, 100)], bids=[(price, 100)])
    plan = EntryPlan("122630", quantity, price, OrderType.LIMIT, "momentum_breakout")
    result = enter_checked(world.ctx, plan)
    assert result.outcome is Outcome.SUBMITTED, result.detail  # 12,345: off the stock grid
    (order,) = world.orders("122630")
    world.broker.fill(order.broker_order_no, quantity, price)
    sync_orders(world.ctx)
    assert world.symbol("122630").state is SymbolState.HOLDING


def test_an_etf_is_entered_on_its_own_tick_grid_and_stored_from_the_broker() -> None:
    world = make_world()
    etf_held(world)
    with world.uow:
        stored = world.uow.instruments.get("122630")
        fills = world.uow.fills.for_day(world.day)
    assert stored is not None and stored[0] == LEVERAGED
    assert [f.commission for f in fills] == [FEES.commission(123_450, ETF)] == [18]


def test_the_instrument_is_read_once_a_day() -> None:
    world = make_world()
    etf_held(world)
    asked = [c for c in world.broker.calls if c[0] == "instrument"]
    world.clock.advance(60)
    world.broker.set_quote("122630", 12_350)
    enter_checked(world.ctx, EntryPlan("122630", 1, 12_350, OrderType.LIMIT, "m"))
    assert [c for c in world.broker.calls if c[0] == "instrument"] == asked


def test_the_ledger_charges_no_tax_on_an_etf_sale() -> None:
    uow = FakeUnitOfWork()
    sell = opened(uow, Side.SELL, quantity=10, holding=10)
    with uow:
        uow.instruments.save(Instrument("005930", ETF), sell.trading_day)
        uow.commit()
    with uow:
        apply_fact(uow, writer(), sell, fact(10, 715_000, open_=False), FEES)
        uow.commit()
        (fill,) = uow.fills.for_day(sell.trading_day)
    assert fill.tax == 0 and fill.commission == FEES.commission(715_000, ETF)


def test_the_ledger_charges_each_increment_as_one_execution() -> None:
    """KIS rounds each execution: three fills of 7 shares at 71,500 cost 70 won each (210),
    where the cumulative 1,501,500 would cost 211 (the old ledger's figure)."""
    uow = FakeUnitOfWork()
    order = opened(uow, Side.BUY, quantity=21)
    with uow:
        for filled in (7, 14, 21):
            order = apply_fact(uow, writer(), order, fact(filled, filled * 71_500), FEES)
        uow.commit()
        fills = uow.fills.for_day(order.trading_day)
    assert [f.commission for f in fills if f.commission] == [70, 70, 70]
    assert FEES.commission(21 * 71_500) == 211


def settled(world: World, broker_costs: int | None) -> list[str]:
    world.broker.costs_today = broker_costs
    settle_day(world.ctx, world.day)
    return world.notifier.kinds()


def test_the_settlement_alerts_when_the_brokers_costs_differ() -> None:
    world = make_world()
    etf_held(world)
    with world.uow:
        ledger = sum(f.commission + f.tax for f in world.uow.fills.for_day(world.day))
    assert "settlement_costs_difference" in settled(world, ledger + 1)
    with world.uow:
        stored = world.uow.reports.settlement(world.day)
    assert stored is not None and stored.broker_costs == ledger + 1
    assert stored.costs_difference == 1


def test_the_settlement_is_quiet_when_the_costs_agree_or_are_unread() -> None:
    world = make_world()
    etf_held(world)
    with world.uow:
        ledger = sum(f.commission + f.tax for f in world.uow.fills.for_day(world.day))
    assert "settlement_costs_difference" not in settled(world, ledger)
    assert "settlement_costs_difference" not in settled(world, None)


def test_initialization_reads_the_instrument_of_each_held_symbol() -> None:
    world = make_world()
    world.broker.instruments["122630"] = LEVERAGED
    world.broker.set_quote("122630", 12_345)
    world.broker.set_holding("122630", 5, 12_345)
    world.broker.set_holding("999999", 1, 1_000)  # unknown to the broker: never fatal
    initialize_day(world.ctx)
    with world.uow:
        stored = world.uow.instruments.get("122630")
        assert world.uow.instruments.get("999999") is None
    assert stored is not None and stored[0].kind is ETF
