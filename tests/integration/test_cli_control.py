"""The buttons for a bad day, through the real CLI, a real worker and the simulator."""

from __future__ import annotations

from datetime import datetime

import httpx
from click.testing import CliRunner

from stock_manager import bootstrap
from stock_manager.cli.main import cli
from stock_manager.domain.clock import KST
from stock_manager.domain.market import MarketState
from stock_manager.domain.trade import SymbolState
from stock_manager.services.reconcile import reconcile
from stock_manager.services.session import advance_day


def market(c: bootstrap.Container) -> MarketState:
    with c.uow() as uow:
        return uow.market.get(datetime.now(KST).date())


def test_halt_and_resume(sim_worker: tuple[bootstrap.Container, str]) -> None:
    c, _ = sim_worker
    result = CliRunner().invoke(cli, ["halt", "--reason", "bad fills"])
    assert result.exit_code == 0, result.output
    assert "STOPPED" in result.output
    assert market(c) is MarketState.STOPPED
    with c.uow() as uow:
        assert uow.audit.recent()[0].detail["reason"] == "bad fills"
    result = CliRunner().invoke(cli, ["resume"])
    assert result.exit_code == 0
    assert market(c) is MarketState.READY


def test_liquidate_and_wait_until_flat(sim_worker: tuple[bootstrap.Container, str]) -> None:
    c, rest = sim_worker
    symbols = [s["symbol"] for s in httpx.get(f"{rest}/_sim/symbols").json()["symbols"]][:3]
    holdings = [{"symbol": s, "qty": 10 + i, "avg_price": 10_000} for i, s in enumerate(symbols)]
    httpx.post(f"{rest}/_sim/account", json={"holdings": holdings}).raise_for_status()
    assert advance_day(c.context()).state is MarketState.TRADING
    reconcile(c.context())  # the ledger adopts what the broker holds
    with c.uow() as uow:
        assert {t.symbol for t in uow.symbols.find([SymbolState.HOLDING])} == set(symbols)
    result = CliRunner().invoke(cli, ["liquidate", "--wait", "--timeout", "60"])
    assert result.exit_code == 0, result.output
    assert "liquidation enqueued: task " in result.output
    assert "flat: the broker holds nothing" in result.output
    state = httpx.get(f"{rest}/_sim/state").json()
    assert all(h["qty"] == 0 for h in state["holdings"])
    assert market(c) is MarketState.STOPPED  # by hand, entries stop at once


def test_liquidate_one_symbol_leaves_the_rest(sim_worker: tuple[bootstrap.Container, str]) -> None:
    c, rest = sim_worker
    first, second = [s["symbol"] for s in httpx.get(f"{rest}/_sim/symbols").json()["symbols"]][:2]
    holdings = [
        {"symbol": first, "qty": 5, "avg_price": 10_000},
        {"symbol": second, "qty": 7, "avg_price": 10_000},
    ]
    httpx.post(f"{rest}/_sim/account", json={"holdings": holdings}).raise_for_status()
    advance_day(c.context())
    reconcile(c.context())
    result = CliRunner().invoke(cli, ["liquidate", "--symbol", first, "--wait", "--timeout", "60"])
    assert result.exit_code == 0, result.output
    held = {h["symbol"]: h["qty"] for h in httpx.get(f"{rest}/_sim/state").json()["holdings"]}
    assert held.get(first, 0) == 0
    assert held[second] == 7
    assert market(c) is MarketState.TRADING
