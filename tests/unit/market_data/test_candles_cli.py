"""``kis candles`` refuses bad input with one clear line, before talking to KIS."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from stock_manager.cli.candles import candles


def test_a_bad_symbol_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(candles, ["005930", "../etc", "--out", str(tmp_path)])
    assert result.exit_code == 1 and "not a KRX symbol: '../ETC'" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_directory_of_another_version_is_refused(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text(
        json.dumps({"format": "stock-manager-market-data", "version": 2})
    )
    result = CliRunner().invoke(candles, ["005930", "--out", str(tmp_path)])
    assert result.exit_code == 1 and "version 2" in result.output
