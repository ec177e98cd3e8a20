"""symbol_leases.symbol holds any lease key

Revision ID: 0007_lease_keys
Revises: 0006_admission
Create Date: 2026-11-30

The liquidation leases ``__liquidation__`` and ``__liquidation__<symbol>`` (up to 22
characters); on PostgreSQL the 12-character column refused them, so a liquidation on the SQL
lease backend failed. 40 characters hold every key the services lease.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_lease_keys"
down_revision: str | None = "0006_admission"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("symbol_leases", schema=None) as batch_op:
        batch_op.alter_column(
            "symbol", existing_type=sa.String(length=12), type_=sa.String(length=40)
        )


def downgrade() -> None:
    with op.batch_alter_table("symbol_leases", schema=None) as batch_op:
        batch_op.alter_column(
            "symbol", existing_type=sa.String(length=40), type_=sa.String(length=12)
        )
