"""web pages: a covering index for a school's period figures from the rollups

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 19:40:00

The school page sums its devices' hourly or daily buckets (status counts, round trips) per
device and per bucket. Without this index each bucket is a heap fetch (tens of thousands per
page with 25,000 devices); with it, on PostgreSQL, an index-only scan (``INCLUDE`` carries
the summed columns). SQLite gets the plain three-column index.
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

NAME = "ix_probe_rollups_device_cover"
COVER = ["probe", "n_ok", "n_warn", "n_crit", "n_unknown", "rtt_sum", "rtt_count"]


def upgrade() -> None:
    op.create_index(
        NAME,
        "probe_rollups",
        ["grain", "device_id", "bucket_start"],
        postgresql_include=COVER,
    )


def downgrade() -> None:
    op.drop_index(NAME, table_name="probe_rollups")
