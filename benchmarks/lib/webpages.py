"""The web benchmark's pages: every URL of issue #14 with real keys from the data (the biggest
school, a router with backups, an RFQ with an evaluation, …) and, per page, the SQL a person
would type for its main question (the psql baseline)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import webbench as wb


@dataclass
class Page:
    """One page to fetch: a label, the URL, whether 300 ms holds, the SQL baseline's name."""

    label: str
    url: str
    held: bool = True
    baseline: str | None = None
    refusal: int = 0
    """An HTTP status that is the documented answer, not an error (e.g. 413 for a PDF too long)."""
    server: list[float] = field(default_factory=list)
    client: list[float] = field(default_factory=list)
    status: int = 0
    size: int = 0
    first: float = 0.0
    """Server ms of the first (warm-up) request: a cold cache, a report built."""
    note: str = ""


@dataclass(frozen=True)
class Targets:
    """Real keys from the data: the biggest school, a router with backups, a camera, …"""

    school: str
    small_school: str
    router: str
    camera: str
    serial: str
    mac: str
    evaluation: int
    rfq: int
    month: str
    since: str


def targets(pg: wb.CachedPostgres) -> Targets:
    def one(sql: str) -> str:
        return pg.psql_cmd(sql, "-tA").strip().splitlines()[0]

    school = one(
        "SELECT s.code FROM schools s JOIN devices d ON d.school_id = s.id "
        "GROUP BY s.code ORDER BY count(*) DESC, s.code LIMIT 1"
    )
    small = one(
        "SELECT s.code FROM schools s JOIN devices d ON d.school_id = s.id "
        "GROUP BY s.code ORDER BY count(*), s.code LIMIT 1"
    )
    router = one(
        "SELECT d.asset_tag FROM devices d JOIN config_backups b ON b.device_id = d.id "
        f"JOIN schools s ON s.id = d.school_id WHERE s.code = '{school}' AND d.kind = 'router' LIMIT 1"
    )
    camera = one(
        "SELECT d.asset_tag FROM devices d JOIN schools s ON s.id = d.school_id "
        f"WHERE s.code = '{school}' AND d.kind = 'camera' ORDER BY d.asset_tag LIMIT 1"
    )
    serial, mac = one(
        "SELECT serial || '|' || mac FROM devices WHERE kind = 'printer' ORDER BY md5(serial) LIMIT 1"
    ).split("|")
    found = pg.psql_cmd(
        "SELECT e.rfq_id || '|' || e.evaluation_id FROM rfq_evaluations e ORDER BY e.rfq_id DESC LIMIT 1",
        "-tA",
    ).strip()
    rfq, evaluation = (int(x) for x in found.split("|")) if found else (0, 0)
    end = dt.datetime.now(dt.UTC)
    last = end.replace(day=1) - dt.timedelta(days=1)
    return Targets(
        school,
        small,
        router,
        camera,
        serial,
        mac,
        evaluation,
        rfq,
        f"{last:%Y-%m}",
        f"{end - dt.timedelta(days=7):%Y-%m-%d}",
    )


