"""Hide secrets and account numbers in every text that leaves for people.

One :class:`Masker` is built from the configured secrets and used by the Slack notifier, the
log handler and the log-only notifier. It replaces, in this order:

- the exact configured secret values (KIS app key and secret, Slack token), longest first;
- the configured account number's 8-digit part on its own (``CANO=12345678``);
- credentials in URLs (``//user:password@host``);
- Slack tokens (``xoxb-``, ``xoxp-``, ``xapp-``, ...) and incoming-webhook URLs;
- ``Bearer ...`` values and JWT-looking tokens (``eyJ...``);
- values of secret-named keys (``appkey=``, ``"appsecret": "..."``, ``access_token``, ...);
- long key-like strings: 32+ characters of mixed upper case, lower case and digits;
- account numbers ``12345678-01`` -> ``12******-01``.

Prices (``71,500``), symbols (``005930``), dates, times and order numbers pass unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

HIDDEN = "****"
_MIN_SECRET_LENGTH = 6  # shorter "secrets" would mangle ordinary words and numbers

_URL_CREDENTIALS = re.compile(r"(//[^:/@\s]+:)[^@/\s]+@")
_SLACK_WEBHOOK = re.compile(r"(hooks\.slack\.com/services/)[A-Za-z0-9/_-]+")
_SLACK_TOKEN = re.compile(r"\b(xox[a-z]|xapp)-[A-Za-z0-9-]+")
_BEARER = re.compile(r"\b([Bb]earer)\s+[A-Za-z0-9._~+/=-]+")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{8,}(?:\.[A-Za-z0-9_-]*){0,2}")
_SECRET_KEY_VALUE = re.compile(
    r"(?i)\b((?:app_?key|app_?secret|secret_?key|approval_?key|access_?token|refresh_?token"
    r"|token|password|passwd|secret|authorization)[\"']?\s*[:=]\s*[\"']?)"
    r"(?!\*\*\*\*|[Bb]earer\b)([^\s\"',;&}]+)"
)
_KEY_LIKE = re.compile(r"(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/_-]{32,}={0,2}(?![A-Za-z0-9+/=_-])")
_ACCOUNT = re.compile(r"(?<![\d-])(\d{2})\d{6}-(\d{2})(?![\d-])")


def _looks_like_key(candidate: str) -> bool:
    """Mixed case and digits, and not a file path made of short segments."""
    if not (
        any(c.isupper() for c in candidate)
        and any(c.islower() for c in candidate)
        and any(c.isdigit() for c in candidate)
    ):
        return False
    return "/" not in candidate or max(len(part) for part in candidate.split("/")) >= 16


def _hide_key_like(match: re.Match[str]) -> str:
    return HIDDEN if _looks_like_key(match.group(0)) else match.group(0)


class Masker:
    """A callable that masks one text; build it once with the process's secrets."""

    def __init__(self, secrets: Iterable[str | None] = (), accounts: Iterable[str] = ()) -> None:
        values = {s for s in secrets if s and len(s) >= _MIN_SECRET_LENGTH}
        self._secrets = _alternation(values)
        prefixes = {a[:8] for a in accounts if re.fullmatch(r"\d{8}-\d{2}", a)}
        self._accounts = (
            re.compile(r"(?<!\d)(\d{2})\d{6}(?!\d)") if prefixes else None,
            prefixes,
        )

    def __call__(self, text: str) -> str:
        if not text:
            return text
        if self._secrets is not None:
            text = self._secrets.sub(HIDDEN, text)
        text = self._mask_known_accounts(text)
        text = _URL_CREDENTIALS.sub(rf"\1{HIDDEN}@", text)
        text = _SLACK_WEBHOOK.sub(rf"\1{HIDDEN}", text)
        text = _SLACK_TOKEN.sub(rf"\1-{HIDDEN}", text)
        text = _BEARER.sub(rf"\1 {HIDDEN}", text)
        text = _JWT.sub(f"eyJ{HIDDEN}", text)
        text = _SECRET_KEY_VALUE.sub(rf"\1{HIDDEN}", text)
        text = _KEY_LIKE.sub(_hide_key_like, text)
        return _ACCOUNT.sub(r"\1******-\2", text)

    def __repr__(self) -> str:
        return "Masker(...)"  # never show the secrets it knows

    def _mask_known_accounts(self, text: str) -> str:
        pattern, prefixes = self._accounts
        if pattern is None:
            return text

        def hide(match: re.Match[str]) -> str:
            whole = match.group(0)
            return f"{match.group(1)}******" if whole in prefixes else whole

        return pattern.sub(hide, text)


def _alternation(values: set[str]) -> re.Pattern[str] | None:
    if not values:
        return None
    ordered = sorted(values, key=len, reverse=True)  # longest first: no partial leftovers
    return re.compile("|".join(re.escape(v) for v in ordered))


mask = Masker()
"""Masks the generic patterns only; use a :class:`Masker` with the configured secrets."""
