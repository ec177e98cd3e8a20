"""Which KIS host a URL names: loopback (a simulator), KIS's paper host, or live.

Issue 13 item 8, "live means live": a URL is live unless it is loopback or the paper
(모의투자) host, whatever ``KIS_ENV`` says, so a paper or sim set-up pointed at the real
host by a stray ``KIS_REST_URL`` cannot send orders without ``TRADING_ARMED=true``.
Paper hosts (``kis-api.md`` §1): REST ``openapivts.koreainvestment.com`` (any port), and
WebSocket ``ops.koreainvestment.com`` on port 31000 (the live feed shares the host on 21000).
"""

from __future__ import annotations

import ipaddress
from typing import Literal
from urllib.parse import urlsplit

HostKind = Literal["loopback", "paper", "live"]

PAPER_REST_HOST = "openapivts.koreainvestment.com"
PAPER_WS_HOST_PORT = ("ops.koreainvestment.com", 31000)


def host_kind(url: str) -> HostKind:
    """``loopback`` for localhost/127.0.0.0/8/::1, ``paper`` for the paper host, else ``live``.

    A URL that cannot be parsed, or has no host, is ``live``: unknown means dangerous.
    """
    try:
        parts = urlsplit(url)
        host, port = (parts.hostname or "").lower(), parts.port
    except ValueError:
        return "live"
    if not host:
        return "live"
    if host == "localhost" or _is_loopback_ip(host):
        return "loopback"
    if host == PAPER_REST_HOST or (host, port) == PAPER_WS_HOST_PORT:
        return "paper"
    return "live"


def _is_loopback_ip(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def live_urls(*urls: str) -> list[str]:
    """The URLs among ``urls`` that reach a live host."""
    return [url for url in urls if host_kind(url) == "live"]
