"""orders.reserve_price

Revision ID: 0006_admission
Revises: 0005_instruments_fees
Create Date: 2026-11-30

``orders.reserve_price``: won per share an order was admitted at — its limit price, or what a
fresh quote said a market-type buy could cost — so every buy still in flight (NEW, SUBMITTED,
UNKNOWN, partly filled) holds its reservation against the risk caps (issue 13, item 1).
Existing orders are given their own price.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0006_admission"
down_revision: str | None = "0005_instruments_fees"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reserve_price", sa.BigInteger(), server_default="0", nullable=False)
        )
    op.execute("UPDATE orders SET reserve_price = price")


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("reserve_price")
