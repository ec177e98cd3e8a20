"""KIS errors, typed by what the caller should do, and the table that maps codes to types.

Each type is also the matching domain error, so services catch only the domain tree::

    KISError (BrokerError)
    ├── KISConfigError      (BrokerConfigError)      settings or environment wrong; live not armed;
    │   └── KISNotSupported                          TR not offered here (paper, EGW02006)
    ├── KISAuthError        (BrokerAuthError)        token/key refused; reissued once already
    ├── KISRateLimitError   (BrokerRateLimited)      refused before execution (EGW00201,
    │                                                EGW00133, EGW00215, local limiter timeout)
    ├── KISTransientError   (BrokerUnavailable)      not sent, or a read that failed: retry later
    │   └── KISIncompleteRead (BrokerReadIncomplete) a paged list not read to its end
    ├── KISRejectedError    (BrokerRejected)         the broker said no (rt_cd != "0"), ``code``
    │   └── KISOrderTypeRefused (OrderTypeRefused)   not this order type now (auction, paper)
    ├── KISValidationError  (BrokerValidationError)  malformed request or reply: a bug
    └── KISOrderOutcomeUnknown (OrderOutcomeUnknown) an order left and no trustworthy answer came

Messages carry the code, the tr_id and KIS's own text, already masked (never a secret).
"""

from __future__ import annotations

import re

from stock_manager.domain.broker import (
    BrokerAuthError,
    BrokerConfigError,
    BrokerError,
    BrokerRateLimited,
    BrokerReadIncomplete,
    BrokerRejected,
    BrokerUnavailable,
    BrokerValidationError,
    OrderOutcomeUnknown,
    OrderTypeRefused,
)


class KISError(BrokerError):
    """Base of every KIS error: ``code`` (msg_cd / error_code), HTTP ``status``, ``tr_id``."""

    def __init__(
        self, message: str, *, code: str = "", status: int | None = None, tr_id: str = ""
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.tr_id = tr_id


class KISConfigError(KISError, BrokerConfigError):
    pass


class KISNotSupported(KISConfigError):
    """The environment does not offer this TR (paper lacks volume-rank, holidays, ...)."""


class KISAuthError(KISError, BrokerAuthError):
    pass


class KISRateLimitError(KISError, BrokerRateLimited):
    pass


class KISTransientError(KISError, BrokerUnavailable):
    pass


class KISIncompleteRead(KISTransientError, BrokerReadIncomplete):
    """Paging stopped before the last page (cap, repeated continuation key, error)."""


class KISRejectedError(KISError, BrokerRejected):
    pass


class KISOrderTypeRefused(KISRejectedError, OrderTypeRefused):
    pass


class KISValidationError(KISError, BrokerValidationError):
    pass


class KISOrderOutcomeUnknown(KISError, OrderOutcomeUnknown):
    pass


# Gateway and query-server codes (kis-api §5). Business codes (4xxxxxxx, APBK…) are rejections.
AUTH_CODES = frozenset({"EGW00121", "EGW00122", "EGW00123", "EGW00205"})
# The token is bad or unknown (KIS forgets tokens in maintenance): reissue once per generation.
REISSUE_CODES = frozenset({"EGW00121", "EGW00122", "EGW00123"})
RATE_CODES = frozenset({"EGW00201", "EGW00133", "EGW00215"})
CONFIG_CODES = frozenset(
    {
        "EGW00003",
        "EGW00102",
        "EGW00103",
        "EGW00104",
        "EGW00105",
        "EGW00206",
        "EGW00207",
        "EGW00208",
        "EGW00210",
        "EGW02004",
        "OPSQ2000",
    }
)
NOT_SUPPORTED_CODES = frozenset({"EGW02006", "EGW2004"})
VALIDATION_CODES = frozenset(
    {"EGW00101", "EGW00131", "EGW00132", "OPSQ2001", "OPSQ2002"}
    | {f"OPSQ999{i}" for i in range(5, 10)}
)
TRANSIENT_CODES = frozenset(
    {"EGW00001", "EGW00002", "EGW00300", "EGW00301", "EGW00302", "OPSQ1002"}
    | {f"OPSQ{i:04d}" for i in range(1, 12)}
)
# The gateway refused these before routing the request anywhere: an order answered with one
# of them was not executed, whatever the HTTP status (kis-adapter.md, "OrderOutcomeUnknown").
NOT_EXECUTED_CODES = (
    AUTH_CODES | RATE_CODES | CONFIG_CODES | NOT_SUPPORTED_CODES | VALIDATION_CODES
) - {"EGW00215"}
# "Nothing to show" answers of query TRs: an empty result, not a failure. KIS sends them with
# rt_cd "7" (조회할 자료가 없습니다) or "0". Only known codes count: rt_cd 7 also comes with
# real query errors (e.g. APBK1350 "조회 오류"), and an empty balance read from an error would
# close positions that exist. On an order TR any rt_cd 7 is a refusal of that order.
EMPTY_RESULT_CODES = frozenset({"70070000", "40240000", "KIOK0560"})
# The order type is refused here or now (paper: 11-16; any: 03/04/IOC/FOK in a single-price
# auction). ⚠ The codes are the simulator's (docs/simulator.md); KIS's are unconfirmed.
ORDER_TYPE_CODES = frozenset({"40050000", "40560000", "APBK0550", "APBK0551"})

_BY_CODE: tuple[tuple[frozenset[str], type[KISError]], ...] = (
    (AUTH_CODES, KISAuthError),
    (RATE_CODES, KISRateLimitError),
    (NOT_SUPPORTED_CODES, KISNotSupported),
    (CONFIG_CODES, KISConfigError),
    (VALIDATION_CODES, KISValidationError),
    (TRANSIENT_CODES, KISTransientError),
    (ORDER_TYPE_CODES, KISOrderTypeRefused),
)


def error_type(code: str, status: int) -> type[KISError]:
    """The error type for a failed reply: by code first, then by HTTP status."""
    for codes, kind in _BY_CODE:
        if code in codes:
            return kind
    if code.startswith("EGW"):
        return KISTransientError if status >= 500 else KISRejectedError
    if not code and status in (401, 403):
        return KISAuthError
    if not code and status >= 500:
        return KISTransientError
    if not code and status >= 400:
        return KISValidationError
    return KISRejectedError


_SPACES = re.compile(r"\s+")
MAX_MESSAGE_CHARS = 300  # KIS's msg1 is a sentence; a longer one is cut before it is logged


def describe(code: str, text: str, tr_id: str, status: int | None) -> str:
    """``[EGW00201] 초당 거래건수를 초과하였습니다. (tr_id FHKST01010100, HTTP 500)``."""
    where = ", ".join(
        part
        for part in (f"tr_id {tr_id}" if tr_id else "", f"HTTP {status}" if status else "")
        if part
    )
    body = _SPACES.sub(" ", text[:MAX_MESSAGE_CHARS]).strip() or "no message"
    head = f"[{code[:40]}] " if code else ""
    return f"{head}{body}" + (f" ({where})" if where else "")
