"""The REST API's request and response bodies (Pydantic), built from the services' objects.

The models document ``/api/openapi.json``; ``from_*`` functions turn the domain's frozen
dataclasses into them. Credentials appear by name only (the name of an entry of the secrets
file), never a value; passwords and hashes never.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field

from kape_itops.domain.evaluations import StoredEvaluation
from kape_itops.domain.inventory import Change, Device, School
from kape_itops.domain.problems import Problem
from kape_itops.domain.results import ProbeResult
from kape_itops.domain.sync import SiteStatus
from kape_itops.errors import Issue


class Error(BaseModel):
    """Every refusal: ``{"error": "..."}``."""

    error: str


class IssueOut(BaseModel):
    """One problem with a request's values, named by its field."""

    field: str | None
    value: str | None
    reason: str
    severity: str


class Invalid(Error):
    """Values refused (422): every issue at once."""

    issues: list[IssueOut] = []


class SchoolOut(BaseModel):
    code: str
    name: str
    name_km: str | None
    province: str | None
    district: str | None
    level: str | None
    subnets: list[str]
    contact: str | None
    credential: str | None = Field(description="the name of a secrets-file entry, not a secret")


class DeviceOut(BaseModel):
    asset_tag: str
    kind: str
    school: str
    status: str
    room: str | None
    manufacturer: str | None
    model: str | None
    serial: str | None
    mac: str | None
    ip: str | None
    hostname: str | None
    funding: str | None
    purchase_date: dt.date | None
    vendor: str | None
    unit_price: str | None = Field(description="a decimal number as text (exact)")
    currency: str | None
    warranty_until: dt.date | None
    notes: str | None
    platform: str | None
    probes: list[str]
    credential: str | None = Field(description="the name of a secrets-file entry, not a secret")


class DevicePageOut(BaseModel):
    devices: list[DeviceOut]
    total: int
    page: int
    per_page: int
    pages: int


class ChangeOut(BaseModel):
    id: int | None
    at: dt.datetime
    actor: str
    action: str
    field: str | None
    old: str | None
    new: str | None
    source: str


class ResultOut(BaseModel):
    probe: str
    status: str
    reason: str
    started_at: dt.datetime
    duration_ms: float
    method: str | None
    metrics: dict[str, Any]


class WarrantyOut(BaseModel):
    until: dt.date
    state: str = Field(description="ok, expiring or expired")
    days: int


class DeviceDetail(BaseModel):
    device: DeviceOut
    latest: list[ResultOut] = Field(description="the newest result of each probe")
    problems: list[ProblemOut]
    changes: list[ChangeOut] = Field(description="the newest change-log entries, newest first")
    warranty: WarrantyOut | None


class Edited(BaseModel):
    """What a write did: the device's tag now and the change-log entries it made."""

    asset_tag: str
    changes: list[ChangeOut]
    warnings: list[IssueOut] = []


class MoveIn(BaseModel):
    school: str | None = Field(None, max_length=100)
    room: str | None = Field(None, max_length=200, description="empty: no room")
    reason: str = Field(max_length=1000)


class ReasonIn(BaseModel):
    reason: str = Field(max_length=1000)


class RepairIn(ReasonIn):
    done: bool = Field(False, description="true: back from repair (deployed)")


class ProblemOut(BaseModel):
    key: str
    kind: str
    severity: str
    school: str
    asset_tag: str | None
    detail: str
    since: dt.datetime | None
    probe: str | None
    part: str


class ProblemPageOut(BaseModel):
    problems: list[ProblemOut]
    total: int
    page: int
    pages: int


class EvaluationSummary(BaseModel):
    id: int
    created_at: dt.datetime
    evaluator: str
    rfq: str
    spec_id: str
    spec_version: str
    method: str
    result_sha256: str
    tool_version: str


class EvaluationOut(EvaluationSummary):
    inputs: dict[str, Any] = Field(description="the audit record of the inputs")
    result: Any = Field(description="the evaluation, as `itops quote score --json` writes it")


