"""Alembic environment: uses the connection handed over by ``Store.upgrade``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from kape_itops.store.models import Base

target_metadata = Base.metadata
config = context.config


def run() -> None:
    """Run migrations on the given connection, or on a fresh engine for the alembic CLI."""
    conn = config.attributes.get("connection")
    if conn is not None:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as connection:
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()


run()
