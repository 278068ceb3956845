"""Finished monthly reports kept with the fingerprint of the data they were built from."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Date, Float, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from kape_itops.store.models.base import Base
from kape_itops.store.models.probes import ProbeRunRow


class ReportCacheRow(Base):
    """One rendered report (HTML, PDF or JSON) of one month, school (``""``: all) and language
    (``""`` for JSON). ``digest`` fingerprints everything the report reads but the three
    append-only streams; ``seen_*`` are the highest ids of those streams known to be in it."""

    __tablename__ = "report_cache"
    __table_args__ = (Index("ix_report_cache_key", "month", "school", "lang", "fmt", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[dt.date] = mapped_column(Date)
    school: Mapped[str] = mapped_column(String(32))
    lang: Mapped[str] = mapped_column(String(8))
    fmt: Mapped[str] = mapped_column(String(8))
    digest: Mapped[str] = mapped_column(String(64))
    seen_run: Mapped[int] = mapped_column(BigInteger)
    seen_backup: Mapped[int] = mapped_column(BigInteger)
    seen_sweep: Mapped[int] = mapped_column(BigInteger)
    built_at: Mapped[dt.datetime]
    build_ms: Mapped[float] = mapped_column(Float)
    body: Mapped[bytes] = mapped_column(LargeBinary)


# runs still being written (few): their results may still grow, so the fingerprint looks at them
Index(
    "ix_probe_runs_unfinished",
    ProbeRunRow.id,
    sqlite_where=ProbeRunRow.finished_at.is_(None),
    postgresql_where=ProbeRunRow.finished_at.is_(None),
)
