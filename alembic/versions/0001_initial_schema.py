"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-21

The tables of ARCHITECTURE §2-§4. ``transitions`` is append-only: triggers refuse UPDATE
and DELETE on both PostgreSQL and SQLite.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "daily_settlements",
        sa.Column("trading_day", sa.Date(), nullable=False),
        sa.Column("buy_amount", sa.BigInteger(), nullable=False),
        sa.Column("sell_amount", sa.BigInteger(), nullable=False),
        sa.Column("commission", sa.BigInteger(), nullable=False),
        sa.Column("tax", sa.BigInteger(), nullable=False),
        sa.Column("net_cash_flow", sa.BigInteger(), nullable=False),
        sa.Column("broker_cash_change", sa.BigInteger(), nullable=True),
        sa.Column("difference", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("trading_day", name=op.f("pk_daily_settlements")),
    )
    op.create_table(
        "daily_summaries",
        sa.Column("trading_day", sa.Date(), nullable=False),
        sa.Column("realized_pnl", sa.BigInteger(), nullable=False),
        sa.Column("unrealized_pnl", sa.BigInteger(), nullable=False),
        sa.Column("commission", sa.BigInteger(), nullable=False),
        sa.Column("tax", sa.BigInteger(), nullable=False),
        sa.Column("trades", sa.Integer(), nullable=False),
        sa.Column("wins", sa.Integer(), nullable=False),
        sa.Column("losses", sa.Integer(), nullable=False),
        sa.Column("win_rate", sa.Numeric(precision=10, scale=4), nullable=True),
        sa.Column("profit_factor", sa.Numeric(precision=14, scale=4), nullable=True),
        sa.Column("max_drawdown", sa.BigInteger(), nullable=False),
        sa.Column("per_strategy", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("trading_day", name=op.f("pk_daily_summaries")),
    )
    op.create_table(
        "market_states",
        sa.Column("trading_day", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("trading_day", name=op.f("pk_market_states")),
    )
    op.create_table(
        "orders",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("idempotency_key", sa.String(length=80), nullable=False),
        sa.Column("trading_day", sa.Date(), nullable=False),
        sa.Column("symbol", sa.String(length=12), nullable=False),
        sa.Column("side", sa.String(length=4), nullable=False),
        sa.Column("order_type", sa.String(length=2), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("broker_order_no", sa.String(length=20), nullable=True),
        sa.Column("broker_branch", sa.String(length=10), nullable=True),
        sa.Column("filled_quantity", sa.Integer(), nullable=False),
        sa.Column("filled_amount", sa.BigInteger(), nullable=False),
        sa.Column("fence", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_orders_idempotency_key")),
        sa.UniqueConstraint("trading_day", "broker_order_no", name="uq_orders_broker_order"),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index("ix_orders_day_status", ["trading_day", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_symbol"), ["symbol"], unique=False)

    op.create_table(
        "recovery_logs",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("symbol", sa.String(length=12), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_logs")),
    )
    with op.batch_alter_table("recovery_logs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recovery_logs_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_recovery_logs_symbol"), ["symbol"], unique=False)

    op.create_table(
        "symbol_leases",
        sa.Column("symbol", sa.String(length=12), nullable=False),
        sa.Column("owner", sa.String(length=120), nullable=True),
        sa.Column("fence", sa.BigInteger(), nullable=False),
        sa.Column("acquired_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("expires_at_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("symbol", name=op.f("pk_symbol_leases")),
    )
    with op.batch_alter_table("symbol_leases", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_symbol_leases_expires_at_ms"), ["expires_at_ms"], unique=False
        )

    op.create_table(
        "symbol_states",
        sa.Column("symbol", sa.String(length=12), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("cost", sa.BigInteger(), nullable=False),
        sa.Column("average_price", sa.Numeric(precision=20, scale=4), nullable=False),
        sa.Column("fence", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("trade_seq", sa.Integer(), nullable=False),
        sa.Column("strategy", sa.String(length=40), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("high_water", sa.BigInteger(), nullable=False),
        sa.Column("last_price", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("symbol", name=op.f("pk_symbol_states")),
    )
    op.create_table(
        "transitions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("entity", sa.String(length=16), nullable=False),
        sa.Column("entity_key", sa.String(length=80), nullable=False),
        sa.Column("from_state", sa.String(length=20), nullable=False),
        sa.Column("to_state", sa.String(length=20), nullable=False),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("fence", sa.BigInteger(), nullable=True),
        sa.Column("actor", sa.String(length=160), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transitions")),
    )
    with op.batch_alter_table("transitions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_transitions_at"), ["at"], unique=False)
        batch_op.create_index("ix_transitions_entity_key", ["entity", "entity_key"], unique=False)

    op.create_table(
        "worker_processes",
        sa.Column("worker_id", sa.String(length=160), nullable=False),
        sa.Column("hostname", sa.String(length=120), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("worker_id", name=op.f("pk_worker_processes")),
    )
    with op.batch_alter_table("worker_processes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_worker_processes_last_heartbeat_at"), ["last_heartbeat_at"], unique=False
        )

    op.create_table(
        "fills",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("broker_fill_id", sa.String(length=64), nullable=False),
        sa.Column("symbol", sa.String(length=12), nullable=False),
        sa.Column("side", sa.String(length=4), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("commission", sa.BigInteger(), nullable=False),
        sa.Column("tax", sa.BigInteger(), nullable=False),
        sa.Column("filled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_fills_order_id_orders")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fills")),
        sa.UniqueConstraint("broker_fill_id", name=op.f("uq_fills_broker_fill_id")),
    )
    with op.batch_alter_table("fills", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fills_filled_at"), ["filled_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_fills_order_id"), ["order_id"], unique=False)

    _append_only("transitions")


def _append_only(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$
            """
        )
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION refuse_change()"
        )
        return
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
        )


def _drop_append_only(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute("DROP FUNCTION IF EXISTS refuse_change()")
        return
    for action in ("update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{action}")


def downgrade() -> None:
    _drop_append_only("transitions")
    with op.batch_alter_table("fills", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fills_order_id"))
        batch_op.drop_index(batch_op.f("ix_fills_filled_at"))

    op.drop_table("fills")
    with op.batch_alter_table("worker_processes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_worker_processes_last_heartbeat_at"))

    op.drop_table("worker_processes")
    with op.batch_alter_table("transitions", schema=None) as batch_op:
        batch_op.drop_index("ix_transitions_entity_key")
        batch_op.drop_index(batch_op.f("ix_transitions_at"))

    op.drop_table("transitions")
    op.drop_table("symbol_states")
    with op.batch_alter_table("symbol_leases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_symbol_leases_expires_at_ms"))

    op.drop_table("symbol_leases")
    with op.batch_alter_table("recovery_logs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recovery_logs_symbol"))
        batch_op.drop_index(batch_op.f("ix_recovery_logs_at"))

    op.drop_table("recovery_logs")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_symbol"))
        batch_op.drop_index("ix_orders_day_status")

    op.drop_table("orders")
    op.drop_table("market_states")
    op.drop_table("daily_summaries")
    op.drop_table("daily_settlements")
