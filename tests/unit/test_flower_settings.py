"""``celery -A stock_manager flower``: basic auth from our settings, loopback without it."""

from __future__ import annotations

import pytest

from stock_manager.adapters.flower import flower_environment
from stock_manager.config import ConfigError, load_settings

ARGV = ["celery", "-A", "stock_manager", "flower"]


def test_without_credentials_flower_stays_on_loopback() -> None:
    env = flower_environment(ARGV, {}, load_settings())
    assert env["FLOWER_ADDRESS"] == "127.0.0.1"
    assert env["FLOWER_MAX_TASKS"] == "20000"


@pytest.mark.parametrize("argv", [[*ARGV, "--address=0.0.0.0"], [*ARGV, "--address", "10.0.0.5"]])
def test_listening_beyond_loopback_needs_basic_auth(argv: list[str]) -> None:
    with pytest.raises(ConfigError, match="FLOWER_BASIC_AUTH: required"):
        flower_environment(argv, {}, load_settings())


def test_an_address_from_the_environment_counts_too() -> None:
    with pytest.raises(ConfigError, match="FLOWER_BASIC_AUTH"):
        flower_environment(ARGV, {"FLOWER_ADDRESS": "0.0.0.0"}, load_settings())


def test_credentials_from_settings_become_flower_basic_auth() -> None:
    settings = load_settings(flower_basic_auth="admin:s3cret")
    env = flower_environment([*ARGV, "--address=0.0.0.0"], {}, settings)
    assert env["FLOWER_BASIC_AUTH"] == "admin:s3cret"
    assert "FLOWER_ADDRESS" not in env


def test_explicit_loopback_is_fine_without_credentials() -> None:
    env = flower_environment([*ARGV, "--address=127.0.0.1"], {}, load_settings())
    assert "FLOWER_ADDRESS" not in env
