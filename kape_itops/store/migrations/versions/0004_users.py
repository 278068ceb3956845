"""server user accounts: roles, argon2 password hashes, log-in rate limiting

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 18:00:00

A new table only. SQLite cannot reflect the expression index uq_users_name_lower: a later
batch_alter_table("users") recreating the table must create it again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
NAME_INDEX = "uq_users_name_lower"


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("password_changed_at", TS, nullable=False),
        sa.Column("disabled_at", TS, nullable=True),
        sa.Column("failed_count", sa.Integer(), nullable=False),
        sa.Column("locked_until", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
    )
    op.execute(f"CREATE UNIQUE INDEX {NAME_INDEX} ON users (lower(name))")


def downgrade() -> None:
    op.execute(f"DROP INDEX IF EXISTS {NAME_INDEX}")
    op.drop_table("users")
