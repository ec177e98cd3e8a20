"""Secret masking: app key, app secret, tokens, approval key and account number.

A :class:`Masker` knows the secrets of one client and replaces each occurrence in any text
before it reaches a log record or an exception message. Tokens are registered as they are
issued. The account number keeps its first two digits and its product code.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable

REDACTED = "****"


def mask_secret(value: str) -> str:
    """Show at most the first four characters of a long secret, nothing of a short one."""
    if len(value) < 12:
        return REDACTED
    return value[:4] + REDACTED


def mask_account(account: str) -> str:
    """``12345678-01`` → ``12******-01``; a bare CANO ``12345678`` → ``12******``."""
    cano, dash, product = account.partition("-")
    return cano[:2] + "*" * max(len(cano) - 2, 0) + dash + product


class Masker:
    """Replaces every registered secret in a text; thread-safe, cheap when nothing matches."""

    def __init__(self, secrets: Iterable[str] = (), accounts: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._replacements: dict[str, str] = {}
        self._pattern: re.Pattern[str] | None = None
        for secret in secrets:
            self.add(secret)
        for account in accounts:
            self.add_account(account)

    def add(self, secret: str, shown: str | None = None) -> None:
        """Register a secret (ignored when shorter than 4 characters)."""
        if len(secret) < 4:
            return
        with self._lock:
            if secret in self._replacements:
                return
            self._replacements[secret] = shown if shown is not None else mask_secret(secret)
            ordered = sorted(self._replacements, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(s) for s in ordered))

    def add_account(self, account: str) -> None:
        """Register ``CANO-PRDT`` and the bare 8-digit CANO."""
        self.add(account, mask_account(account))
        cano = account.partition("-")[0]
        self.add(cano, mask_account(cano))

    def __call__(self, text: object) -> str:
        value = str(text)
        pattern = self._pattern
        if pattern is None:
            return value
        return pattern.sub(lambda m: self._replacements[m.group(0)], value)

    def __repr__(self) -> str:
        return f"Masker({len(self._replacements)} secrets)"


class MaskingFilter(logging.Filter):
    """A logging filter that masks a record's rendered message (install on handlers)."""

    def __init__(self, masker: Masker) -> None:
        super().__init__()
        self._mask = masker

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = self._mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


# Records of these loggers are masked with every secret any KIS client in the process knows.
# httpx logs request URLs, whose query strings carry the account number.
PROTECTED_LOGGERS = ("stock_manager.kis", "httpx", "httpcore")
LOG_MASKER = Masker()
_LOG_FILTER = MaskingFilter(LOG_MASKER)


def protect_logs(secrets: Iterable[str] = (), accounts: Iterable[str] = ()) -> None:
    """Mask ``secrets`` and ``accounts`` in every record of :data:`PROTECTED_LOGGERS`."""
    for secret in secrets:
        LOG_MASKER.add(secret)
    for account in accounts:
        LOG_MASKER.add_account(account)
    for name in PROTECTED_LOGGERS:
        logger = logging.getLogger(name)
        if _LOG_FILTER not in logger.filters:
            logger.addFilter(_LOG_FILTER)
