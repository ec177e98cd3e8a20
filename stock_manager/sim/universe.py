"""The simulated symbols: codes, names, previous closes and listed shares.

The first symbols carry well-known KRX codes and names so logs read naturally; prices are
drawn from the seed, not copied from the market. More symbols get codes ``95xxxx``. A
symbols file lists ``code[,name[,previous close]]`` per line (commas or whitespace).

Each symbol also carries its market (``KOSPI``/``KOSDAQ``) and instrument type
(``stock``/``ETF``/``ETN``): the stock-info TRs, quotes and later the market-state fields
read them from here. Known codes carry their real market; everything else is a KOSPI stock.
The known codes include four KODEX ETFs (leveraged 2x, inverse 2x, inverse, KOSPI 200): they
tick, are limited and are charged as ETFs, and the stock-info TRs answer their fields.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Literal

from stock_manager.domain import instruments as domain_instruments
from stock_manager.domain.instruments import InstrumentKind
from stock_manager.domain.krx import round_to_tick

KNOWN: tuple[tuple[str, str], ...] = (
    ("005930", "삼성전자"),
    ("000660", "SK하이닉스"),
    ("373220", "LG에너지솔루션"),
    ("207940", "삼성바이오로직스"),
    ("005380", "현대차"),
    ("000270", "기아"),
    ("068270", "셀트리온"),
    ("035420", "NAVER"),
    ("005490", "POSCO홀딩스"),
    ("051910", "LG화학"),
    ("006400", "삼성SDI"),
    ("035720", "카카오"),
    ("105560", "KB금융"),
    ("055550", "신한지주"),
    ("012330", "현대모비스"),
    ("028260", "삼성물산"),
    ("066570", "LG전자"),
    ("003550", "LG"),
    ("096770", "SK이노베이션"),
    ("034730", "SK"),
    ("015760", "한국전력"),
    ("032830", "삼성생명"),
    ("017670", "SK텔레콤"),
    ("030200", "KT"),
    ("086790", "하나금융지주"),
    ("247540", "에코프로비엠"),
    ("122630", "KODEX 레버리지"),
    ("252670", "KODEX 200선물인버스2X"),
    ("114800", "KODEX 인버스"),
    ("069500", "KODEX 200"),
)
# The known ETFs (the day traders' favourites, issue 13) and their tracking multiples.
KNOWN_ETFS: dict[str, float] = {"122630": 2.0, "252670": -2.0, "114800": -1.0, "069500": 1.0}
CODE_RE = re.compile(r"^[0-9A-Z]{6,7}$")
# Known codes listed on KOSDAQ (the rest of KNOWN are KOSPI listings).
KOSDAQ_CODES = frozenset({"247540"})
Market = Literal["KOSPI", "KOSDAQ"]
Instrument = Literal["stock", "ETF", "ETN"]


class UniverseError(ValueError):
    """The symbols file cannot be used; the message names the line."""


@dataclass(frozen=True, slots=True)
class SymbolSpec:
    code: str
    name: str
    prev_close: int
    listed_shares: int
    market: Market = "KOSPI"
    instrument: Instrument = "stock"
    multiple: float = 1.0  # an ETF's tracking multiple: 2 leveraged, -1 inverse

    @property
    def kind(self) -> InstrumentKind:
        return InstrumentKind(self.instrument)

    def as_instrument(self) -> domain_instruments.Instrument:
        return domain_instruments.Instrument(
            self.code, self.kind, multiple=Decimal(str(self.multiple)), name=self.name
        )


def _price(rng: random.Random) -> int:
    return round_to_tick(int(math.exp(rng.uniform(math.log(2_000), math.log(400_000)))))


def generated(count: int, seed: int) -> list[SymbolSpec]:
    rng = random.Random(seed * 7_919 + 17)
    specs = []
    for index in range(count):
        if index < len(KNOWN):
            code, name = KNOWN[index]
        else:
            code, name = f"95{index:04d}", f"시뮬종목{index:03d}"
        shares = int(math.exp(rng.uniform(math.log(5e6), math.log(6e8))))
        market: Market = "KOSDAQ" if code in KOSDAQ_CODES else "KOSPI"
        spec = SymbolSpec(code, name, _price(rng), shares, market)
        if code in KNOWN_ETFS:
            spec = replace(spec, instrument="ETF", multiple=KNOWN_ETFS[code])
        specs.append(spec)
    return specs


def _parse_line(number: int, line: str, rng: random.Random) -> SymbolSpec:
    parts = [part.strip() for part in re.split(r"[,\t ]+", line, maxsplit=2) if part.strip()]
    code = parts[0].upper()
    if not CODE_RE.match(code):
        raise UniverseError(f"line {number}: {code!r} is not a 6-character code")
    name = parts[1] if len(parts) > 1 else code
    try:
        close = round_to_tick(int(parts[2])) if len(parts) > 2 else _price(rng)
    except ValueError as exc:
        raise UniverseError(f"line {number}: previous close {parts[2]!r} is not a number") from exc
    shares = int(math.exp(rng.uniform(math.log(5e6), math.log(6e8))))
    market: Market = "KOSDAQ" if code in KOSDAQ_CODES else "KOSPI"
    instrument: Instrument = "ETN" if code.startswith("Q") else "stock"
    if code in KNOWN_ETFS:
        return SymbolSpec(code, name, close, shares, market, "ETF", KNOWN_ETFS[code])
    return SymbolSpec(code, name, close, shares, market, instrument)


def from_file(path: Path, seed: int) -> list[SymbolSpec]:
    rng = random.Random(seed * 7_919 + 17)
    specs: dict[str, SymbolSpec] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if line:
            spec = _parse_line(number, line, rng)
            specs[spec.code] = spec
    if not specs:
        raise UniverseError(f"{path} lists no symbols")
    return list(specs.values())


def load_universe(count: int, seed: int, path: Path | None = None) -> list[SymbolSpec]:
    return from_file(path, seed) if path is not None else generated(count, seed)
