"""``stock-manager`` admin commands: help, config check, migrate, status."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from stock_manager.cli.main import cli

SECRET = "kis-secret-that-must-not-leak-123456"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_help_lists_the_commands() -> None:
    code, out = run("--help")
    assert code == 0
    for command in ("migrate", "config", "status"):
        assert command in out


def test_config_check_masks_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIS_ENV", "paper")
    monkeypatch.setenv("UNIVERSE", "005930")
    monkeypatch.setenv("KIS_APP_KEY", SECRET)
    monkeypatch.setenv("KIS_APP_SECRET", SECRET)
    monkeypatch.setenv("KIS_ACCOUNT_NO", "87654321-01")
    monkeypatch.setenv("COLUMNS", "200")
    code, out = run("config", "check")
    assert code == 0, out
    assert SECRET not in out and "87654321" not in out
    assert "(set)" in out and "configuration OK" in out


def test_bad_config_fails_naming_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKER_LOCK_TTL", "ten")
    result = CliRunner().invoke(cli, ["config", "check"])
    assert result.exit_code == 2
    assert "WORKER_LOCK_TTL" in result.stderr


def test_migrate_then_status(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("COLUMNS", "200")
    code, out = run("migrate")
    assert code == 0 and "database at head" in out
    code, out = run("status")
    assert code == 0, out
    for section in ("market", "symbols", "open orders", "leases", "workers"):
        assert section in out
    assert "OFFLINE" in out or "CLOSED" in out or "READY" in out