def pages(t: Targets) -> list[Page]:
    """Every page of issue #14's list, with its SQL baseline."""
    return [
        Page("overview /", "/", baseline="latest status, all devices"),
        Page("problems", "/problems", baseline="latest status, all devices"),
        Page(
            f"problems school={t.school}",
            f"/problems?school={t.school}",
            baseline="latest status, one school",
        ),
        Page(
            "problems kind=down severity=crit",
            "/problems?kind=down&severity=crit",
            baseline="latest status, all devices",
        ),
        Page("problems since=7d", "/problems?since=7d", baseline="latest status, all devices"),
        Page(
            "problems since=7d page=3",
            "/problems?since=7d&page=3",
            baseline="latest status, all devices",
        ),
        Page(
            f"school {t.school} (largest)",
            f"/schools/{t.school}",
            baseline="school: latest + 30-day availability",
        ),
        Page(
            f"school {t.small_school} (smallest)",
            f"/schools/{t.small_school}",
            baseline="school: latest + 30-day availability",
        ),
        Page(
            f"school {t.school} period=30d",
            f"/schools/{t.school}?period=30d",
            baseline="school: latest + 30-day availability",
        ),
        Page(
            f"school {t.school} page=2",
            f"/schools/{t.school}?page=2",
            baseline="school: latest + 30-day availability",
        ),
        Page(
            f"device {t.router} (router)",
            f"/devices/{t.router}",
            baseline="device: latest, 50 results, changes",
        ),
        Page(
            f"device {t.camera} (camera)",
            f"/devices/{t.camera}",
            baseline="device: latest, 50 results, changes",
        ),
        Page("inventory", "/inventory", baseline="inventory: first 50"),
        Page("inventory page=200", "/inventory?page=200", baseline="inventory: first 50"),
        Page("inventory q=kpt (broad)", "/inventory?q=kpt", baseline="inventory: search"),
        Page("inventory q=kpt page=40", "/inventory?q=kpt&page=40", baseline="inventory: search"),
        Page(
            f"inventory q={t.serial} (serial)",
            f"/inventory?q={t.serial}",
            baseline="inventory: search",
        ),
        Page(
            f"inventory q={t.mac.upper()} (MAC)",
            f"/inventory?q={t.mac.upper()}",
            baseline="inventory: search",
        ),
        Page(
            "inventory/results q=kpt (htmx)",
            "/inventory/results?q=kpt",
            baseline="inventory: search",
        ),
        Page(
            f"inventory school={t.school} kind=camera",
            f"/inventory?school={t.school}&kind=camera",
            baseline="inventory: search",
        ),
        Page("quotes", "/quotes", baseline="evaluations: newest 50"),
        Page(f"quotes RFQ {t.rfq}", f"/quotes/{t.rfq}", baseline="evaluations: one"),
        Page(
            f"quotes RFQ {t.rfq} evaluation",
            f"/quotes/{t.rfq}/evaluation",
            baseline="evaluations: one",
        ),
        Page(
            f"quotes RFQ {t.rfq} report.html",
            f"/quotes/{t.rfq}/report.html",
            baseline="evaluations: one",
        ),
        Page("reports", "/reports", baseline="report: 30-day availability, all"),
        Page(
            f"report HTML {t.month}, school {t.school}",
            f"/reports/health.html?month={t.month}&school={t.school}",
            baseline="report: 30-day availability, one school",
        ),
        Page(
            f"report HTML {t.month}, school {t.school}, km",
            f"/reports/health.html?month={t.month}&school={t.school}&lang=km",
            baseline="report: 30-day availability, one school",
        ),
        Page(
            f"report HTML {t.month}, all schools",
            f"/reports/health.html?month={t.month}",
            baseline="report: 30-day availability, all",
        ),
        Page(
            f"report PDF {t.month}, school {t.school}",
            f"/reports/health.pdf?month={t.month}&school={t.school}",
            held=False,
        ),
        Page(
            f"report PDF {t.month}, all schools",
            f"/reports/health.pdf?month={t.month}",
            held=False,
            refusal=413,  # over 4 MB of HTML: refused with its size, by design
        ),
        Page("API /api/v1/schools", "/api/v1/schools", baseline="latest status, all devices"),
        Page("API /api/v1/devices", "/api/v1/devices", baseline="inventory: first 50"),
        Page(
            "API /api/v1/devices/{router}",
            f"/api/v1/devices/{t.router}",
            baseline="device: latest, 50 results, changes",
        ),
        Page("API /api/v1/problems", "/api/v1/problems", baseline="latest status, all devices"),
        Page("API /api/v1/quotes", "/api/v1/quotes", baseline="evaluations: newest 50"),
        Page("API /api/v1/quotes/rfqs", "/api/v1/quotes/rfqs", baseline="evaluations: newest 50"),
        Page("API /api/v1/status", "/api/v1/status", baseline="latest status, all devices"),
        Page(
            f"API /api/v1/reports/health school {t.school}",
            f"/api/v1/reports/health?month={t.month}&school={t.school}",
            baseline="report: 30-day availability, one school",
        ),
        Page("admin users", "/admin/users"),
    ]


def baselines(t: Targets, since_s: int) -> dict[str, str]:
    """The SQL a person would type for each page's main question."""
    latest = (
        "SELECT d.school_id, count(*) FILTER (WHERE l.status IN (0, 1)) AS up, "
        "count(*) FILTER (WHERE l.status = 2) AS down, count(*) FILTER (WHERE l.status = 3) AS unknown "
        "FROM devices d CROSS JOIN LATERAL (SELECT p.status FROM ping_results p WHERE p.device_id = d.id "
        "ORDER BY p.started_us DESC LIMIT 1) l {where} GROUP BY d.school_id"
    )
    one = f"WHERE d.school_id = (SELECT id FROM schools WHERE code = '{t.school}')"
    avail = (
        "SELECT r.device_id, sum(r.n_ok + r.n_warn)::float / nullif(sum(r.n_ok + r.n_warn + r.n_crit + r.n_unknown), 0) "
        "FROM probe_rollups r {join} WHERE r.grain = 'day' AND r.probe = 'ping' AND r.bucket_start >= "
        f"{since_s} {{where}} GROUP BY r.device_id"
    )
    return {
        "latest status, all devices": latest.format(where=""),
        "latest status, one school": latest.format(where=one),
        "school: latest + 30-day availability": latest.format(where=one)
        + "; "
        + avail.format(join="JOIN devices d ON d.id = r.device_id", where="AND " + one[6:]),
        "device: latest, 50 results, changes": (
            f"SELECT * FROM ping_results WHERE device_id = (SELECT id FROM devices WHERE asset_tag = '{t.router}') "
            "ORDER BY started_us DESC LIMIT 50; "
            f"SELECT * FROM changes WHERE entity = 'device' AND key = '{t.router}' ORDER BY id DESC LIMIT 50"
        ),
        "inventory: first 50": "SELECT * FROM devices ORDER BY asset_tag LIMIT 50; SELECT count(*) FROM devices",
        "inventory: search": (
            "SELECT * FROM devices WHERE asset_tag ILIKE '%kpt%' OR serial ILIKE '%kpt%' OR mac ILIKE '%kpt%' "
            "OR ip ILIKE '%kpt%' OR hostname ILIKE '%kpt%' ORDER BY asset_tag LIMIT 50"
        ),
        "evaluations: newest 50": "SELECT id, created_at, rfq, method FROM evaluations ORDER BY id DESC LIMIT 50",
        "evaluations: one": f"SELECT * FROM evaluations WHERE id = {t.evaluation}",
        "report: 30-day availability, all": avail.format(join="", where=""),
        "report: 30-day availability, one school": avail.format(
            join="JOIN devices d ON d.id = r.device_id", where="AND " + one[6:]
        ),
    }
