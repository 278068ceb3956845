"""Server user accounts (log-in to the web pages and API)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from kape_itops.store.models.base import Base


class UserRow(Base):
    """One account; ``password_hash`` is an argon2 PHC string, never the password."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime]
    created_by: Mapped[str] = mapped_column(String(100))
    password_changed_at: Mapped[dt.datetime]
    disabled_at: Mapped[dt.datetime | None]
    failed_count: Mapped[int] = mapped_column(Integer, default=0)
    """Failed log-ins in a row (reset by a successful one)."""
    locked_until: Mapped[dt.datetime | None]


# names that differ only in case are one name (names are ASCII: lower() agrees everywhere)
Index("uq_users_name_lower", func.lower(UserRow.name), unique=True)
