"""``docker-compose.yml`` is deployable (issue 14): every application service runs a real
command with real settings, has a healthcheck and a restart policy, workers have unique
node names, KIS_ENV=paper|live never points at the simulator, and the minimum Compose
version is stated. tests/e2e/test_compose_commands.py runs the commands themselves."""

from __future__ import annotations

import shlex

import pytest

from stock_manager.cli.main import COMMANDS
from stock_manager.config import KIS_URLS, Settings, load_settings
from tests import compose

SERVICES = compose.services()
APPS = {name: s for name, s in SERVICES.items() if s.is_app}
LONG_RUNNING = {name: s for name, s in APPS.items() if name != "migrate"}


def test_the_stack_has_every_documented_process() -> None:
    assert set(APPS) == {
        "migrate",
        "worker",
        "liquidation-worker",
        "beat",
        "stream",
        "metrics",
        "flower",
        "kis-sim",
    }


def test_the_minimum_compose_version_is_stated() -> None:
    assert "Docker Compose v2.17 or later" in compose.COMPOSE.read_text()


@pytest.mark.parametrize("name", sorted(APPS))
def test_each_service_runs_a_real_command(name: str) -> None:
    command = APPS[name].command
    if command[0] == "stock-manager":
        assert command[1] in COMMANDS
    else:
        assert command[:3] == ["celery", "-A", "stock_manager"]
        assert command[3] in {"worker", "beat", "flower"}


@pytest.mark.parametrize("name", sorted(LONG_RUNNING))
def test_each_long_running_service_has_a_healthcheck_and_restarts(name: str) -> None:
    service = APPS[name]
    check = service.healthcheck
    assert check is not None and check[0] in {"CMD", "CMD-SHELL"}
    words = shlex.split(check[1]) if check[0] == "CMD-SHELL" else check[1:]
    if words[0] == "stock-manager":
        assert words[1] in COMMANDS
    else:
        assert words[:5] == ["celery", "-A", "stock_manager", "inspect", "ping"]
    assert service.spec["restart"] in {"unless-stopped", "always"} or name == "flower"


def test_every_worker_has_a_unique_node_name() -> None:
    workers = [s for s in APPS.values() if "worker" in s.command]
    names = [s.command[s.command.index("-n") + 1] for s in workers]
    assert all(n.endswith("@%h") for n in names) and len(set(names)) == len(names)


@pytest.mark.parametrize("name", sorted(APPS))
def test_every_variable_a_service_sets_is_a_setting(name: str) -> None:
    unknown = [v for v in APPS[name].environment({}) if v.lower() not in Settings.model_fields]
    assert unknown == []


@pytest.mark.parametrize("kis_env", ["paper", "live"])
def test_kis_paper_and_live_never_point_at_the_simulator(kis_env: str) -> None:
    dotenv = {"KIS_ENV": kis_env, "KIS_APP_KEY": "k" * 36, "KIS_APP_SECRET": "s" * 180}
    dotenv["TRADING_ARMED"] = "false"
    env = APPS["worker"].environment(dotenv)
    settings = load_settings(**{k.lower(): v for k, v in env.items() if v != ""})
    assert settings.effective_kis_rest_url == KIS_URLS[kis_env][0]
    assert settings.effective_kis_ws_url == KIS_URLS[kis_env][1]


def test_the_default_is_the_simulator_of_the_sim_profile() -> None:
    env = APPS["worker"].environment({})
    settings = load_settings(**{k.lower(): v for k, v in env.items() if v != ""})
    assert settings.effective_kis_rest_url == "http://kis-sim:18080"
    assert APPS["kis-sim"].spec["profiles"] == ["sim"]


def test_there_are_two_beats_and_flower_is_behind_basic_auth() -> None:
    assert APPS["beat"].replicas == 2
    assert "FLOWER_BASIC_AUTH" in APPS["flower"].spec["environment"]
    assert "--address=0.0.0.0" in APPS["flower"].command


def test_interpolation_follows_compose() -> None:
    assert compose.interpolate("${A:-x}/${B-y}/$${HOME}", {"A": "", "B": ""}) == "x//${HOME}"
    with pytest.raises(ValueError, match="set it"):
        compose.interpolate("${C:?set it}", {})
