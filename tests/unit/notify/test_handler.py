"""The log handler routes records by level, batches warnings and drops repeats."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator

import pytest

from stock_manager.adapters.notify.handler import SlackLogHandler
from stock_manager.adapters.notify.masking import Masker
from stock_manager.ports import Notice
from tests.fakes.ports import FakeNotifier

APP_KEY = "PSg5dctL9dKPo727J13Ur405OSXXXXXXXXXX"


class Clock:
    def __init__(self) -> None:
        self.t = 5000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def notifier() -> FakeNotifier:
    return FakeNotifier()


@pytest.fixture
def handler(notifier: FakeNotifier, clock: Clock) -> Iterator[SlackLogHandler]:
    h = SlackLogHandler(
        notifier,
        batch_seconds=300,
        dedupe_seconds=60,
        masker=Masker([APP_KEY], accounts=["50123456-01"]),
        clock=clock,
        tick_seconds=None,
        at_exit=False,
    )
    yield h
    h.close()


def attach(h: logging.Handler, name: str | None = None) -> logging.Logger:
    logger = logging.getLogger(name or f"stock_manager.test.{uuid.uuid4().hex[:8]}")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    logger.handlers = [h]
    return logger


@pytest.mark.parametrize(
    ("level", "kind", "notice_level"),
    [
        (logging.CRITICAL, "log_critical", "critical"),
        (logging.ERROR, "log_error", "error"),
    ],
)
def test_errors_and_criticals_are_sent_at_once(
    handler: SlackLogHandler, notifier: FakeNotifier, level: int, kind: str, notice_level: str
) -> None:
    log = attach(handler)

    log.log(level, "order %s stuck", "A1")

    [notice] = notifier.sent
    assert (notice.kind, notice.level, notice.title) == (kind, notice_level, "order A1 stuck")
    assert notice.thread_key and notice.thread_key.startswith("log:")


@pytest.mark.parametrize("level", [logging.DEBUG, logging.INFO])
def test_info_and_debug_are_never_sent(
    handler: SlackLogHandler, notifier: FakeNotifier, clock: Clock, level: int
) -> None:
    log = attach(handler)

    log.log(level, "routine")
    clock.t += 1000
    handler.tick()
    handler.flush()

    assert notifier.sent == []


def test_warnings_wait_for_the_batch_window(
    handler: SlackLogHandler, notifier: FakeNotifier, clock: Clock
) -> None:
    log = attach(handler)
    log.warning("quote stale for %s", "005930")
    clock.t += 10
    log.warning("slow fill for %s", "000660")
    clock.t += 289
    handler.tick()
    assert notifier.sent == []

    clock.t += 1
    handler.tick()

    [batch] = notifier.sent
    assert (batch.kind, batch.level) == ("log_warnings", "warning")
    assert batch.title == "2 warnings (batched every 5 min)"
    assert "quote stale for 005930" in batch.text
    assert "slow fill for 000660" in batch.text


def test_a_warning_after_the_window_sends_the_batch_without_a_tick(
    handler: SlackLogHandler, notifier: FakeNotifier, clock: Clock
) -> None:
    log = attach(handler)
    log.warning("first")
    clock.t += 301

    log.warning("second")

    [batch] = notifier.sent
    assert "first" in batch.text and "second" in batch.text


def test_each_window_starts_afresh(
    handler: SlackLogHandler, notifier: FakeNotifier, clock: Clock
) -> None:
    log = attach(handler)
    log.warning("one")
    clock.t += 300
    handler.tick()
    log.warning("two")
    clock.t += 299
    handler.tick()

    assert len(notifier.sent) == 1
    clock.t += 1
    handler.tick()
    assert [n.title for n in notifier.sent] == ["1 warning (batched every 5 min)"] * 2
    assert "one" not in notifier.sent[1].text


def test_flush_sends_the_pending_batch_at_once(
    handler: SlackLogHandler, notifier: FakeNotifier
) -> None:
    attach(handler).warning("pending at shutdown")

    handler.flush()

    assert [n.kind for n in notifier.sent] == ["log_warnings"]
    handler.flush()
    assert len(notifier.sent) == 1  # nothing pending: nothing more sent


def test_a_large_batch_is_capped_with_a_count_of_the_rest(
    notifier: FakeNotifier, clock: Clock
) -> None:
    h = SlackLogHandler(notifier, clock=clock, tick_seconds=None, at_exit=False, max_batch_lines=2)
    log = attach(h)
    for i in range(5):
        log.warning("distinct warning %d" % i)  # noqa: UP031  # five distinct templates

    h.flush()

    [batch] = notifier.sent
    assert batch.title.startswith("5 warnings")
    assert batch.text.count("• ") == 2
    assert "… and 3 more" in batch.text


def test_repeats_within_a_minute_are_dropped_and_counted_in_the_next_message(
    handler: SlackLogHandler, notifier: FakeNotifier, clock: Clock
) -> None:
    log = attach(handler)
    for i in range(5):
        log.error("order %s rejected", i)  # same template: a repeat
        clock.t += 10
    assert len(notifier.sent) == 1

    clock.t += 20  # 70 s after the first
    log.error("order %s rejected", 99)

    first, second = notifier.sent
    assert second.title == "order 99 rejected"
    assert "×4" in second.text
    assert first.thread_key == second.thread_key  # follow-ups land in the incident's thread


def test_suppressed_counts_go_out_with_the_batch_when_nothing_else_does(
    handler: SlackLogHandler, notifier: FakeNotifier, clock: Clock
) -> None:
    log = attach(handler)
    log.error("broker timeout")
    log.error("broker timeout")
    log.error("broker timeout")
    clock.t += 300
    handler.tick()

    _error, summary = notifier.sent
    assert summary.title == "Repeated log messages"
    assert "broker timeout" in summary.text and "×2" in summary.text


def test_the_same_text_from_another_logger_is_not_a_repeat(
    handler: SlackLogHandler, notifier: FakeNotifier
) -> None:
    attach(handler).error("boom")
    attach(handler).error("boom")

    assert len(notifier.sent) == 2


def test_tracebacks_are_included_compactly(
    handler: SlackLogHandler, notifier: FakeNotifier
) -> None:
    log = attach(handler)

    def deep(n: int) -> None:
        if n == 0:
            raise ZeroDivisionError("division by zero in sizing")
        deep(n - 1)

    try:
        deep(30)
    except ZeroDivisionError:
        log.exception("sizing failed")

    [notice] = notifier.sent
    assert "```" in notice.text
    assert "ZeroDivisionError: division by zero in sizing" in notice.text
    assert notice.text.count("in deep") <= 6  # only the last frames
    assert len(notice.text) < 2000


@pytest.mark.parametrize(
    "name",
    [
        "slack_sdk.web.base_client",
        "urllib3.connectionpool",
        "stock_manager.adapters.notify.slack",
        "stock_manager.notice",
    ],
)
def test_records_of_the_sending_machinery_are_never_sent(
    handler: SlackLogHandler, notifier: FakeNotifier, name: str
) -> None:
    attach(handler, name).error("Slack said no")

    assert notifier.sent == []


def test_a_notifier_that_logs_while_sending_does_not_recurse(clock: Clock) -> None:
    class LoudNotifier(FakeNotifier):
        def send(self, notice: Notice) -> None:
            super().send(notice)
            logging.getLogger("stock_manager.elsewhere").error("logged during send")

    loud = LoudNotifier()
    h = SlackLogHandler(loud, clock=clock, tick_seconds=None, at_exit=False)
    logging.getLogger("stock_manager.elsewhere").addHandler(h)
    try:
        logging.getLogger("stock_manager.elsewhere").error("first")
    finally:
        logging.getLogger("stock_manager.elsewhere").removeHandler(h)
        h.close()

    assert [n.title for n in loud.sent] == ["first"]


def test_secrets_and_accounts_are_masked_before_they_reach_the_notifier(
    handler: SlackLogHandler, notifier: FakeNotifier
) -> None:
    log = attach(handler)
    log.error("KIS refused appkey %s for 50123456-01", APP_KEY)
    log.warning("token xoxb-1-2-abc leaked?")
    handler.flush()

    sent = " ".join(n.title + n.text for n in notifier.sent)
    assert APP_KEY not in sent and "50123456" not in sent and "xoxb-1-2-abc" not in sent
    assert "50******-01" in sent


def test_a_broken_notifier_never_breaks_the_logging_caller(
    clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Broken:
        def send(self, notice: Notice) -> None:
            raise RuntimeError("down")

    monkeypatch.setattr(logging, "raiseExceptions", False)
    h = SlackLogHandler(Broken(), clock=clock, tick_seconds=None, at_exit=False)

    attach(h).error("still fine")  # must not raise
    h.close()


def test_the_batch_timer_thread_sends_without_any_new_record(notifier: FakeNotifier) -> None:
    h = SlackLogHandler(notifier, batch_seconds=0.05, tick_seconds=0.01, at_exit=False)
    try:
        attach(h).warning("lonely warning")
        for _ in range(200):
            if notifier.sent:
                break
            time.sleep(0.01)
    finally:
        h.close()

    assert [n.kind for n in notifier.sent] == ["log_warnings"]
