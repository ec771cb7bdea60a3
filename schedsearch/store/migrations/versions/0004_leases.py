"""Leases: every claimed trial slot has an owner and an expiry (built-in workers and external
training loops alike), so a slot claimed by a process that died before its trial existed comes
back.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "schedsearch_leases",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(128), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("cost", sa.Float(), nullable=False),
        sa.Column("trial_id", sa.Integer(), nullable=True),
        sa.Column("trial_number", sa.Integer(), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("prune_step", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_schedsearch_leases_owner", "schedsearch_leases", ["owner"])
    op.create_index(
        "ix_schedsearch_leases_study_state", "schedsearch_leases", ["study_id", "state"]
    )


def downgrade() -> None:
    op.drop_table("schedsearch_leases")
