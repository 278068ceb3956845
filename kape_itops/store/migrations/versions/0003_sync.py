"""two-tier sync: sites, enrolments, marks, cursors, conflicts, events; origin ids; rollup redo

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 17:00:00

Adds columns and unique indexes only (no table is rebuilt): the change log's append-only
triggers of 0001/0002 stay as they are.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ORIGIN_TABLES = ("probe_runs", "changes", "discovery_sweeps", "config_backups")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sync_sites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("enrolled_at", TS, nullable=False),
        sa.Column("revoked_at", TS, nullable=True),
        sa.Column("last_sync_at", TS, nullable=True),
        sa.Column("clock_offset_s", sa.Float(), nullable=True),
        sa.Column("version", sa.String(length=32), nullable=True),
        sa.Column("backlog", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name="fk_sync_sites_school_id_schools"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_sync_sites"),
        sa.UniqueConstraint("uid", name="uq_sync_sites_uid"),
        sa.UniqueConstraint("token_sha256", name="uq_sync_sites_token_sha256"),
    )
    op.create_table(
        "sync_enrolments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("used_at", TS, nullable=True),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name="fk_sync_enrolments_school_id_schools"
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sync_sites.id"], name="fk_sync_enrolments_site_id_sync_sites"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_sync_enrolments"),
        sa.UniqueConstraint("token_sha256", name="uq_sync_enrolments_token_sha256"),
    )
    op.create_table(
        "sync_marks",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("stream", sa.String(length=16), nullable=False),
        sa.Column("mark", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sync_sites.id"], name="fk_sync_marks_site_id_sync_sites"
        ),
        sa.PrimaryKeyConstraint("site_id", "stream", name="pk_sync_marks"),
    )
    op.create_table(
        "sync_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("school_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sync_sites.id"], name="fk_sync_events_site_id_sync_sites"
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name="fk_sync_events_school_id_schools"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_sync_events"),
    )
    op.create_table(
        "sync_local",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_sync_local"),
    )
    op.create_table(
        "sync_cursors",
        sa.Column("stream", sa.String(length=16), nullable=False),
        sa.Column("acked", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("stream", name="pk_sync_cursors"),
    )
    op.create_table(
        "sync_conflicts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("found_at", TS, nullable=False),
        sa.Column("site_uid", sa.String(length=36), nullable=True),
        sa.Column("entity", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=False),
        sa.Column("kept", sa.Text(), nullable=True),
        sa.Column("kept_at", TS, nullable=False),
        sa.Column("kept_by", sa.String(length=100), nullable=False),
        sa.Column("other", sa.Text(), nullable=True),
        sa.Column("other_at", TS, nullable=False),
        sa.Column("other_by", sa.String(length=100), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("resolved_at", TS, nullable=True),
        sa.Column("resolved_by", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_sync_conflicts"),
    )
    op.create_table(
        "rollup_redo",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("bucket_start", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_rollup_redo"),
    )
    for table in ORIGIN_TABLES:
        op.add_column(table, sa.Column("origin_site_id", sa.Integer(), nullable=True))
        op.add_column(table, sa.Column("origin_id", sa.BigInteger(), nullable=True))
        op.create_index(f"uq_{table}_origin", table, ["origin_site_id", "origin_id"], unique=True)
    op.add_column("probe_runs", sa.Column("received_at", TS, nullable=True))


def downgrade() -> None:
    # plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): a batch rebuild would drop the change
    # log's append-only triggers
    op.drop_column("probe_runs", "received_at")
    for table in ORIGIN_TABLES:
        op.drop_index(f"uq_{table}_origin", table_name=table)
        op.drop_column(table, "origin_id")
        op.drop_column(table, "origin_site_id")
    for table in (
        "rollup_redo",
        "sync_conflicts",
        "sync_cursors",
        "sync_local",
        "sync_events",
        "sync_marks",
        "sync_enrolments",
        "sync_sites",
    ):
        op.drop_table(table)
