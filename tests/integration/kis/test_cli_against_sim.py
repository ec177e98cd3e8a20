"""``stock-manager kis ...`` pointed at the simulator through KIS_REST_URL / KIS_WS_URL."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from stock_manager.cli.main import cli
from stock_manager.domain.broker import OrderRequest
from stock_manager.domain.orders import OrderType, Side
from tests.integration.kis.conftest import Client, Connect, StartSim


@pytest.fixture
def sim_client(start_sim: StartSim, connect: Connect, monkeypatch: pytest.MonkeyPatch) -> Client:
    server = start_sim()
    monkeypatch.setenv("KIS_REST_URL", server.rest_url)
    monkeypatch.setenv("KIS_WS_URL", server.ws_url)
    return connect(server)


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_check_reports_each_step_with_its_latency(sim_client: Client) -> None:
    code, out = invoke("kis", "check", "--json", "--symbol", sim_client.symbols()[0])
    assert code == 0, out
    report = json.loads(out)
    assert report["url"] == sim_client.server.rest_url
    assert [s["name"] for s in report["steps"]] == ["token", "balance", "quote"]
    assert all(s["ok"] and s["ms"] >= 0 for s in report["steps"])
    code, out = invoke("kis", "check")
    assert code == 0 and "balance" in out and "ok" in out


def test_price_balance_and_orders(sim_client: Client) -> None:
    symbols = sim_client.symbols()[:2]
    code, out = invoke("kis", "price", *symbols, "--json")
    assert code == 0 and set(json.loads(out)) == set(symbols)
    code, out = invoke("kis", "price", symbols[0])
    assert code == 0 and symbols[0] in out
    sim_client.admin("account", {"holdings": [{"symbol": symbols[0], "qty": 7, "avg_price": 1000}]})
    code, out = invoke("kis", "balance", "--json")
    assert code == 0
    holdings = json.loads(out)["holdings"]
    assert [(h["symbol"], h["quantity"]) for h in holdings] == [(symbols[0], 7)]
    price = sim_client.broker.quote(symbols[1]).lower_limit
    ack = sim_client.broker.submit(OrderRequest(symbols[1], Side.BUY, 1, OrderType.LIMIT, price))
    code, out = invoke("kis", "orders", "--json")
    assert code == 0
    assert [o["broker_order_no"] for o in json.loads(out)] == [ack.broker_order_no]
    code, out = invoke("kis", "orders")
    assert code == 0 and ack.broker_order_no in out


def test_a_refusal_is_one_line_and_exit_code_one(
    sim_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIS_APP_KEY", "PSwrongAppKey0000000000000000000000")
    code, out = invoke("kis", "check", "--json")
    assert code == 1
    steps = json.loads(out)["steps"]
    assert steps[0]["name"] == "token" and not steps[0]["ok"]
    assert "EGW00103" in steps[0]["detail"] and "PSwrongAppKey" not in out
