"""Alembic owns the schema: upgrade and downgrade work, and the models match the migrations."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from stock_manager.adapters.db.engine import make_engine
from stock_manager.adapters.db.migrate import alembic_config, downgrade, head_revision, upgrade
from stock_manager.adapters.db.models import Base

TABLES = {
    "orders",
    "fills",
    "symbol_states",
    "symbol_leases",
    "worker_processes",
    "daily_summaries",
    "daily_settlements",
    "market_states",
    "recovery_logs",
    "transitions",
}


def test_upgrade_to_head_and_downgrade_to_base(db_url: str) -> None:
    upgrade(db_url)
    engine = make_engine(db_url)
    try:
        assert set(inspect(engine).get_table_names()) >= TABLES
        with engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == head_revision(db_url)
        downgrade(db_url)
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade(db_url)  # and back up again: downgrades leave nothing behind
        assert set(inspect(engine).get_table_names()) >= TABLES
    finally:
        engine.dispose()


def test_models_match_the_migrations(db_url: str) -> None:
    upgrade(db_url)
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_alembic_check_command_reports_no_drift(db_url: str) -> None:
    upgrade(db_url)
    command.check(alembic_config(db_url))  # raises if autogenerate would emit operations
