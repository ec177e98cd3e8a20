"""Issue 13 item 8: any KIS URL that is not loopback or the paper host is live, and live
orders need ``TRADING_ARMED`` to be exactly ``true``, whatever ``KIS_ENV`` says."""

from __future__ import annotations

import pytest

from stock_manager.adapters.kis.environments import KisEnvironment
from stock_manager.adapters.kis.errors import KISConfigError
from stock_manager.adapters.kis.orders import KisOrderClient
from stock_manager.config import ConfigError, load_settings, masked_settings
from stock_manager.domain.broker import OrderRequest
from stock_manager.domain.orders import OrderType, Side
from stock_manager.kis_hosts import host_kind
from tests.unit.kis.conftest import make_harness

LIVE_REST = "https://openapi.koreainvestment.com:9443"
BUY = OrderRequest("005930", Side.BUY, 1, OrderType.LIMIT, 71500)


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("http://127.0.0.1:18080", "loopback"),
        ("http://127.9.9.9:1", "loopback"),
        ("ws://localhost:18081", "loopback"),
        ("http://[::1]:18080", "loopback"),
        ("https://openapivts.koreainvestment.com:29443", "paper"),
        ("ws://ops.koreainvestment.com:31000", "paper"),
        (LIVE_REST, "live"),
        ("ws://ops.koreainvestment.com:21000", "live"),  # the live feed shares the host
        ("https://kis-proxy.internal:8443", "live"),  # unknown means live
        ("not a url", "live"),
        ("http://[bad", "live"),
    ],
)
def test_host_kind(url: str, kind: str) -> None:
    assert host_kind(url) == kind


@pytest.mark.parametrize("name", ["sim", "paper"])
def test_a_live_url_refuses_unarmed_orders_whatever_kis_env_says(name: str) -> None:
    h = make_harness(name=name, dialect="paper", rest_url=LIVE_REST, trading_armed=False)
    with pytest.raises(KISConfigError, match="TRADING_ARMED"):
        KisOrderClient(h.http).submit(BUY)
    assert h.kis.requests == []  # not even a token


def test_a_live_ws_url_makes_the_environment_live() -> None:
    env = KisEnvironment(
        "sim", "live", "http://127.0.0.1:1", "ws://ops.koreainvestment.com:21000", 1.0
    )
    assert env.is_live and not env.orders_allowed


def test_loopback_and_paper_hosts_need_no_arming() -> None:
    sim = KisEnvironment("sim", "live", "http://127.0.0.1:1", "ws://127.0.0.1:2", 1.0)
    paper = KisEnvironment(
        "paper",
        "paper",
        "https://openapivts.koreainvestment.com:29443",
        "ws://ops.koreainvestment.com:31000",
        1.0,
    )
    assert sim.orders_allowed and paper.orders_allowed


@pytest.mark.parametrize("value", ["yes", "1", "on", "True", "TRUE", "y", " true"])
def test_only_exactly_true_arms(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADING_ARMED", value)
    with pytest.raises(ConfigError, match=r"(?i)trading_armed"):
        load_settings()


@pytest.mark.parametrize(("value", "armed"), [("true", True), ("false", False), ("", False)])
def test_true_and_false(value: str, armed: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADING_ARMED", value)
    assert load_settings().trading_armed is armed


def test_config_check_names_the_live_host() -> None:
    shown = masked_settings(load_settings(kis_env="sim", kis_rest_url=LIVE_REST))
    assert LIVE_REST in shown["kis_live_hosts"]
    assert "refused" in shown["kis_live_hosts"]
    quiet = masked_settings(load_settings(kis_env="sim"))
    assert quiet["kis_live_hosts"].startswith("none")
