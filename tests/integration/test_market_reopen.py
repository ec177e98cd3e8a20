"""``stock-manager market reopen`` brings back a day a wrong session closed (issue 14): with
KIS_ENV=sim and no SESSION_*, the simulator's clock says the day is on; the command records
CLOSED -> OFFLINE with its reason, initializes the day against the simulator and trades."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from click.testing import CliRunner

from stock_manager import bootstrap
from stock_manager.adapters.db.migrate import upgrade
from stock_manager.cli.main import cli
from stock_manager.domain.clock import KST
from stock_manager.domain.market import MarketState
from stock_manager.sim import SimConfig, SimServer


@pytest.fixture
def sim() -> Iterator[SimServer]:
    with SimServer(SimConfig(rest_port=0, ws_port=0, symbols=3, session_minutes=30)) as server:
        yield server


def test_a_wrongly_closed_day_is_reopened_by_the_command(
    sqlite_url: str, sim: SimServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    upgrade(sqlite_url)
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("LOCK_BACKEND", "sql")
    monkeypatch.setenv("KIS_SIM_REST_URL", sim.rest_url)
    monkeypatch.setenv("KIS_SIM_WS_URL", sim.ws_url)
    c = bootstrap.container()
    day = datetime.now(KST).date()
    with c.uow() as uow:  # what a run without SESSION_OPEN/CLOSE left behind
        uow.market.save(day, MarketState.OFFLINE, MarketState.CLOSED, "calendar: CLOSED due")
        uow.commit()

    result = CliRunner().invoke(cli, ["market", "reopen", "--reason", "sim session unknown"])
    assert result.exit_code == 0, result.output
    assert f"market of {day} is TRADING" in result.output
    with c.uow() as uow:
        steps = [(t.from_state, t.to_state, t.event) for t in reversed(uow.audit.recent(20))]
        opening = uow.market.opening_cash(day)
    assert ("CLOSED", "OFFLINE", "reopen") in steps
    assert steps[-1][1] == "TRADING" and opening == 10_000_000  # initialized at the broker

    again = CliRunner().invoke(cli, ["market", "reopen", "--reason", "twice"])
    assert again.exit_code == 1 and "TRADING, not CLOSED" in again.output
