"""task runs and opening cash

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21

``task_runs``: when each task last succeeded or failed (the price-check dead-man switch and
the metrics read it). ``market_states.opening_cash``: the D+2 cash when the day was
initialized, against which the daily settlement is checked.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('task_runs',
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('last_success_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_failure_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_value', sa.BigInteger(), nullable=True),
    sa.Column('successes', sa.BigInteger(), nullable=False),
    sa.Column('failures', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_task_runs'))
    )
    with op.batch_alter_table('market_states', schema=None) as batch_op:
        batch_op.add_column(sa.Column('opening_cash', sa.BigInteger(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('market_states', schema=None) as batch_op:
        batch_op.drop_column('opening_cash')

    op.drop_table('task_runs')
