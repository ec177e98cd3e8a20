"""The notifier used without Slack settings: notices go to the log, nowhere else."""

from __future__ import annotations

import logging
from collections.abc import Callable

from stock_manager.adapters.notify.masking import mask
from stock_manager.ports import Notice

_LEVELS = {
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
}
log = logging.getLogger("stock_manager.notice")


class LogNotifier:
    def __init__(self, masker: Callable[[str], str] = mask) -> None:
        self._mask = masker

    def send(self, notice: Notice) -> None:
        text = self._mask(f"{notice.title} {notice.text}".rstrip())
        log.log(_LEVELS[notice.level], "%s: %s", notice.kind, text)
