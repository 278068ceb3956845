"""The web pages' pure assembly (reports/views.py): states, matrices, filters, pages, availability."""

from __future__ import annotations

import datetime as dt

import pytest

from kape_itops.domain.discovery import HostState, StoredSweep, SweepHost
from kape_itops.domain.enums import DeviceKind, DeviceStatus, ProbeStatus
from kape_itops.domain.inventory import Device
from kape_itops.domain.problems import Observation, Problem, ProblemKind, Severity
from kape_itops.domain.reports import StatusCounts
from kape_itops.domain.status import LinkState, PingState, ProbeTotals, state_of
from kape_itops.reports import views

NOW = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)
FRESH = NOW - dt.timedelta(minutes=30)


def _ps(
    tag: str,
    school: str,
    status: str | None,
    age_min: int | None,
    room: str | None = "Lab",
    kind: DeviceKind = DeviceKind.DESKTOP,
) -> PingState:
    at = None if age_min is None else NOW - dt.timedelta(minutes=age_min)
    return PingState(1, tag, school, room, kind, status, at)


@pytest.mark.parametrize(
    ("status", "age", "state"),
    [
        ("ok", 1, LinkState.UP),
        ("warn", 1, LinkState.UP),
        ("crit", 1, LinkState.DOWN),
        ("unknown", 1, LinkState.UNKNOWN),
        ("ok", 31, LinkState.NO_DATA),
        ("crit", 31, LinkState.NO_DATA),
        (None, None, LinkState.NO_DATA),
    ],
)
def test_state_of_a_newest_ping(status: str | None, age: int | None, state: LinkState) -> None:
    at = None if age is None else NOW - dt.timedelta(minutes=age)
    assert state_of(status, at, FRESH) == state


def test_tally_counts_every_deployed_device_once_per_school() -> None:
    states = [
        _ps("A", "S1", "ok", 1),
        _ps("B", "S1", "crit", 2),
        _ps("C", "S1", None, None),
        _ps("D", "S2", "ok", 100),
    ]
    got = views.tally(states, FRESH)
    assert got["S1"] == {
        LinkState.UP: 1,
        LinkState.DOWN: 1,
        LinkState.UNKNOWN: 0,
        LinkState.NO_DATA: 1,
    }
    assert got["S2"][LinkState.NO_DATA] == 1 and sum(got["S2"].values()) == 1


def test_room_matrix_groups_rooms_then_kinds_no_room_last() -> None:
    states = [
        _ps("A", "S1", "ok", 1, None, DeviceKind.CAMERA),
        _ps("B", "S1", "crit", 1, "Office", DeviceKind.ROUTER),
        _ps("C", "S1", "ok", 1, "Lab", DeviceKind.DESKTOP),
        _ps("D", "S1", "ok", 1, "Lab", DeviceKind.DESKTOP),
    ]
    got = views.room_matrix(states, FRESH)
    assert [(r.room, r.kind) for r in got] == [
        ("Lab", DeviceKind.DESKTOP),
        ("Office", DeviceKind.ROUTER),
        (None, DeviceKind.CAMERA),
    ]
    assert got[0].states[LinkState.UP] == 2 and got[1].states[LinkState.DOWN] == 1


def _p(kind: ProblemKind, sev: Severity, school: str, tag: str | None) -> Problem:
    return Problem(kind, sev, school, tag, "detail")


def test_filter_and_severity_counts() -> None:
    ps = [
        _p(ProblemKind.DOWN, Severity.CRIT, "S1", "A"),
        _p(ProblemKind.TONER_LOW, Severity.WARN, "S1", "B"),
        _p(ProblemKind.DOWN, Severity.CRIT, "S2", "C"),
        _p(ProblemKind.WARRANTY_EXPIRED, Severity.INFO, "S2", "D"),
    ]
    assert views.severity_counts(ps)["S2"] == {Severity.CRIT: 1, Severity.WARN: 0, Severity.INFO: 1}
    flt = views.ProblemFilter(school="S1")
    assert [p.asset_tag for p in views.filter_problems(ps, flt)] == ["A", "B"]
    flt = views.ProblemFilter(kind=ProblemKind.DOWN)
    assert [p.asset_tag for p in views.filter_problems(ps, flt)] == ["A", "C"]
    flt = views.ProblemFilter(school="S2", severity=Severity.INFO)
    assert [p.asset_tag for p in views.filter_problems(ps, flt)] == ["D"]


def test_pages_are_bounded_and_clamped() -> None:
    items = list(range(120))
    assert views.page_count(0) == 1 and views.page_count(50) == 1 and views.page_count(51) == 2
    got, page = views.page_slice(items, 3)
    assert page == 3 and got == list(range(100, 120))
    got, page = views.page_slice(items, 10**6)  # past the end: the last page, never all
    assert page == 3 and len(got) == 20
    got, page = views.page_slice(items, -5)
    assert page == 1 and len(got) == views.PAGE_SIZE


