"""Requests for quotation made on the web: the RFQ, the vendors' uploaded forms, the evaluations
recorded for it and the award decisions (files, evaluation links and decisions append-only)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kape_itops.store.models.base import Base


class RfqRow(Base):
    """One request for quotation: its ``rfq.yaml`` text and the spec it was issued against."""

    __tablename__ = "rfqs"

    id: Mapped[int] = mapped_column(primary_key=True)
    rfq: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    spec_id: Mapped[str] = mapped_column(String(100))
    spec_version: Mapped[str] = mapped_column(String(50))
    currency: Mapped[str] = mapped_column(String(3))
    submission_deadline: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime]
    created_by: Mapped[str] = mapped_column(String(100))
    rfq_yaml: Mapped[str] = mapped_column(Text)
    rfq_sha256: Mapped[str] = mapped_column(String(64))
    spec_yaml: Mapped[str] = mapped_column(Text)
    spec_sha256: Mapped[str] = mapped_column(String(64))


class RfqFileRow(Base):
    """One uploaded quotation form; a newer one of the same vendor replaces it (both kept)."""

    __tablename__ = "rfq_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    rfq_id: Mapped[int] = mapped_column(ForeignKey("rfqs.id"))
    vendor: Mapped[str] = mapped_column(String(300))
    vendor_key: Mapped[str] = mapped_column(String(300))
    filename: Mapped[str] = mapped_column(String(200))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[dt.datetime]
    uploaded_by: Mapped[str] = mapped_column(String(100))


Index("ix_rfq_files_rfq_vendor", RfqFileRow.rfq_id, RfqFileRow.vendor_key)


class RfqEvaluationRow(Base):
    """An evaluation (``evaluations``, the audit record) recorded for an RFQ."""

    __tablename__ = "rfq_evaluations"

    id: Mapped[int] = mapped_column(primary_key=True)
    rfq_id: Mapped[int] = mapped_column(ForeignKey("rfqs.id"), index=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id"), unique=True)


class RfqDecisionRow(Base):
    """An award decision on one lot, resting on a recorded evaluation; the newest one counts."""

    __tablename__ = "rfq_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    rfq_id: Mapped[int] = mapped_column(ForeignKey("rfqs.id"), index=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id"))
    lot: Mapped[str] = mapped_column(String(100))
    vendor: Mapped[str] = mapped_column(String(300))
    quote: Mapped[str] = mapped_column(String(200))
    comment: Mapped[str] = mapped_column(Text)
    decided_at: Mapped[dt.datetime]
    decided_by: Mapped[str] = mapped_column(String(100))
