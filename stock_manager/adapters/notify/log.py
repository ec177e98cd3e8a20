"""The notifier used without Slack settings: notices go to the log, nowhere else."""

from __future__ import annotations

import logging

from stock_manager.ports import Notice

_LEVELS = {
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
}
log = logging.getLogger("stock_manager.notice")


class LogNotifier:
    def send(self, notice: Notice) -> None:
        log.log(_LEVELS[notice.level], "%s: %s %s", notice.kind, notice.title, notice.text)
