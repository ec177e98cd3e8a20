"""The Slack notifier against a fake Slack Web API over loopback, with the real slack-sdk."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from slack_sdk import WebClient

from stock_manager.adapters.notify.slack import SlackNotifier
from stock_manager.ports import Notice
from tests.fakes.slack_api import FakeSlackApi

from .conftest import ACCOUNT, APP_KEY, APP_SECRET

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8


class Clock:
    t = 0.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def quick(slack_api: FakeSlackApi) -> Iterator[SlackNotifier]:
    """A notifier with short retry waits, for the failure tests."""
    client = WebClient(token=slack_api.token, base_url=slack_api.base_url, timeout=5)
    n = SlackNotifier(client, "#alerts", retry_backoff=0.05, max_attempts=3, at_exit=False)
    yield n
    n.close(2.0)


def test_a_notice_arrives_as_a_message_in_the_channel(
    notifier: SlackNotifier, slack_api: FakeSlackApi
) -> None:
    notifier.send(Notice("order_unknown", "error", "Order 42 outcome unknown", "resolving"))

    assert notifier.flush(5)
    [message] = slack_api.messages
    assert message.channel == "C0ALERTS01"
    assert message.text == ":x: [ERROR] *Order 42 outcome unknown*\nresolving"
    [call] = slack_api.calls("chat.postMessage")
    assert call.headers["authorization"] == f"Bearer {slack_api.token}"


def test_follow_ups_with_the_same_thread_key_are_thread_replies(
    notifier: SlackNotifier, slack_api: FakeSlackApi
) -> None:
    notifier.send(Notice("liquidation_incomplete", "error", "Residue 005930", thread_key="liq"))
    notifier.send(Notice("liquidation_incomplete", "warning", "Retrying sell", thread_key="liq"))
    notifier.send(Notice("quarantine", "error", "000660 quarantined", thread_key="q:000660"))
    notifier.send(Notice("liquidation_incomplete", "info", "Flat now", thread_key="liq"))

    assert notifier.flush(5)
    opened, retry, other, flat = slack_api.messages
    assert opened.thread_ts is None and other.thread_ts is None
    assert retry.thread_ts == opened.ts and flat.thread_ts == opened.ts


def test_a_critical_follow_up_is_also_broadcast_to_the_channel(
    notifier: SlackNotifier, slack_api: FakeSlackApi
) -> None:
    notifier.send(Notice("liquidation_incomplete", "error", "Residue", thread_key="liq"))
    notifier.send(Notice("liquidation_incomplete", "warning", "Retry", thread_key="liq"))
    notifier.send(Notice("liquidation_incomplete", "critical", "Still not flat", thread_key="liq"))

    assert notifier.flush(5)
    assert [m.reply_broadcast for m in slack_api.messages] == [False, False, True]


def test_an_expired_incident_opens_a_new_thread(slack_api: FakeSlackApi) -> None:
    clock = Clock()
    client = WebClient(token=slack_api.token, base_url=slack_api.base_url)
    n = SlackNotifier(client, "#alerts", thread_ttl=3600, clock=clock, at_exit=False)
    try:
        n.send(Notice("k", "error", "day one", thread_key="order_unknown:7"))
        assert n.flush(5)
        clock.t = 3600
        n.send(Notice("k", "error", "day two", thread_key="order_unknown:7"))
        assert n.flush(5)
    finally:
        n.close(2)

    assert [m.thread_ts for m in slack_api.messages] == [None, None]


def test_the_daily_report_image_is_uploaded_after_its_message(
    notifier: SlackNotifier, slack_api: FakeSlackApi, tmp_path: Path
) -> None:
    chart = tmp_path / "report-2026-11-20.png"
    chart.write_bytes(PNG)

    notifier.send(
        Notice("daily_report", "info", "Daily report 2026-11-20", "PnL +12,345", None, str(chart))
    )

    assert notifier.flush(5)
    [message] = slack_api.messages
    [upload] = slack_api.uploads.values()
    assert "Daily report 2026-11-20" in message.text
    assert upload.completed and upload.data == PNG
    assert (upload.filename, upload.title) == ("report-2026-11-20.png", "Daily report 2026-11-20")
    assert upload.channel_id == "C0ALERTS01"  # the id learnt from the message, not "#alerts"
    paths = [r.path for r in slack_api.requests]
    assert paths == [
        "/api/chat.postMessage",
        "/api/files.getUploadURLExternal",
        f"/upload/{upload.file_id}",
        "/api/files.completeUploadExternal",
    ]


def test_an_image_follow_up_goes_into_the_incident_thread(
    notifier: SlackNotifier, slack_api: FakeSlackApi, tmp_path: Path
) -> None:
    chart = tmp_path / "equity.png"
    chart.write_bytes(PNG)

    notifier.send(Notice("drawdown", "error", "Daily loss limit hit", thread_key="risk"))
    notifier.send(
        Notice("drawdown", "info", "Equity curve", thread_key="risk", image_path=str(chart))
    )

    assert notifier.flush(5)
    first, _ = slack_api.messages
    [upload] = slack_api.uploads.values()
    assert upload.thread_ts == first.ts


def test_a_missing_image_is_said_in_the_message(
    notifier: SlackNotifier, slack_api: FakeSlackApi, tmp_path: Path
) -> None:
    notifier.send(Notice("daily_report", "info", "Report", image_path=str(tmp_path / "gone.png")))

    assert notifier.flush(5)
    [message] = slack_api.messages
    assert "image not found: gone.png" in message.text
    assert slack_api.uploads == {}


def test_secrets_never_reach_the_wire(notifier: SlackNotifier, slack_api: FakeSlackApi) -> None:
    notifier.send(
        Notice(
            "kis_error",
            "critical",
            f"KIS rejected appkey {APP_KEY}",
            f"appsecret={APP_SECRET} account {ACCOUNT} with {slack_api.token}",
        )
    )

    assert notifier.flush(5)
    bodies = b"".join(r.body for r in slack_api.requests)
    for secret in (APP_KEY, APP_SECRET, ACCOUNT, "50123456", slack_api.token):
        assert secret.encode() not in bodies
    assert "50******-01" in slack_api.messages[0].text


def test_send_returns_at_once_while_slack_is_slow(
    notifier: SlackNotifier, slack_api: FakeSlackApi
) -> None:
    slack_api.delay = 0.2

    started = time.perf_counter()
    for i in range(5):
        notifier.send(Notice("k", "error", f"alert {i}"))
    elapsed = time.perf_counter() - started

    assert elapsed < 0.05  # one blocking post alone would take 0.2 s
    assert slack_api.messages == []
    assert notifier.flush(10)
    assert [m.text.split("*")[1] for m in slack_api.messages] == [f"alert {i}" for i in range(5)]


def test_close_delivers_everything_queued_and_stops_the_thread(
    notifier: SlackNotifier, slack_api: FakeSlackApi
) -> None:
    slack_api.delay = 0.02
    for i in range(10):
        notifier.send(Notice("k", "warning", f"queued {i}"))

    notifier.close(5)

    assert len(slack_api.messages) == 10
    assert not any(t.name == "slack-notifier" and t.is_alive() for t in _threads())
    notifier.send(Notice("k", "error", "after close"))
    time.sleep(0.05)
    assert len(slack_api.messages) == 10


def test_close_gives_up_when_slack_is_too_slow(
    notifier: SlackNotifier, slack_api: FakeSlackApi
) -> None:
    slack_api.delay = 0.3
    for i in range(5):
        notifier.send(Notice("k", "info", f"slow {i}"))

    started = time.monotonic()
    notifier.close(0.4)

    assert time.monotonic() - started < 2.0
    assert notifier.dropped >= 2


def test_identical_notices_within_the_dedupe_window_are_sent_once(
    notifier: SlackNotifier, slack_api: FakeSlackApi
) -> None:
    for _ in range(4):
        notifier.send(Notice("order_unknown", "error", "Order 42 unknown", thread_key="o:42"))
    notifier.send(Notice("order_unknown", "error", "Order 43 unknown", thread_key="o:43"))

    assert notifier.flush(5)
    assert [m.text for m in slack_api.messages] == [
        ":x: [ERROR] *Order 42 unknown*",
        ":x: [ERROR] *Order 43 unknown*",
    ]


def test_rate_limited_posts_are_retried_after_retry_after(
    quick: SlackNotifier, slack_api: FakeSlackApi
) -> None:
    slack_api.fail("chat.postMessage", status=429, retry_after="0.2", times=2)

    quick.send(Notice("k", "error", "eventually"))

    assert quick.flush(5)
    calls = slack_api.calls("chat.postMessage")
    assert len(calls) == 3 and len(slack_api.messages) == 1
    assert calls[1].at - calls[0].at >= 0.19 and calls[2].at - calls[1].at >= 0.19


def test_server_errors_are_retried_with_backoff(
    quick: SlackNotifier, slack_api: FakeSlackApi
) -> None:
    slack_api.fail("chat.postMessage", status=503, error="service_unavailable", times=2)

    quick.send(Notice("k", "error", "after outage"))

    assert quick.flush(5)
    assert len(slack_api.messages) == 1 and quick.delivered == 1


def test_a_slack_error_drops_that_notice_and_the_next_one_goes_through(
    quick: SlackNotifier, slack_api: FakeSlackApi
) -> None:
    slack_api.fail("chat.postMessage", status=200, error="channel_not_found", retry_after=None)

    quick.send(Notice("k", "error", "lost"))
    quick.send(Notice("k", "error", "delivered"))

    assert quick.flush(5)
    assert [m.text for m in slack_api.messages] == [":x: [ERROR] *delivered*"]
    assert len(slack_api.calls("chat.postMessage")) == 2  # no retry of a permanent error
    assert quick.failed == 1


def test_retries_stop_after_max_attempts(quick: SlackNotifier, slack_api: FakeSlackApi) -> None:
    slack_api.fail("chat.postMessage", status=429, retry_after="0.05", times=3)

    quick.send(Notice("k", "error", "given up"))
    quick.send(Notice("k", "error", "next"))

    assert quick.flush(5)
    assert [m.text for m in slack_api.messages] == [":x: [ERROR] *next*"]
    assert quick.failed == 1


def test_a_failed_upload_is_retried_without_posting_the_text_twice(
    quick: SlackNotifier, slack_api: FakeSlackApi, tmp_path: Path
) -> None:
    chart = tmp_path / "chart.png"
    chart.write_bytes(PNG)
    slack_api.fail("files.completeUploadExternal", status=429, retry_after="0.05")

    quick.send(Notice("daily_report", "info", "Report", image_path=str(chart)))

    assert quick.flush(5)
    assert len(slack_api.messages) == 1
    assert [u.completed for u in slack_api.uploads.values()] == [False, True]


def test_a_full_queue_drops_info_first_and_says_so(slack_api: FakeSlackApi) -> None:
    slack_api.delay = 0.1
    client = WebClient(token=slack_api.token, base_url=slack_api.base_url)
    n = SlackNotifier(client, "#alerts", max_queue=2, at_exit=False)
    try:
        n.send(Notice("k", "error", "in flight"))
        time.sleep(0.05)  # the thread has taken it
        for i in range(4):
            n.send(Notice("k", "info", f"chatter {i}"))
        n.send(Notice("k", "critical", "must arrive"))
        assert n.flush(5)
    finally:
        n.close(2)

    texts = [m.text for m in slack_api.messages]
    assert texts[0] == ":x: [ERROR] *in flight*"
    assert any("must arrive" in t for t in texts)
    assert n.dropped == 3
    assert any("3 earlier notices were dropped (queue full)" in t for t in texts)


def test_an_unreachable_slack_never_reaches_the_caller() -> None:
    client = WebClient(
        token="xoxb-x", base_url="http://127.0.0.1:9/api/", timeout=1, retry_handlers=[]
    )
    n = SlackNotifier(client, "#alerts", retry_backoff=0.01, max_attempts=2, at_exit=False)
    try:
        n.send(Notice("k", "critical", "nobody listens"))  # must not raise
        assert n.flush(5)
    finally:
        n.close(1)

    assert (n.delivered, n.failed) == (0, 1)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_sends_with_its_own_thread(
    notifier: SlackNotifier, slack_api: FakeSlackApi
) -> None:
    notifier.send(Notice("k", "info", "from the parent"))
    assert notifier.flush(5)

    pid = os.fork()
    if pid == 0:  # the child: like a Celery prefork worker process
        try:
            notifier.send(Notice("k", "info", "from the child"))
            os._exit(0 if notifier.flush(5) else 1)
        finally:
            os._exit(2)
    _, status = os.waitpid(pid, 0)

    assert os.waitstatus_to_exitcode(status) == 0
    assert [m.text.split("*")[1] for m in slack_api.messages] == [
        "from the parent",
        "from the child",
    ]


def _threads() -> list[object]:
    import threading

    return list(threading.enumerate())
