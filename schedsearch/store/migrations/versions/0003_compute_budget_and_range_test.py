"""A compute budget per study (epochs it may spend and has spent) and the LR range tests.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("schedsearch_studies") as table:  # SQLite: batch mode
        table.add_column(sa.Column("budget", sa.Float(), nullable=True))
        table.add_column(sa.Column("spent", sa.Float(), nullable=False, server_default="0"))
    op.create_table(
        "schedsearch_range_tests",
        sa.Column("study_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("worker", sa.String(64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("schedsearch_range_tests")
    with op.batch_alter_table("schedsearch_studies") as table:
        table.drop_column("spent")
        table.drop_column("budget")
