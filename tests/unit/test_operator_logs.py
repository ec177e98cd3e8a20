"""Operators see what happens (issue 14): waits say what for and how long, a task failure is
in the worker's own log with its symbol, and a Slack notice is in the local log too."""

from __future__ import annotations

import logging

import pytest

from stock_manager.adapters.kis.rate_limit import FileRateLimiter
from stock_manager.adapters.kis.token_store import MemoryTokenStore
from stock_manager.adapters.notify.handler import is_ours
from stock_manager.ports import Lane, Notice
from tests.unit.kis.test_tokens import Clock, Issuer, manager


def test_a_token_wait_for_the_one_minute_rule_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    tokens = manager(MemoryTokenStore(), Issuer(clock), clock)
    refused = tokens.get()
    clock.now += 8
    with caplog.at_level(logging.INFO, "stock_manager"):
        tokens.invalidate(refused)
    waits = [r.getMessage() for r in caplog.records if "waiting" in r.getMessage()]
    assert waits == [
        "waiting 52s to issue a new KIS sim:token:abc: KIS issues one per minute "
        "per app key (EGW00133)"
    ]


def test_a_long_rate_limit_wait_is_logged(
    tmp_path: object, caplog: pytest.LogCaptureFixture
) -> None:
    now = [0.0]
    limiter = FileRateLimiter(
        tmp_path / "rl.json",  # type: ignore[operator]
        rate=0.5,
        default_timeout=10,
        clock=lambda: 1_000_000 + now[0],
        sleep=lambda s: now.__setitem__(0, now[0] + s),
        monotonic=lambda: now[0],
    )
    with caplog.at_level(logging.INFO, "stock_manager"):
        limiter.acquire(Lane.ENTRY)
        limiter.acquire(Lane.ENTRY)  # 2 s apart at 0.5/s
    messages = [r.getMessage() for r in caplog.records]
    assert any("waiting 2.0s for a KIS request slot (lane ENTRY" in m for m in messages), messages


def test_a_failed_task_is_logged_with_its_symbol_and_reason(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from stock_manager.celery_app import _log_failure

    with caplog.at_level(logging.ERROR, "stock_manager.celery_app"):
        _log_failure(
            name="tasks.orders.exit",
            exception=RuntimeError("broker said no for 12345678-01"),
            args=["005930", "stop_loss", ""],
            kwargs={},
        )
    (record,) = [r for r in caplog.records if r.name == "stock_manager.celery_app"]
    text = record.getMessage()
    assert text.startswith("task tasks.orders.exit failed for 005930: RuntimeError: broker said")
    assert "12345678" not in text  # masked
    assert is_ours(record)  # the worker's log only: Slack has Celery's own line


def test_a_slack_notice_is_also_in_the_local_log(caplog: pytest.LogCaptureFixture) -> None:
    from slack_sdk import WebClient

    from stock_manager.adapters.notify.slack import SlackNotifier

    client = WebClient(token="xoxb-test", base_url="http://127.0.0.1:9/", timeout=1)
    notifier = SlackNotifier(client, "#trading")
    try:
        with caplog.at_level(logging.INFO, "stock_manager.notice"):
            notifier.send(Notice("order_rejected", "error", "Order rejected", "005930: no cash"))
    finally:
        notifier.close(timeout=1)
    assert any(
        "order_rejected: Order rejected 005930: no cash" in r.getMessage() for r in caplog.records
    )
