"""asset tags unique ignoring case; the change log refuses REPLACE, UPSERT and TRUNCATE

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04 12:00:00

SQLite cannot reflect the expression index: a later batch_alter_table("devices") recreating the
table must create uq_devices_asset_tag_lower again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from kape_itops.errors import StoreError

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TAG_INDEX = "uq_devices_asset_tag_lower"

# REPLACE / INSERT OR REPLACE delete the row they conflict with without firing DELETE triggers:
# refuse any insert whose id is taken. UPSERT (ON CONFLICT DO UPDATE) fires the UPDATE trigger.
SQLITE_UP = (
    "CREATE TRIGGER changes_no_replace BEFORE INSERT ON changes "
    "WHEN NEW.id IS NOT NULL AND EXISTS (SELECT 1 FROM changes WHERE id = NEW.id) "
    "BEGIN SELECT RAISE(ABORT, 'the change log is append-only'); END",
)
SQLITE_DOWN = ("DROP TRIGGER IF EXISTS changes_no_replace",)
# PostgreSQL: INSERT ... ON CONFLICT DO UPDATE and MERGE fire the row triggers of 0001;
# TRUNCATE fires only statement triggers
PG_UP = (
    "CREATE TRIGGER changes_no_truncate BEFORE TRUNCATE ON changes "
    "FOR EACH STATEMENT EXECUTE FUNCTION changes_append_only()",
)
PG_DOWN = ("DROP TRIGGER IF EXISTS changes_no_truncate ON changes",)


def _refuse_case_twins() -> None:
    """StoreError naming the tags that differ only in case, which the new index cannot hold."""
    rows = op.get_bind().execute(
        sa.text(
            "SELECT asset_tag FROM devices WHERE lower(asset_tag) IN (SELECT lower(asset_tag) "
            "FROM devices GROUP BY lower(asset_tag) HAVING count(*) > 1) ORDER BY asset_tag"
        )
    )
    twins = [str(t) for t in rows.scalars()]
    if twins:
        shown = ", ".join(twins[:10]) + (f" (+{len(twins) - 10} more)" if len(twins) > 10 else "")
        raise StoreError(
            f"asset tags that differ only in case are the same tag, but these devices have such "
            f"tags: {shown}; rename them (itops inventory set TAG new_asset_tag=...) and run "
            "'itops init' again"
        )


def upgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    _refuse_case_twins()
    for statement in PG_UP if pg else SQLITE_UP:
        op.execute(statement)
    op.execute(f"CREATE UNIQUE INDEX {TAG_INDEX} ON devices (lower(asset_tag))")


def downgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    op.execute(f"DROP INDEX IF EXISTS {TAG_INDEX}")
    for statement in PG_DOWN if pg else SQLITE_DOWN:
        op.execute(statement)