class SiteOut(BaseModel):
    school: str
    site: str
    name: str
    last_sync_at: dt.datetime | None
    silent_for_s: float | None
    backlog: int | None
    clock_offset_s: float | None
    clock_off: bool
    version: str | None
    revoked_at: dt.datetime | None
    records: dict[str, int]


class StatusOut(BaseModel):
    server_time: dt.datetime
    sites: list[SiteOut]


DeviceDetail.model_rebuild()


def _value(v: object) -> str | None:
    if v is None:
        return None
    return str(getattr(v, "value", v))


def school_out(s: School) -> SchoolOut:
    return SchoolOut(
        code=s.code,
        name=s.name,
        name_km=s.name_km,
        province=s.province,
        district=s.district,
        level=_value(s.level),
        subnets=list(s.subnets),
        contact=s.contact,
        credential=s.credential,
    )


def device_out(d: Device) -> DeviceOut:
    return DeviceOut(
        asset_tag=d.asset_tag,
        kind=str(_value(d.kind)),
        school=d.school,
        status=str(_value(d.status)),
        room=d.room,
        manufacturer=d.manufacturer,
        model=d.model,
        serial=d.serial,
        mac=d.mac,
        ip=d.ip,
        hostname=d.hostname,
        funding=d.funding,
        purchase_date=d.purchase_date,
        vendor=d.vendor,
        unit_price=None if d.unit_price is None else str(d.unit_price),
        currency=_value(d.currency),
        warranty_until=d.warranty_until,
        notes=d.notes,
        platform=d.platform,
        probes=list(d.probes),
        credential=d.credential,
    )


def change_out(c: Change) -> ChangeOut:
    return ChangeOut(
        id=c.id,
        at=c.at,
        actor=c.actor,
        action=str(_value(c.action)),
        field=c.field,
        old=c.old,
        new=c.new,
        source=c.source,
    )


def issue_out(i: Issue) -> IssueOut:
    return IssueOut(field=i.column, value=i.value, reason=i.reason, severity=i.severity)


def result_out(r: ProbeResult) -> ResultOut:
    return ResultOut(
        probe=r.probe,
        status=str(_value(r.status)),
        reason=r.reason,
        started_at=r.started_at,
        duration_ms=r.duration_ms,
        method=r.method,
        metrics=_plain(r.metrics),
    )


def _plain(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """Metrics as JSON values (anything unusual as text)."""

    def one(v: Any) -> Any:
        if v is None or isinstance(v, bool | int | float | str):
            return v
        if isinstance(v, Mapping):
            return {str(k): one(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [one(x) for x in v]
        return str(v)

    return {str(k): one(v) for k, v in metrics.items()}


def problem_out(p: Problem) -> ProblemOut:
    return ProblemOut(
        key=p.key,
        kind=str(_value(p.kind)),
        severity=str(_value(p.severity)),
        school=p.school,
        asset_tag=p.asset_tag,
        detail=p.detail,
        since=p.since,
        probe=p.probe,
        part=p.part,
    )


def evaluation_summary(e: StoredEvaluation) -> EvaluationSummary:
    return EvaluationSummary(
        id=e.id,
        created_at=e.created_at,
        evaluator=e.evaluator,
        rfq=e.rfq,
        spec_id=e.spec_id,
        spec_version=e.spec_version,
        method=e.method,
        result_sha256=e.result_sha256,
        tool_version=e.tool_version,
    )


def site_out(s: SiteStatus) -> SiteOut:
    site = s.site
    return SiteOut(
        school=site.school,
        site=site.uid,
        name=site.name,
        last_sync_at=site.last_sync_at,
        silent_for_s=s.silent_for.total_seconds() if s.silent_for else None,
        backlog=site.backlog,
        clock_offset_s=site.clock_offset_s,
        clock_off=site.clock_off,
        version=site.version,
        revoked_at=site.revoked_at,
        records=dict(s.records),
    )
