"""The beat schedule names registered tasks on the intended queues."""

from __future__ import annotations

from typing import Any

import pytest
from celery.schedules import crontab

from stock_manager.celery_config import ROUTES, build_celery_config
from stock_manager.config import get_settings, load_settings

EXPECTED_QUEUES = {
    "tasks.market.open_session": "trading",
    "tasks.scan.scan_candidates": "scan",
    "tasks.prices.check_prices": "prices",
    "tasks.orders.sync_orders": "trading",
    "tasks.locks.sweep_locks": "trading",
    "tasks.reconcile.reconcile_positions": "trading",
    "tasks.liquidation.liquidate_all": "liquidation",
    "tasks.market.close_session": "trading",
    "tasks.reports.daily_summary": "trading",
}


@pytest.fixture
def config() -> dict[str, Any]:
    return build_celery_config(load_settings())


def route(task: str) -> str:
    import fnmatch

    for pattern, target in ROUTES.items():
        if fnmatch.fnmatch(task, pattern):
            return str(target["queue"])
    raise AssertionError(f"no route for {task}")


def test_schedule_covers_architecture_section_6(config: dict[str, Any]) -> None:
    scheduled = {entry["task"] for entry in config["beat_schedule"].values()}
    assert scheduled == set(EXPECTED_QUEUES)


def test_every_beat_entry_names_a_registered_task_on_its_queue(config: dict[str, Any]) -> None:
    from stock_manager.celery_app import app

    app.loader.import_default_modules()
    for name, entry in config["beat_schedule"].items():
        assert entry["task"] in app.tasks, name
        assert route(entry["task"]) == EXPECTED_QUEUES[entry["task"]], name


def test_price_checks_expire_within_their_interval_and_ack_early(config: dict[str, Any]) -> None:
    from stock_manager.celery_app import app

    entry = config["beat_schedule"]["check-prices"]
    assert entry["options"]["expires"] <= entry["schedule"] == 2.0
    app.loader.import_default_modules()
    assert app.tasks["tasks.prices.check_prices"].acks_late is False
    assert app.tasks["tasks.orders.sync_orders"].acks_late is True


def test_liquidation_is_a_weekday_crontab_at_1510_kst(config: dict[str, Any]) -> None:
    entry = config["beat_schedule"]["liquidate-all"]
    assert isinstance(entry["schedule"], crontab)
    assert entry["schedule"].hour == {15} and entry["schedule"].minute == {10}
    assert entry["schedule"].day_of_week == {1, 2, 3, 4, 5}
    assert entry["kwargs"] == {"scheduled": True}
    assert config["timezone"] == "Asia/Seoul"


def test_reliability_settings(config: dict[str, Any]) -> None:
    assert config["task_acks_late"] is True
    assert config["worker_prefetch_multiplier"] == 1
    assert config["broker_connection_retry_on_startup"] is True
    assert config["worker_cancel_long_running_tasks_on_connection_loss"] is True
    assert config["task_soft_time_limit"] < config["task_time_limit"]


def test_redis_visibility_timeout_exceeds_time_limit_and_lease() -> None:
    s = load_settings(redis_url="redis://localhost:6379/0")
    transport = build_celery_config(s)["broker_transport_options"]
    assert transport["visibility_timeout"] > s.worker_lock_ttl > s.task_time_limit


def test_the_embedded_broker_is_the_embedded_redis(config: dict[str, Any]) -> None:
    home = get_settings().data_dir / "redis"
    assert config["broker_url"] == f"redis+socket://{home / 'redis.sock'}"
    transport = config["broker_transport_options"]
    assert transport["embedded_redis_home"] == str(home)  # our transport starts it
    assert transport["visibility_timeout"] == get_settings().broker_visibility_timeout


def test_a_redis_url_names_no_embedded_server() -> None:
    transport = build_celery_config(load_settings(redis_url="redis://r:6379/0"))
    assert "embedded_redis_home" not in transport["broker_transport_options"]
