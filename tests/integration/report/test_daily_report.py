"""The daily report from a real ledger: numbers to the won, a stored summary, a PNG chart."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

from stock_manager.adapters.db.engine import make_session_factory
from stock_manager.adapters.db.uow import SqlUnitOfWork
from stock_manager.adapters.report.charts import render
from stock_manager.cli.main import cli
from stock_manager.domain.clock import KST
from stock_manager.domain.orders import Fill, Order, OrderPurpose, OrderType, Side, idempotency_key
from stock_manager.domain.trade import SymbolTrade
from stock_manager.services.report import build_report

DAY = date(2026, 11, 20)
T0 = datetime(2026, 11, 20, 9, 30, tzinfo=KST)


def seed(uow: SqlUnitOfWork) -> None:
    """Two round trips on 005930 (one win, one loss) by the momentum strategy."""
    trades = [(1, 10_000, 10_300), (2, 10_000, 9_800)]
    with uow:
        uow.symbols.save(SymbolTrade("005930"), SymbolTrade("005930", strategy="momentum_breakout"))
        for n, (seq, bought, sold) in enumerate(trades):
            for side, price, minutes in ((Side.BUY, bought, 0), (Side.SELL, sold, 5)):
                order = uow.orders.add(
                    Order(
                        idempotency_key(DAY, "005930", side, seq, 0),
                        DAY,
                        "005930",
                        side,
                        OrderType.LIMIT,
                        10,
                        price,
                        OrderPurpose.ENTRY,
                    )
                )
                at = T0 + timedelta(minutes=10 * n + minutes)
                tax = price * 10 * 2 // 1000 if side is Side.SELL else 0
                uow.fills.add(
                    order.id or 0,
                    Fill(
                        f"{seq}{side.value}", "005930", side, 10, price, at, commission=14, tax=tax
                    ),
                )
        uow.commit()


@pytest.fixture
def uow(migrated_engine: Engine) -> SqlUnitOfWork:
    return SqlUnitOfWork(make_session_factory(migrated_engine))


def test_report_numbers_are_exact_and_the_summary_is_stored(uow: SqlUnitOfWork) -> None:
    seed(uow)
    report = build_report(uow, DAY)
    s = report.summary
    gross = (10_300 - 10_000) * 10 + (9_800 - 10_000) * 10
    assert s.commission == 4 * 14
    assert s.tax == 10_300 * 10 * 2 // 1000 + 9_800 * 10 * 2 // 1000
    assert s.realized_pnl == gross - s.commission - s.tax
    assert (s.trades, s.wins, s.losses) == (2, 1, 1)
    assert s.per_strategy["momentum_breakout"]["trades"] == 2
    assert [v for _, v in report.equity][-1] == s.realized_pnl
    with uow:
        assert uow.reports.summary(DAY) == s


def test_chart_is_a_png_with_content(uow: SqlUnitOfWork, tmp_path: Path) -> None:
    seed(uow)
    path = render(build_report(uow, DAY), tmp_path / "report.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 10_000


def test_empty_day_still_renders(uow: SqlUnitOfWork, tmp_path: Path) -> None:
    report = build_report(uow, DAY)
    assert report.summary.trades == 0
    assert render(report, tmp_path / "empty.png").stat().st_size > 0


def test_report_command(sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from stock_manager.adapters.db.engine import make_engine
    from stock_manager.adapters.db.migrate import upgrade

    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    seed(SqlUnitOfWork(make_session_factory(engine)))
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("COLUMNS", "160")
    result = CliRunner().invoke(cli, ["report", "--date", "2026-11-20", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "realized PnL" in result.output
    assert "momentum_breakout" in result.output
    assert (tmp_path / "report-2026-11-20.png").stat().st_size > 10_000