def test_device_availability_uses_the_first_availability_probe_it_has() -> None:
    start, end = 0, 86400
    totals = [
        ProbeTotals("A", "ping", StatusCounts(ok=270, crit=18), 0),
        ProbeTotals("A", "snmp", StatusCounts(crit=24), 0),
        ProbeTotals("B", "onvif", StatusCounts(ok=12), 43200),
    ]
    got = views.device_availability(
        totals, ("ping", "snmp", "onvif"), start=start, end=end, bucket_s=3600, interval_s=300
    )
    assert got["A"].expected == 288 and got["A"].up == 270 and got["A"].down == 18
    # B was first seen half-way through the period: only the second half is owed
    assert got["B"].expected == 144 and got["B"].up == 12 and got["B"].unknown == 132
    pooled = views.pooled(got.values())
    assert pooled.expected == 288 + 144


def test_warranty_states() -> None:
    today = dt.date(2026, 12, 4)
    base = Device("A", DeviceKind.LAPTOP, "S1", DeviceStatus.DEPLOYED)
    assert views.warranty_of(base, today, 60) is None
    old = views.warranty_of(
        Device("A", DeviceKind.LAPTOP, "S1", warranty_until=dt.date(2026, 12, 1)), today, 60
    )
    assert old is not None and old.state == "expired" and old.days == -3
    soon = views.warranty_of(
        Device("A", DeviceKind.LAPTOP, "S1", warranty_until=dt.date(2027, 1, 3)), today, 60
    )
    assert soon is not None and soon.state == "expiring"
    far = views.warranty_of(
        Device("A", DeviceKind.LAPTOP, "S1", warranty_until=dt.date(2028, 1, 1)), today, 60
    )
    assert far is not None and far.state == "ok"


def test_device_fields_list_every_field_of_a_device() -> None:
    names = [n for n, _ in views.device_fields(Device("A", DeviceKind.LAPTOP, "S1"))]
    assert set(names) == set(Device.__dataclass_fields__)


def test_diff_lines_are_marked() -> None:
    text = "--- a v1\n+++ a v2\n@@ -1,2 +1,2 @@\n hostname x\n-vlan 10\n+vlan 20\n"
    assert [k for k, _ in views.diff_lines(text)] == ["head", "head", "hunk", "ctx", "del", "add"]


def _obs(tag: str, probe: str, metrics: dict[str, object]) -> Observation:
    return Observation(tag, "S1", probe, ProbeStatus.OK, "", NOW, metrics)


def test_toner_lowest_supply_first_unreadable_last() -> None:
    got = views.toner(
        [
            _obs(
                "P1",
                "snmp",
                {"supplies": [{"name": "Black", "pct": 40}, {"name": "Cyan", "pct": 8}]},
            ),
            _obs("P2", "snmp", {"supplies": [{"name": "Black", "pct": 3}]}),
            _obs("P3", "snmp", {"supplies": [{"name": "Black", "pct": None}]}),
            _obs("P4", "snmp", {}),
        ]
    )
    assert [(s.asset_tag, s.name, s.pct) for s in got] == [
        ("P2", "Black", 3.0),
        ("P1", "Cyan", 8.0),
        ("P3", "Black", None),
    ]


def test_disks_fullest_first() -> None:
    got = views.disks(
        [
            _obs("N1", "snmp", {"disk_used_pct": 40.0}),
            _obs("N2", "onvif", {"disk_used_pct": 93}),
            _obs("N3", "snmp", {}),
        ]
    )
    assert got == [("N2", 93.0), ("N1", 40.0), ("N3", None)]


def test_unknown_hosts_leave_out_what_the_inventory_knows() -> None:
    hosts = (
        SweepHost("10.0.0.5", "aa:bb:cc:00:00:01", "Acme", None, HostState.UNKNOWN),
        SweepHost("10.0.0.6", "aa:bb:cc:00:00:02", "Acme", None, HostState.UNKNOWN),
        SweepHost("10.0.0.7", None, None, None, HostState.UNKNOWN),
        SweepHost("10.0.0.8", "aa:bb:cc:00:00:08", None, "T8", HostState.KNOWN),
    )
    sweep = StoredSweep(1, "S1", NOW, 1.0, "arp", (), "t", None, {}, hosts)
    known = Device("T2", DeviceKind.PRINTER, "S1", DeviceStatus.DEPLOYED, mac="aa:bb:cc:00:00:02")
    got = views.unknown_hosts([sweep], [known])
    assert [(h.mac, h.ip) for h in got] == [("aa:bb:cc:00:00:01", "10.0.0.5"), (None, "10.0.0.7")]
