"""Operators read whole tables and one rate format (issue 14)."""

from __future__ import annotations

import io
import json
from datetime import date
from decimal import Decimal

from click.testing import CliRunner
from rich.console import Console

from stock_manager.adapters.report.text import print_report, rate
from stock_manager.cli import output
from stock_manager.cli.main import cli
from stock_manager.domain.records import DailySummary
from stock_manager.services.report import DailyReport


def test_rates_are_percentages_with_one_decimal() -> None:
    assert rate(Decimal("0.1818")) == "18.2%"
    assert rate("0.1667") == "16.7%"
    assert rate(None) == "-"


def test_the_per_strategy_table_uses_the_same_rate_format() -> None:
    summary = DailySummary(
        date(2026, 11, 20),
        1000,
        0,
        10,
        20,
        11,
        2,
        9,
        Decimal("0.1818"),
        Decimal("1.5"),
        300,
        per_strategy={
            "momentum_breakout": {
                "trades": 11,
                "net": 1000,
                "win_rate": "0.1818",
                "profit_factor": "1.5",
            }
        },
    )
    sink = io.StringIO()
    print_report(DailyReport(summary, None, (), ()), Console(file=sink, width=200))
    text = sink.getvalue()
    assert text.count("18.2%") == 2 and "0.1818" not in text


def test_a_pipe_gets_wide_tables() -> None:
    assert output.console().width == output.PIPE_WIDTH  # pytest's stdout is not a terminal


def test_config_check_prints_json() -> None:
    result = CliRunner().invoke(cli, ["config", "check", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["ok"] is True and data["settings"]["kis_env"] == "sim"
