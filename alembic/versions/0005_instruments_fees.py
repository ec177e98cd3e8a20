"""instruments and the broker's own daily costs

Revision ID: 0005_instruments_fees
Revises: 0004
Create Date: 2026-11-30

``instruments``: each symbol's instrument type (stock, ETF, ETN), market and ETF multiple as
the broker lists them, which decide the tick table, price limits and sale tax; and
``daily_settlements.broker_costs``: the broker's own figure for the day's commission and
tax, compared with the ledger's (issue 13, items 6 and 7).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0005_instruments_fees"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "instruments",
        sa.Column("symbol", sa.String(length=12), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("market", sa.String(length=8), nullable=False),
        sa.Column("multiple", sa.Numeric(precision=8, scale=2), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("read_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("symbol", name=op.f("pk_instruments")),
    )
    with op.batch_alter_table("daily_settlements") as batch:
        batch.add_column(sa.Column("broker_costs", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("daily_settlements") as batch:
        batch.drop_column("broker_costs")
    op.drop_table("instruments")
