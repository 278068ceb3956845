"""web pages: a small partial index on the pings kept in plain form

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 20:05:00

The overview reads every deployed device's newest ping from both result tables. The plain
table holds few pings (those the compact table cannot store losslessly), so its per-device
look-up, one seek for each of 25,000 devices, is cheaper in an index of those rows alone than
in ``ix_probe_results_device_probe_at`` over every probe's results.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

NAME = "ix_probe_results_plain_ping"
WHERE = sa.text("probe = 'ping'")


def upgrade() -> None:
    op.create_index(
        NAME,
        "probe_results",
        ["device_id", "started_at"],
        postgresql_where=WHERE,
        sqlite_where=WHERE,
    )


def downgrade() -> None:
    op.drop_index(NAME, table_name="probe_results")
