"""requests for quotation on the web: RFQs, uploaded quotation forms, recorded evaluations,
award decisions

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 19:15:00

New tables only. Uploaded forms, the evaluation links and the decisions are append-only (an
update or delete is refused by a trigger): a replaced form or a changed decision stays in the
audit trail.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
APPEND_ONLY = ("rfq_files", "rfq_evaluations", "rfq_decisions")
MESSAGE = "the quotation audit trail is append-only"


def _sqlite_up(table: str) -> tuple[str, ...]:
    return tuple(
        f"CREATE TRIGGER {table}_no_{what} BEFORE {what.upper()} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        for what in ("update", "delete")
    )


PG_FUNCTION = (
    "CREATE FUNCTION quotes_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    f"$$ BEGIN RAISE EXCEPTION '{MESSAGE}'; END $$"
)


def _pg_up(table: str) -> tuple[str, ...]:
    return (
        f"CREATE TRIGGER {table}_no_update_delete BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION quotes_append_only()",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION quotes_append_only()",
    )


def upgrade() -> None:
    op.create_table(
        "rfqs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rfq", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("spec_id", sa.String(length=100), nullable=False),
        sa.Column("spec_version", sa.String(length=50), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("submission_deadline", sa.Date(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("rfq_yaml", sa.Text(), nullable=False),
        sa.Column("rfq_sha256", sa.String(length=64), nullable=False),
        sa.Column("spec_yaml", sa.Text(), nullable=False),
        sa.Column("spec_sha256", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_rfqs"),
        sa.UniqueConstraint("rfq", name="uq_rfqs_rfq"),
    )
    op.create_table(
        "rfq_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rfq_id", sa.Integer(), nullable=False),
        sa.Column("vendor", sa.String(length=300), nullable=False),
        sa.Column("vendor_key", sa.String(length=300), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_at", TS, nullable=False),
        sa.Column("uploaded_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(["rfq_id"], ["rfqs.id"], name="fk_rfq_files_rfq_id_rfqs"),
        sa.PrimaryKeyConstraint("id", name="pk_rfq_files"),
    )
    op.create_index("ix_rfq_files_rfq_vendor", "rfq_files", ["rfq_id", "vendor_key"])
    op.create_table(
        "rfq_evaluations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rfq_id", sa.Integer(), nullable=False),
        sa.Column("evaluation_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["evaluation_id"],
            ["evaluations.id"],
            name="fk_rfq_evaluations_evaluation_id_evaluations",
        ),
        sa.ForeignKeyConstraint(["rfq_id"], ["rfqs.id"], name="fk_rfq_evaluations_rfq_id_rfqs"),
        sa.PrimaryKeyConstraint("id", name="pk_rfq_evaluations"),
        sa.UniqueConstraint("evaluation_id", name="uq_rfq_evaluations_evaluation_id"),
    )
    op.create_index("ix_rfq_evaluations_rfq_id", "rfq_evaluations", ["rfq_id"])
    op.create_table(
        "rfq_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rfq_id", sa.Integer(), nullable=False),
        sa.Column("evaluation_id", sa.Integer(), nullable=False),
        sa.Column("lot", sa.String(length=100), nullable=False),
        sa.Column("vendor", sa.String(length=300), nullable=False),
        sa.Column("quote", sa.String(length=200), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("decided_at", TS, nullable=False),
        sa.Column("decided_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["evaluation_id"], ["evaluations.id"], name="fk_rfq_decisions_evaluation_id_evaluations"
        ),
        sa.ForeignKeyConstraint(["rfq_id"], ["rfqs.id"], name="fk_rfq_decisions_rfq_id_rfqs"),
        sa.PrimaryKeyConstraint("id", name="pk_rfq_decisions"),
    )
    op.create_index("ix_rfq_decisions_rfq_id", "rfq_decisions", ["rfq_id"])
    pg = op.get_bind().dialect.name == "postgresql"
    if pg:
        op.execute(PG_FUNCTION)
    for table in APPEND_ONLY:
        for statement in _pg_up(table) if pg else _sqlite_up(table):
            op.execute(statement)


def downgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    for table in ("rfq_decisions", "rfq_evaluations", "rfq_files"):
        op.drop_table(table)  # drops its triggers too
    op.drop_table("rfqs")
    if pg:
        op.execute("DROP FUNCTION IF EXISTS quotes_append_only()")
