"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-29 01:22:40.914452
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


APPEND_ONLY_SQLITE = (
    "CREATE TRIGGER changes_no_update BEFORE UPDATE ON changes "
    "BEGIN SELECT RAISE(ABORT, 'the change log is append-only'); END",
    "CREATE TRIGGER changes_no_delete BEFORE DELETE ON changes "
    "BEGIN SELECT RAISE(ABORT, 'the change log is append-only'); END",
)
APPEND_ONLY_PG = (
    "CREATE FUNCTION changes_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'the change log is append-only'; END $$",
    "CREATE TRIGGER changes_no_update_delete BEFORE UPDATE OR DELETE ON changes "
    "FOR EACH ROW EXECUTE FUNCTION changes_append_only()",
)


def _append_only() -> None:
    dialect = op.get_bind().dialect.name
    for statement in APPEND_ONLY_PG if dialect == "postgresql" else APPEND_ONLY_SQLITE:
        op.execute(statement)


def upgrade() -> None:
    op.create_table(
        "changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("entity", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=True),
        sa.Column("old", sa.Text(), nullable=True),
        sa.Column("new", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_changes")),
    )
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.create_index("ix_changes_at", ["at"], unique=False)
        batch_op.create_index("ix_changes_entity_key", ["entity", "key"], unique=False)

    op.create_table(
        "evaluations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("evaluator", sa.String(length=100), nullable=False),
        sa.Column("rfq", sa.String(length=300), nullable=False),
        sa.Column("spec_id", sa.String(length=100), nullable=False),
        sa.Column("spec_version", sa.String(length=50), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("result_json", sa.Text(), nullable=False),
        sa.Column("result_sha256", sa.String(length=64), nullable=False),
        sa.Column("tool_version", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluations")),
    )
    op.create_table(
        "probe_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("selection", sa.JSON(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_probe_runs")),
    )
    op.create_table(
        "schools",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_km", sa.String(length=200), nullable=True),
        sa.Column("province", sa.String(length=100), nullable=True),
        sa.Column("district", sa.String(length=100), nullable=True),
        sa.Column("level", sa.String(length=16), nullable=True),
        sa.Column("subnets", sa.String(length=500), nullable=True),
        sa.Column("contact", sa.String(length=200), nullable=True),
        sa.Column("credential", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schools")),
        sa.UniqueConstraint("code", name=op.f("uq_schools_code")),
    )
    op.create_table(
        "rooms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.id"],
            name=op.f("fk_rooms_school_id_schools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rooms")),
        sa.UniqueConstraint("school_id", "name", name="uq_rooms_school_name"),
    )
    op.create_table(
        "devices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("asset_tag", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=True),
        sa.Column("manufacturer", sa.String(length=100), nullable=True),
        sa.Column("model", sa.String(length=200), nullable=True),
        sa.Column("serial", sa.String(length=100), nullable=True),
        sa.Column("mac", sa.String(length=17), nullable=True),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.Column("hostname", sa.String(length=253), nullable=True),
        sa.Column("funding", sa.String(length=100), nullable=True),
        sa.Column("purchase_date", sa.Date(), nullable=True),
        sa.Column("vendor", sa.String(length=200), nullable=True),
        sa.Column("unit_price", sa.Numeric(precision=16, scale=2), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("warranty_until", sa.Date(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("platform", sa.String(length=64), nullable=True),
        sa.Column("probes", sa.String(length=200), nullable=True),
        sa.Column("credential", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(["room_id"], ["rooms.id"], name=op.f("fk_devices_room_id_rooms")),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_devices_school_id_schools")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_devices")),
        sa.UniqueConstraint("asset_tag", name=op.f("uq_devices_asset_tag")),
        sa.UniqueConstraint("mac", name=op.f("uq_devices_mac")),
        sa.UniqueConstraint("serial", name=op.f("uq_devices_serial")),
    )
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.create_index("ix_devices_ip", ["ip"], unique=False)
        batch_op.create_index("ix_devices_school_kind", ["school_id", "kind"], unique=False)

    op.create_table(
        "config_backups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("changed", sa.Boolean(), nullable=False),
        sa.Column("content", sa.Text(), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.id"],
            name=op.f("fk_config_backups_device_id_devices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["probe_runs.id"],
            name=op.f("fk_config_backups_run_id_probe_runs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_config_backups")),
    )
    with op.batch_alter_table("config_backups", schema=None) as batch_op:
        batch_op.create_index(
            "ix_config_backups_device_at", ["device_id", "taken_at"], unique=False
        )

    op.create_table(
        "probe_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("target", sa.String(length=255), nullable=False),
        sa.Column("probe", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("method", sa.String(length=64), nullable=True),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.id"],
            name=op.f("fk_probe_results_device_id_devices"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["probe_runs.id"],
            name=op.f("fk_probe_results_run_id_probe_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_probe_results")),
    )
    with op.batch_alter_table("probe_results", schema=None) as batch_op:
        batch_op.create_index(
            "ix_probe_results_device_probe_at", ["device_id", "probe", "started_at"], unique=False
        )
        batch_op.create_index("ix_probe_results_run", ["run_id"], unique=False)
        batch_op.create_index("ix_probe_results_started_at", ["started_at"], unique=False)
    op.create_table(
        "ping_results",
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("started_us", sa.BigInteger(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("method", sa.Integer(), nullable=True),
        sa.Column("target", sa.String(length=255), nullable=True),
        sa.Column("target_ip", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("keys", sa.Integer(), nullable=True),
        sa.Column("sent", sa.Integer(), nullable=True),
        sa.Column("received", sa.Integer(), nullable=True),
        sa.Column("loss_pct", sa.Integer(), nullable=True),
        sa.Column("rtt_min", sa.Integer(), nullable=True),
        sa.Column("rtt_avg", sa.Integer(), nullable=True),
        sa.Column("rtt_max", sa.Integer(), nullable=True),
        sa.Column("rtt_stddev", sa.Integer(), nullable=True),
        sa.Column("jitter", sa.Integer(), nullable=True),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.id"],
            name=op.f("fk_ping_results_device_id_devices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("device_id", "started_us", "run_id", name=op.f("pk_ping_results")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "ping_runs",
        sa.Column("run_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("first_us", sa.BigInteger(), nullable=False),
        sa.Column("last_us", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["probe_runs.id"],
            name=op.f("fk_ping_runs_run_id_probe_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_ping_runs")),
    )
    # -- reports: rollups and alert state ---------------------------------------------------
    op.create_table(
        "probe_rollups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grain", sa.String(length=8), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("probe", sa.String(length=16), nullable=False),
        sa.Column("bucket_start", sa.BigInteger(), nullable=False),
        sa.Column("n_ok", sa.Integer(), nullable=False),
        sa.Column("n_warn", sa.Integer(), nullable=False),
        sa.Column("n_crit", sa.Integer(), nullable=False),
        sa.Column("n_unknown", sa.Integer(), nullable=False),
        sa.Column("rtt_count", sa.Integer(), nullable=False),
        sa.Column("rtt_sum", sa.Float(), nullable=False),
        sa.Column("loss_count", sa.Integer(), nullable=False),
        sa.Column("loss_sum", sa.Float(), nullable=False),
        sa.Column("rtt_sketch", sa.JSON(), nullable=False),
        sa.Column("last_up_at", sa.BigInteger(), nullable=True),
        sa.Column("last_at", sa.BigInteger(), nullable=False),
        sa.Column("last_status", sa.String(length=16), nullable=False),
        sa.Column("last_reason", sa.Text(), nullable=False),
        sa.Column("last_metrics", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.id"],
            name=op.f("fk_probe_rollups_device_id_devices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_probe_rollups")),
        sa.UniqueConstraint(
            "grain", "device_id", "probe", "bucket_start", name="uq_probe_rollups_bucket"
        ),
    )
    with op.batch_alter_table("probe_rollups", schema=None) as batch_op:
        batch_op.create_index(
            "ix_probe_rollups_grain_start", ["grain", "bucket_start"], unique=False
        )
    op.create_table(
        "alert_state",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("asset_tag", sa.String(length=64), nullable=True),
        sa.Column("probe", sa.String(length=16), nullable=True),
        sa.Column("consecutive", sa.Integer(), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notified", sa.Boolean(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_alert_state")),
    )
    op.create_table(
        "alert_cursor",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("last_run_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_alert_cursor")),
    )
    # -- discovery: sweeps and the hosts each saw ------------------------------------------
    op.create_table(
        "discovery_sweeps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("interface", sa.String(length=64), nullable=True),
        sa.Column("subnets", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.id"],
            name=op.f("fk_discovery_sweeps_school_id_schools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discovery_sweeps")),
    )
    with op.batch_alter_table("discovery_sweeps", schema=None) as batch_op:
        batch_op.create_index(
            "ix_discovery_sweeps_school_at", ["school_id", "started_at"], unique=False
        )
        batch_op.create_index("ix_discovery_sweeps_started_at", ["started_at"], unique=False)
    op.create_table(
        "discovery_hosts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sweep_id", sa.Integer(), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=False),
        sa.Column("mac", sa.String(length=17), nullable=True),
        sa.Column("vendor", sa.String(length=100), nullable=True),
        sa.Column("asset_tag", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["sweep_id"],
            ["discovery_sweeps.id"],
            name=op.f("fk_discovery_hosts_sweep_id_discovery_sweeps"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discovery_hosts")),
    )
    with op.batch_alter_table("discovery_hosts", schema=None) as batch_op:
        batch_op.create_index("ix_discovery_hosts_sweep", ["sweep_id"], unique=False)
        batch_op.create_index("ix_discovery_hosts_mac", ["mac"], unique=False)
        batch_op.create_index("ix_discovery_hosts_ip", ["ip"], unique=False)
    _append_only()


def downgrade() -> None:
    with op.batch_alter_table("discovery_hosts", schema=None) as batch_op:
        batch_op.drop_index("ix_discovery_hosts_ip")
        batch_op.drop_index("ix_discovery_hosts_mac")
        batch_op.drop_index("ix_discovery_hosts_sweep")
    op.drop_table("discovery_hosts")
    with op.batch_alter_table("discovery_sweeps", schema=None) as batch_op:
        batch_op.drop_index("ix_discovery_sweeps_started_at")
        batch_op.drop_index("ix_discovery_sweeps_school_at")
    op.drop_table("discovery_sweeps")
    op.drop_table("alert_cursor")
    op.drop_table("alert_state")
    with op.batch_alter_table("probe_rollups", schema=None) as batch_op:
        batch_op.drop_index("ix_probe_rollups_grain_start")
    op.drop_table("probe_rollups")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS changes_no_update_delete ON changes")
        op.execute("DROP FUNCTION IF EXISTS changes_append_only()")
    op.drop_table("ping_runs")
    op.drop_table("ping_results")
    with op.batch_alter_table("probe_results", schema=None) as batch_op:
        batch_op.drop_index("ix_probe_results_started_at")
        batch_op.drop_index("ix_probe_results_run")
        batch_op.drop_index("ix_probe_results_device_probe_at")

    op.drop_table("probe_results")
    with op.batch_alter_table("config_backups", schema=None) as batch_op:
        batch_op.drop_index("ix_config_backups_device_at")

    op.drop_table("config_backups")
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.drop_index("ix_devices_school_kind")
        batch_op.drop_index("ix_devices_ip")

    op.drop_table("devices")
    op.drop_table("rooms")
    op.drop_table("schools")
    op.drop_table("probe_runs")
    op.drop_table("evaluations")
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.drop_index("ix_changes_entity_key")
        batch_op.drop_index("ix_changes_at")

    op.drop_table("changes")
