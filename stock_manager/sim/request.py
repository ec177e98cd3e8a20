"""A parsed KIS request: tr_id, tr_cont and inputs with case-insensitive names.

Inputs are client input: every accessor raises :class:`InputError` (answered ``OPSQ200x``)
and nothing else. Numbers are ASCII digits only (``str.isdigit`` also accepts ``²`` and
``١``, which ``int`` then refuses or reads) and at most ``MAX_DIGITS`` long.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from stock_manager.sim.config import SimConfig
from stock_manager.sim.messages import InputError

MAX_DIGITS = 19  # the widest numeric KIS input, ORD_UNPR, is 19 characters (kis-api §4.7)


def digits(text: str, max_digits: int = MAX_DIGITS) -> bool:
    """Whether ``text`` is 1 to ``max_digits`` ASCII digits."""
    return 0 < len(text) <= max_digits and text.isascii() and text.isdigit()


@dataclass(slots=True)
class KisRequest:
    method: str
    path: str
    tr_id: str
    tr_cont: str
    now: datetime
    params: dict[str, str] = field(default_factory=dict)  # UPPERCASE names

    def get(self, name: str, default: str = "") -> str:
        return self.params.get(name, default)

    def require(self, name: str) -> str:
        if name not in self.params:
            raise InputError(name, missing=True)
        return self.params[name]

    def require_all(self, names: tuple[str, ...]) -> None:
        for name in names:
            self.require(name)

    def integer(self, name: str, minimum: int = 0, blank: int | None = None) -> int:
        """A whole-number input; ``blank`` (when given) stands in for an empty value."""
        text = self.require(name).strip()
        if not text and blank is not None:
            return blank
        if not digits(text) or int(text) < minimum:
            raise InputError(name)
        return int(text)

    def choice(self, name: str, allowed: tuple[str, ...], default: str | None = None) -> str:
        value = self.get(name).strip() if default is not None else self.require(name).strip()
        if not value and default is not None:
            return default
        if value not in allowed:
            raise InputError(name)
        return value

    def check_account(self, config: SimConfig) -> None:
        cano, product = self.require("CANO").strip(), self.require("ACNT_PRDT_CD").strip()
        if cano != config.cano or product != config.product_code:
            raise InputError("ACNO", code="OPSQ2000")


def body_params(body: Any, strict: bool) -> dict[str, str]:
    """POST inputs: a JSON object; strict mode wants UPPERCASE keys and string values."""
    if not isinstance(body, dict):
        raise InputError("JSON_BODY")
    params: dict[str, str] = {}
    for key, value in body.items():
        if strict and key != key.upper():
            raise InputError(str(key))
        if strict and not isinstance(value, str):
            raise InputError(str(key).upper())
        params[str(key).upper()] = "" if value is None else str(value)
    return params


def query_params(items: Any) -> dict[str, str]:
    """GET inputs: query names match case-insensitively (``fid_input_iscd`` works)."""
    return {str(key).upper(): str(value) for key, value in items}
