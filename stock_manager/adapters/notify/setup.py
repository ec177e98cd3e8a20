"""Build the process's notifier from settings and attach the Slack log handler.

Typical wiring (CLI, worker, beat)::

    notifier = bootstrap.container().notifier      # build_notifier(settings)
    install_log_handler(notifier, settings)        # root logger -> Slack, by level
    ...
    shutdown_notifications(notifier)               # on exit / Celery worker_shutdown

Without ``SLACK_BOT_TOKEN`` and ``SLACK_CHANNEL`` the notifier only logs and no handler is
installed (the records are in the log already).
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient

from stock_manager.adapters.notify.handler import SlackLogHandler
from stock_manager.adapters.notify.log import LogNotifier
from stock_manager.adapters.notify.masking import Masker
from stock_manager.adapters.notify.slack import SlackNotifier
from stock_manager.config import Settings
from stock_manager.ports import Notifier

SLACK_TIMEOUT = 10  # seconds per Slack request; the background thread is the one waiting


def build_masker(settings: Settings) -> Masker:
    """A masker that knows this process's secrets and account number."""
    secrets = [
        s.get_secret_value() if s else None
        for s in (settings.kis_app_key, settings.kis_app_secret, settings.slack_bot_token)
    ]
    secrets += [settings.app_key.get_secret_value(), settings.app_secret.get_secret_value()]
    return Masker(secrets, accounts=[settings.kis_account_no])


def build_slack_client(settings: Settings) -> WebClient:
    """A slack-sdk client for the configured token, at ``SLACK_BASE_URL`` if set."""
    if settings.slack_bot_token is None:
        raise ValueError("SLACK_BOT_TOKEN is not set")
    base_url = (settings.slack_base_url or WebClient.BASE_URL).rstrip("/") + "/"
    return WebClient(
        token=settings.slack_bot_token.get_secret_value(), base_url=base_url, timeout=SLACK_TIMEOUT
    )


def build_notifier(settings: Settings) -> Notifier:
    """The Slack notifier when Slack is configured, else the log-only notifier."""
    masker = build_masker(settings)
    if not settings.slack_enabled or settings.slack_channel is None:
        return LogNotifier(masker)
    return SlackNotifier(
        build_slack_client(settings),
        settings.slack_channel,
        masker=masker,
        dedupe_seconds=settings.slack_dedupe_seconds,
    )


def install_log_handler(
    notifier: Notifier, settings: Settings, logger: logging.Logger | None = None
) -> SlackLogHandler | None:
    """Attach a :class:`SlackLogHandler` to ``logger`` (the root logger by default).

    Replaces a handler installed earlier on the same logger. Returns ``None`` (and installs
    nothing) when ``notifier`` is not a Slack notifier.
    """
    if not isinstance(notifier, SlackNotifier):
        return None
    target = logger or logging.getLogger()
    for old in _installed(target):
        target.removeHandler(old)
        old.close()
    handler = SlackLogHandler(
        notifier,
        batch_seconds=settings.slack_warning_batch_seconds,
        dedupe_seconds=settings.slack_dedupe_seconds,
        masker=build_masker(settings),
    )
    target.addHandler(handler)
    return handler


def shutdown_notifications(
    notifier: Notifier | None = None, timeout: float = 10.0, logger: logging.Logger | None = None
) -> None:
    """Flush and remove installed log handlers, then deliver what is queued and stop.

    Safe to call more than once; suitable for Celery's ``worker_shutdown`` and
    ``worker_process_shutdown`` signals.
    """
    target = logger or logging.getLogger()
    notifiers: list[Notifier] = []
    for handler in _installed(target):
        target.removeHandler(handler)
        handler.close()  # hands the last warning batch to the notifier
        notifiers.append(handler.notifier)
    if notifier is not None:
        notifiers.append(notifier)
    for each in notifiers:
        close_notifier(each, timeout)


def close_notifier(notifier: Notifier, timeout: float = 10.0) -> None:
    """Close a notifier that has a background thread; a no-op for the others."""
    if isinstance(notifier, SlackNotifier):
        notifier.close(timeout)


def _installed(logger: logging.Logger) -> list[SlackLogHandler]:
    return [h for h in logger.handlers if isinstance(h, SlackLogHandler)]
