"""reports: a cache of finished monthly reports, and an index of the runs still being written

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 19:50:00

``report_cache`` keeps rendered monthly reports (HTML and PDF per language, JSON) with the
fingerprint of the data they were built from (kape_itops.reports.cache). The partial index on
unfinished probe runs lets that fingerprint find them without reading every run.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

UNFINISHED = "ix_probe_runs_unfinished"


def upgrade() -> None:
    op.create_table(
        "report_cache",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("school", sa.String(length=32), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("fmt", sa.String(length=8), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("seen_run", sa.BigInteger(), nullable=False),
        sa.Column("seen_backup", sa.BigInteger(), nullable=False),
        sa.Column("seen_sweep", sa.BigInteger(), nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("build_ms", sa.Float(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_report_cache"),
    )
    op.create_index("ix_report_cache_key", "report_cache", ["month", "school", "lang", "fmt", "id"])
    unfinished = sa.text("finished_at IS NULL")
    op.create_index(
        UNFINISHED,
        "probe_runs",
        ["id"],
        sqlite_where=unfinished,
        postgresql_where=unfinished,
    )


def downgrade() -> None:
    op.drop_index(UNFINISHED, table_name="probe_runs")
    op.drop_index("ix_report_cache_key", table_name="report_cache")
    op.drop_table("report_cache")
