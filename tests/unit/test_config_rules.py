"""``config check`` refuses what would fail later (issue 14): each bad value of the report
is a ConfigError naming the setting, and no error quotes a secret."""

from __future__ import annotations

import os
from pathlib import Path
from unittest import mock

import pytest

from stock_manager.config import ConfigError, Settings, load_settings

KEY = "PSabcdefghijklmnopqrstuvwxyz01234567"  # 36 characters, like a KIS app key


def load(**env: str) -> Settings:
    with mock.patch.dict(os.environ, env, clear=True):
        return load_settings()


def refused(**env: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load(**env)
    return str(caught.value)


def test_an_unknown_strategy_is_refused_with_the_known_ones() -> None:
    message = refused(STRATEGIES="momentum_brekout")
    assert "STRATEGIES: unknown 'momentum_brekout'" in message
    assert "bollinger_reversion, momentum_breakout" in message


def test_no_strategy_at_all_is_refused() -> None:
    assert "name at least one strategy" in refused(STRATEGIES=",")


def test_an_unregistered_scan_filter_is_refused() -> None:
    assert "SCAN_FILTERS: unknown 'no_penny'" in refused(SCAN_FILTERS="no_penny")


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"EXIT_ORDER_TYPE": "BESTT"}, "not an order type"),
        ({"EXIT_ORDER_TYPE": "LIMIT"}, "not usable"),  # it needs a price; exits send none
        (
            {"LIQUIDATION_ESCALATION_ORDER_TYPE": "IOC_MARKET", "KIS_SIM_DIALECT": "paper"},
            "paper d",
        ),
    ],
)
def test_order_types_come_from_the_dialects_registry(env: dict[str, str], expected: str) -> None:
    assert expected in refused(**env)


def test_paper_takes_its_own_order_types() -> None:
    s = load(KIS_SIM_DIALECT="paper", EXIT_ORDER_TYPE="MARKET", UNIVERSE="005930")
    assert s.exit_order_type == "MARKET"


def test_paper_needs_a_universe_or_the_scan_finds_nothing() -> None:
    assert "UNIVERSE: required on the paper dialect" in refused(KIS_SIM_DIALECT="paper")


def test_a_liquidation_time_after_the_close_is_refused() -> None:
    message = refused(LIQUIDATION_TIME="15:40")
    assert "LIQUIDATION_TIME (15:40)" in message and "15:00" in message and "15:19" in message


def test_a_liquidation_time_before_the_entry_cutoff_is_refused() -> None:
    assert "LIQUIDATION_TIME" in refused(LIQUIDATION_TIME="14:00")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MARKET_OPEN_TIME", "09:30"),
        ("MARKET_CLOSE_TIME", "15:25"),
        ("DAILY_SUMMARY_TIME", "12:00"),
    ],
)
def test_open_close_and_summary_must_frame_the_day(name: str, value: str) -> None:
    assert name in refused(**{name: value})


def test_a_custom_session_must_hold_the_cutoffs_set_by_hand() -> None:
    leads = {"ENTRY_CUTOFF_LEAD": "PT20M", "LIQUIDATION_LEAD": "PT10M", "HARD_CUT_LEAD": "PT1M"}
    message = refused(SESSION_OPEN="10:00", SESSION_CLOSE="10:10", **leads)
    assert "ENTRY_CUTOFF_LEAD" in message and "inside" in message
    assert "after SESSION_OPEN" in refused(SESSION_OPEN="10:00", SESSION_CLOSE="09:00")


def test_a_short_custom_session_needs_no_cutoff_settings() -> None:
    s = load(SESSION_OPEN="10:00", SESSION_CLOSE="10:05")  # default leads: fitted to it
    assert s.session_close is not None  # the crontab times are not checked against it


@pytest.mark.parametrize("value", ["nocolon", "user:", ":pw", "a:b,nocolon", "us er:pw"])
def test_flower_basic_auth_must_be_user_colon_password(value: str) -> None:
    message = refused(FLOWER_BASIC_AUTH=value)
    assert "FLOWER_BASIC_AUTH: must be user:password" in message
    assert value not in message.split("must be", 1)[1].split("\n")[0].replace("user:password", "")


def test_flower_basic_auth_takes_several_users() -> None:
    assert load(FLOWER_BASIC_AUTH="a:b,c:d").flower_basic_auth is not None


@pytest.mark.parametrize("value", ["inf", "nan", "1e9", "0.5", "901"])
def test_dead_man_seconds_must_be_finite_and_sensible(value: str) -> None:
    assert "DEAD_MAN_SECONDS" in refused(DEAD_MAN_SECONDS=value)


def test_a_beat_lock_that_outlives_the_dead_man_switch_is_refused() -> None:
    assert "below DEAD_MAN_SECONDS" in refused(BEAT_LOCK_TIMEOUT="30", DEAD_MAN_SECONDS="30")
    assert "twice beat's" in refused(BEAT_LOCK_TIMEOUT="6")


def test_a_sub_second_interval_is_refused() -> None:
    assert "PRICE_CHECK_INTERVAL (0.2s)" in refused(PRICE_CHECK_INTERVAL="0.2")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("abc", "not a database URL"),
        ("mysql://u@h/db", "only PostgreSQL and SQLite"),
        ("postgresql://u:pw@h:notaport/db", "not a database URL"),
    ],
)
def test_a_database_url_that_cannot_work_is_refused(url: str, expected: str) -> None:
    message = refused(DATABASE_URL=url)
    assert f"DATABASE_URL: {expected}" in message and "pw" not in message


def test_redis_and_broker_urls_need_a_known_scheme() -> None:
    assert "REDIS_URL" in refused(REDIS_URL="http://127.0.0.1:6379")
    assert "CELERY_BROKER_URL" in refused(CELERY_BROKER_URL="carrier-pigeon://x")
    assert load(CELERY_BROKER_URL="amqp://guest@h//").celery_broker_url


def test_kis_urls_need_their_schemes() -> None:
    assert "KIS_WS_URL: must start with ws or wss://" in refused(KIS_WS_URL="http://x")


def test_a_secret_in_the_wrong_variable_is_never_quoted() -> None:
    message = refused(KIS_ACCOUNT_NO=KEY, KIS_ENV=KEY, MAX_POSITIONS=KEY)
    assert KEY not in message and KEY[:12] not in message
    assert "KIS_ACCOUNT_NO" in message and "36 characters" in message


def test_a_short_bad_value_is_still_quoted() -> None:
    assert "(got '123')" in refused(KIS_ACCOUNT_NO="123")


def test_a_url_is_quoted_by_scheme_and_host_only() -> None:
    message = refused(DATABASE_URL="postgresql://me:pw@db.example/x", LOCK_BACKEND="nope")
    assert "pw" not in message and "me:" not in message


def test_data_dir_expands_the_home_folder() -> None:
    s = load(DATA_DIR="~/sm-data")
    assert s.data_dir == Path.home() / "sm-data"
    assert "~" not in str(s.data_dir)


def test_the_max_notional_per_symbol_fits_in_the_total() -> None:
    assert "MAX_NOTIONAL_PER_SYMBOL" in refused(
        MAX_NOTIONAL_PER_SYMBOL="20000000", MAX_TOTAL_NOTIONAL="10000000"
    )


def test_the_defaults_pass_every_rule() -> None:
    assert load().strategies == ["momentum_breakout"]
