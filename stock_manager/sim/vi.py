"""Volatility interruptions (VI, 변동성완화장치) and trading halts of one symbol (krx.md §3).

A trade that would move the price from the last trade by ``dynamic_pct`` or more (dynamic
VI), or from the last single-price reference (the base price, then each auction's price) by
``static_pct`` or more (static VI), does not happen: the symbol switches to a single-price
auction of ``seconds`` plus a random extension of up to ``extension_seconds``. Orders are
collected (continuous-only types refused, as in the closing call), nothing matches, and at
the end one uncross trades at the price that triggered it; crossing orders fill there.
⚠ The thresholds depend on the index membership and the session (3/6 %, 2/4 % in the
closing call); they are settings here, as are the auction's length and extension.
A halted symbol (admin ``/_sim/halt``) neither trades nor accepts orders.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ViSettings:
    enabled: bool = True
    dynamic_pct: float = 6.0  # ⚠ KOSPI200 members 3 %; other stocks 6 %
    static_pct: float = 10.0
    seconds: float = 120.0  # the single-price auction
    extension_seconds: float = 30.0  # its random end, up to this much later


@dataclass(frozen=True, slots=True)
class Interruption:
    kind: str  # "static" | "dynamic"
    price: int  # the price that triggered it: the auction's uncross price
    ends_at: float  # POSIX seconds

    @property
    def code(self) -> str:
        """``vi_cls_code`` as the simulator sends it: 1 static, 2 dynamic (⚠ KIS: Y/N)."""
        return "1" if self.kind == "static" else "2"


def trigger(
    settings: ViSettings, last: int, reference: int, price: int, ts: float, rng: random.Random
) -> Interruption | None:
    """The VI a trade at ``price`` would set off, or ``None`` if it may trade."""
    if not settings.enabled or last <= 0 or reference <= 0:
        return None
    kind = ""
    if abs(price - reference) * 100 >= settings.static_pct * reference:
        kind = "static"
    elif abs(price - last) * 100 >= settings.dynamic_pct * last:
        kind = "dynamic"
    if not kind:
        return None
    length = settings.seconds + rng.uniform(0, settings.extension_seconds)
    return Interruption(kind, price, ts + length)
