"""When the client's phone began to ring on a call the firm placed.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 08:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("client_ringing_at", sa.DateTime(timezone=True), nullable=True)
        )
    # Calls made before: a desk phone's call goes to the client at once, so its start is
    # the nearest known moment; a click-to-call's start is the employee's own phone
    # ringing, so for those the moment stays unknown.
    op.execute(
        "UPDATE calls SET client_ringing_at = started_at "
        "WHERE direction = 'outbound' AND linkedid NOT LIKE 'c2c-%' AND ended_at IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_column("client_ringing_at")
