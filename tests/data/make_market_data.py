"""Regenerate ``tests/data/market/``: the small synthetic data set the tests ship with.

    python -m tests.data.make_market_data

3 symbols x 4 trading days of minute candles (2026-03-02..05), daily candles and
instruments, in the format of docs/market-data.md. Deterministic: rerunning gives the same
tables (``tests/unit/market_data/test_shipped_data.py`` checks it).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from stock_manager.adapters.market_data.synthetic import generate

ROOT = Path(__file__).parent / "market"
SYMBOLS, DAYS, SEED = 3, 4, 17


def make(root: Path = ROOT) -> None:
    shutil.rmtree(root, ignore_errors=True)
    generate(root, SYMBOLS, DAYS, seed=SEED)


if __name__ == "__main__":
    make()
    print(f"wrote {ROOT}")
