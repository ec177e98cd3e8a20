"""``stock-manager config check --connect`` against real servers and absent ones (issue 14)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from stock_manager.adapters.db.migrate import upgrade
from stock_manager.cli.main import cli
from stock_manager.sim import SimConfig, SimServer
from tests.servers import free_port


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


@pytest.fixture
def sim() -> Iterator[SimServer]:
    with SimServer(SimConfig(rest_port=0, ws_port=0, symbols=3)) as server:
        yield server


def connections(output: str) -> dict[str, dict[str, object]]:
    return {c["name"]: c for c in json.loads(output)["connections"]}


def test_every_server_reached(
    postgres_url: str, redis_url: str, sim: SimServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    upgrade(postgres_url)
    monkeypatch.setenv("DATABASE_URL", postgres_url)
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("KIS_SIM_REST_URL", sim.rest_url)
    monkeypatch.setenv("KIS_SIM_WS_URL", sim.ws_url)
    code, out = run("config", "check", "--connect", "--json")
    assert code == 0, out
    found = connections(out)
    assert all(c["ok"] for c in found.values()), found
    assert "schema at head" in str(found["database"]["detail"])
    assert "noeviction" in str(found["redis"]["detail"])
    assert "valid" in str(found["kis"]["detail"])


def test_an_unmigrated_database_is_reported(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", postgres_url)
    code, out = run("config", "check", "--connect", "--json")
    assert code == 1
    assert "run stock-manager migrate" in str(connections(out)["database"]["detail"])


def test_absent_servers_each_fail_without_a_password(monkeypatch: pytest.MonkeyPatch) -> None:
    closed = free_port()
    monkeypatch.setenv("DATABASE_URL", f"postgresql://me:hunter2pw@127.0.0.1:{closed}/x")
    monkeypatch.setenv("REDIS_URL", f"redis://:hunter2pw@127.0.0.1:{closed}/0")
    monkeypatch.setenv("KIS_SIM_REST_URL", f"http://127.0.0.1:{closed}")
    monkeypatch.setenv("COLUMNS", "250")
    code, out = run("config", "check", "--connect")
    assert code == 1
    assert out.count("FAILED") == 4, out
    assert "hunter2pw" not in out
    assert f"127.0.0.1:{closed} unreachable" in out
