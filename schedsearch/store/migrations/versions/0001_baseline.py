"""Baseline: the schema as schedsearch a9b7f7a left it (schema_version 2 in schedsearch_meta).

Databases made before Alembic are stamped at this revision by ``schedsearch db upgrade``.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "schedsearch_studies",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(128), nullable=False, unique=True),
        sa.Column("optuna_study_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("n_trials", sa.Integer(), nullable=False),
        sa.Column("claimed", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("best_value", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
    )
    op.create_index("ix_schedsearch_studies_status", "schedsearch_studies", ["status"])
    op.create_index("ix_schedsearch_studies_parent_id", "schedsearch_studies", ["parent_id"])
    op.create_table(
        "schedsearch_workers",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("device", sa.String(32), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=True),
        sa.Column("trial_number", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_schedsearch_workers_last_seen", "schedsearch_workers", ["last_seen"])
    op.create_table(
        "schedsearch_meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(255), nullable=False),
    )
    op.execute("INSERT INTO schedsearch_meta (key, value) VALUES ('schema_version', '2')")
    # On Optuna's trials table: best-trial and count queries, and the ETA's latest trials.
    op.execute("CREATE INDEX IF NOT EXISTS ix_trials_study_id_state ON trials (study_id, state)")
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_trials_study_id_trial_id ON trials (study_id, trial_id)"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_trials_study_id_trial_id")
    op.execute("DROP INDEX IF EXISTS ix_trials_study_id_state")
    op.drop_table("schedsearch_meta")
    op.drop_table("schedsearch_workers")
    op.drop_table("schedsearch_studies")
