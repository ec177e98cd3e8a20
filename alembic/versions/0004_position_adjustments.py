"""position adjustments

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30

``position_adjustments``: shares that entered or left a position without a fill of ours —
held since an earlier day, found at the broker with no order to explain them, or drift —
with the broker's cost basis, so FIFO finds a lot for every sell (issue 12, item 5).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "position_adjustments",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("trading_day", sa.Date(), nullable=False),
        sa.Column("symbol", sa.String(length=12), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_position_adjustments")),
        sa.UniqueConstraint("key", name=op.f("uq_position_adjustments_key")),
    )
    op.create_index(
        op.f("ix_position_adjustments_trading_day"),
        "position_adjustments",
        ["trading_day"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_position_adjustments_trading_day"), table_name="position_adjustments")
    op.drop_table("position_adjustments")
