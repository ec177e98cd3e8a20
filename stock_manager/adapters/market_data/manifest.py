"""``manifest.json``: the format version and what is complete, so a download can resume.

Shape (all dates ISO ``YYYY-MM-DD``)::

    {"format": "stock-manager-market-data", "version": 1,
     "instruments": ["005930", ...],               # symbols with a row in instruments.parquet
     "daily": {"005930": ["2026-01-02", "2026-03-31"], ...},   # range asked and fully read
     "minute": {"2026-03-30": ["005930", ...], ...},           # symbols complete for the day
     "source": {"env": "sim", "downloaded_at": "..."}}

A file is written (atomically) before the manifest says it is complete, so after a crash a
file may hold more than the manifest claims, never less; resuming redoes only the rest.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from stock_manager.adapters.market_data.schema import (
    FORMAT,
    FORMAT_VERSION,
    MarketDataError,
    manifest_path,
    replace_atomically,
)


@dataclass
class Manifest:
    instruments: set[str] = field(default_factory=set)
    daily: dict[str, tuple[date, date]] = field(default_factory=dict)
    minute: dict[date, set[str]] = field(default_factory=dict)
    source: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, root: Path) -> Manifest:
        """The manifest of ``root``; an empty one if there is none yet."""
        path = manifest_path(root)
        if not path.exists():
            return cls()
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            return cls._from_json(raw)
        except (ValueError, KeyError, TypeError) as exc:
            raise MarketDataError(f"{path}: unreadable manifest ({exc})") from exc

    @classmethod
    def _from_json(cls, raw: dict[str, Any]) -> Manifest:
        if raw.get("format") != FORMAT or raw.get("version") != FORMAT_VERSION:
            raise MarketDataError(
                f"format {raw.get('format')!r} version {raw.get('version')!r}; "
                f"this code reads {FORMAT!r} version {FORMAT_VERSION}"
            )
        return cls(
            instruments=set(raw.get("instruments", [])),
            daily={
                symbol: (date.fromisoformat(span[0]), date.fromisoformat(span[1]))
                for symbol, span in raw.get("daily", {}).items()
            },
            minute={
                date.fromisoformat(day): set(symbols)
                for day, symbols in raw.get("minute", {}).items()
            },
            source=dict(raw.get("source", {})),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "instruments": sorted(self.instruments),
            "daily": {
                s: [a.isoformat(), b.isoformat()] for s, (a, b) in sorted(self.daily.items())
            },
            "minute": {d.isoformat(): sorted(s) for d, s in sorted(self.minute.items())},
            "source": dict(sorted(self.source.items())),
        }

    def save(self, root: Path) -> None:
        text = json.dumps(self.to_json(), indent=1, ensure_ascii=False) + "\n"
        replace_atomically(manifest_path(root), lambda tmp: _write_text(tmp, text))

    def daily_covers(self, symbol: str, start: date, end: date) -> bool:
        span = self.daily.get(symbol)
        return span is not None and span[0] <= start and end <= span[1]

    def minute_done(self, day: date, symbol: str) -> bool:
        return symbol in self.minute.get(day, set())


def _write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
