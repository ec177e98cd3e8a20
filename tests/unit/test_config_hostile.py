"""Settings from arbitrary environment strings: a ``ConfigError`` or working settings, never a
raw exception, never a secret in the message, never a value that breaks the process later."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stock_manager.config import SECRET_FIELDS, ConfigError, Settings, load_settings
from tests.unit.hostile import HOSTILE_NUMBERS, PROPERTY, cpu_bounded

FLOAT_FIELDS = sorted(n for n, f in Settings.model_fields.items() if f.annotation in (float,))


def load(env: dict[str, str], env_file: Path | None = None) -> Settings:
    with mock.patch.dict(os.environ, env, clear=True):
        return load_settings(_env_file=env_file)


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e308", "1e500000"])
@pytest.mark.parametrize("name", ["SCAN_INTERVAL", "WORKER_POLL_INTERVAL", "DEAD_MAN_SECONDS"])
def test_an_interval_that_no_timer_can_hold_is_a_config_error(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        load({name: value})  # inf and 1e308 were accepted; beat's timedelta overflowed later


@pytest.mark.parametrize("name", ["TAKE_PROFIT_PCT", "MOMENTUM_VOLUME_FACTOR", "BOLLINGER_WIDTH"])
@pytest.mark.parametrize("value", ["1e500000", "NaN", "Infinity", "1" * 40])
def test_a_decimal_setting_beyond_any_meaning_is_a_config_error(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        load({name: value})


def test_a_huge_bad_value_is_quoted_short() -> None:
    with pytest.raises(ConfigError) as caught:
        load({"KIS_ENV": "x" * 1_000_000})  # the message was a megabyte
    assert "KIS_ENV" in str(caught.value) and len(str(caught.value)) < 500


def test_a_url_with_a_password_is_quoted_masked() -> None:
    with pytest.raises(ConfigError) as caught:
        load({"DATABASE_URL": "postgresql://me:hunter2hunter2@db/x", "LOCK_BACKEND": "nope"})
    assert "hunter2" not in str(caught.value)


def test_an_env_file_that_is_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_bytes(b"KIS_ENV=sim\nKIS_HTS_ID=\xff\xfe\n")
    with pytest.raises(ConfigError, match=r"\.env"):
        load({}, env_file)  # raised UnicodeDecodeError


NAMES = st.sampled_from(sorted(Settings.model_fields)).flatmap(
    lambda n: st.sampled_from([n.upper(), n, n.title()])
)
ENV_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40
)
VALUES = st.one_of(
    ENV_TEXT,
    st.sampled_from([h for h in HOSTILE_NUMBERS if "\x00" not in h]),
    st.sampled_from(["sim", "live", "paper", "redis", "sql", "true", "0", "25:00", "09:00"]),
    st.sampled_from(["\udcff\udcfe", "P1D", "-1", "1e20", "005930,000660", "12345678-01"]),
)


@settings(PROPERTY, max_examples=100)
@given(st.dictionaries(NAMES, VALUES, max_size=8))
@cpu_bounded
def test_any_environment_gives_settings_or_a_config_error(env: dict[str, str]) -> None:
    # a secret is marked so that finding it in a message cannot be a coincidence
    env = {k: f"sekrit-{v}" if k.lower() in SECRET_FIELDS else v for k, v in env.items()}
    try:
        loaded: Any = load(env)
    except ConfigError as exc:
        message = str(exc)
        assert len(message) < 300 * (len(env) + 2)
        if not any("sekrit-" in v for k, v in env.items() if k.lower() not in SECRET_FIELDS):
            assert "sekrit-" not in message
        return
    assert isinstance(loaded, Settings)
    for name in FLOAT_FIELDS:
        value = getattr(loaded, name)
        assert value is None or (value == value and abs(value) < 1e9)  # finite, a timer holds it
