"""Wiring from settings: which notifier, the root-logger handler, and shutdown delivery."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from stock_manager.adapters.notify.handler import SlackLogHandler
from stock_manager.adapters.notify.log import LogNotifier
from stock_manager.adapters.notify.setup import (
    build_masker,
    build_notifier,
    install_log_handler,
    shutdown_notifications,
)
from stock_manager.adapters.notify.slack import SlackNotifier
from stock_manager.bootstrap import Container
from stock_manager.config import Settings, load_settings
from tests.clock_shift import pythonpath
from tests.fakes.slack_api import FakeSlackApi

from .conftest import ACCOUNT, APP_KEY, APP_SECRET

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def logger() -> Iterator[logging.Logger]:
    log = logging.getLogger(f"stock_manager.test.notify.{uuid.uuid4().hex[:8]}")
    log.setLevel(logging.DEBUG)
    log.propagate = False
    yield log
    for handler in list(log.handlers):
        log.removeHandler(handler)
        handler.close()


def test_without_slack_settings_notices_only_go_to_the_log() -> None:
    settings = load_settings()

    notifier = build_notifier(settings)

    assert isinstance(notifier, LogNotifier)
    assert install_log_handler(notifier, settings, logging.getLogger("x.y")) is None
    assert not logging.getLogger("x.y").handlers


def test_the_container_builds_the_slack_notifier_and_closes_it_on_dispose(
    settings: Settings,
) -> None:
    container = Container(settings)
    notifier = container.notifier

    assert isinstance(notifier, SlackNotifier)
    container.dispose()
    assert notifier.closed


def test_the_container_falls_back_to_the_log_notifier() -> None:
    assert isinstance(Container(load_settings()).notifier, LogNotifier)


def test_the_masker_knows_every_configured_secret(settings: Settings) -> None:
    masker = build_masker(settings)
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""

    out = masker(f"{APP_KEY} {APP_SECRET} {token} {ACCOUNT}")

    assert out == "**** **** **** 50******-01"


def test_reprs_do_not_reveal_the_token(settings: Settings, notifier: SlackNotifier) -> None:
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else "?"

    assert token not in repr(notifier)
    assert token not in repr(settings)


def test_log_records_reach_slack_by_level(
    settings: Settings, slack_api: FakeSlackApi, notifier: SlackNotifier, logger: logging.Logger
) -> None:
    install_log_handler(notifier, settings, logger)

    logger.info("scan found 3 candidates")
    logger.warning("quote for %s is %d s old", "005930", 12)
    logger.warning("order book thin for %s", "000660")
    for _ in range(5):
        logger.error("KIS answered 500 for appkey %s", APP_KEY)
    assert notifier.flush(5)

    [error] = slack_api.messages  # warnings wait for their batch, repeats are dropped
    assert error.text.startswith(":x: [ERROR] *KIS answered 500 for appkey ****")
    assert APP_KEY not in error.text

    shutdown_notifications(notifier, timeout=5, logger=logger)

    _, batch = slack_api.messages
    assert batch.text.startswith(":warning: *2 warnings (batched every 5 min)*")
    assert "quote for 005930 is 12 s old" in batch.text
    assert "order book thin for 000660" in batch.text
    assert "×4" in batch.text  # the four dropped repeats of the error
    assert "scan found" not in " ".join(m.text for m in slack_api.messages)
    assert notifier.closed
    assert not [h for h in logger.handlers if isinstance(h, SlackLogHandler)]


def test_warnings_are_sent_when_the_batch_window_ends(
    slack_api: FakeSlackApi, logger: logging.Logger
) -> None:
    settings = load_settings(
        slack_bot_token=slack_api.token,
        slack_channel="#alerts",
        slack_base_url=slack_api.base_url,
        slack_warning_batch_seconds=0.2,
    )
    notifier = build_notifier(settings)
    handler = install_log_handler(notifier, settings, logger)
    assert handler is not None
    try:
        logger.warning("first")
        logger.warning("second")

        assert slack_api.wait_for(lambda api: len(api.messages) == 1, timeout=5)
    finally:
        shutdown_notifications(notifier, timeout=2, logger=logger)

    assert "first" in slack_api.messages[0].text and "second" in slack_api.messages[0].text


def test_tracebacks_reach_slack_escaped_and_compact(
    settings: Settings, slack_api: FakeSlackApi, notifier: SlackNotifier, logger: logging.Logger
) -> None:
    install_log_handler(notifier, settings, logger)

    try:
        {}["missing"]  # raise a KeyError on purpose
    except KeyError:
        logger.exception("reconcile <failed>")
    assert notifier.flush(5)

    [message] = slack_api.messages
    assert "*reconcile &lt;failed&gt;*" in message.text
    assert "```Traceback" in message.text and "KeyError: 'missing'" in message.text


def test_installing_twice_replaces_the_handler(
    settings: Settings, notifier: SlackNotifier, logger: logging.Logger
) -> None:
    install_log_handler(notifier, settings, logger)
    install_log_handler(notifier, settings, logger)

    assert len([h for h in logger.handlers if isinstance(h, SlackLogHandler)]) == 1


def test_what_is_queued_is_delivered_when_the_process_exits(
    slack_api: FakeSlackApi, tmp_path: Path
) -> None:
    slack_api.delay = 0.05  # still sending when the script reaches its end
    script = textwrap.dedent(
        """
        import logging
        from stock_manager.adapters.notify.setup import build_notifier, install_log_handler
        from stock_manager.config import load_settings
        from stock_manager.ports import Notice

        settings = load_settings()
        notifier = build_notifier(settings)
        install_log_handler(notifier, settings)
        for i in range(5):
            notifier.send(Notice("k", "error", f"queued {i}"))
        logging.getLogger("stock_manager.demo").warning("batched, due in 5 minutes")
        """
    )
    env = {
        **os.environ,
        "PYTHONPATH": pythonpath(str(REPO)),
        "SLACK_BOT_TOKEN": slack_api.token,
        "SLACK_CHANNEL": "#alerts",
        "SLACK_BASE_URL": slack_api.base_url,
    }

    result = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=tmp_path, timeout=30, capture_output=True
    )

    assert result.returncode == 0, result.stderr.decode()
    texts = [m.text for m in slack_api.messages]
    assert [t for t in texts if "queued" in t] == [f":x: [ERROR] *queued {i}*" for i in range(5)]
    assert any("batched, due in 5 minutes" in t for t in texts)  # the handler flushed first
