"""Alembic owns the schema version: drop schedsearch_meta, whose only row was the version.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("schedsearch_meta")


def downgrade() -> None:
    op.create_table(
        "schedsearch_meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(255), nullable=False),
    )
    op.execute("INSERT INTO schedsearch_meta (key, value) VALUES ('schema_version', '2')")
