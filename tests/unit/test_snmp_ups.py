"""The UPS check (UPS-MIB, RFC 1628) judged without an agent, and the report's ``ups_battery``
problem taken from the probe's own verdicts."""

from __future__ import annotations

import datetime as dt

from kape_itops.domain.enums import ProbeStatus
from kape_itops.domain.problems import Observation, ProblemKind, Severity
from kape_itops.probes.snmp.checks.base import Outcome
from kape_itops.probes.snmp.checks.ups import eval_ups, summary
from kape_itops.probes.snmp.values import Kind, Value
from kape_itops.reports.problems import Thresholds
from kape_itops.reports.problems import from_observation as problems_of

TH = {"ups_charge_pct": {"warn": 50, "crit": 20}, "ups_minutes_left": {"warn": 15, "crit": 5}}
ALARM = "1.3.6.1.2.1.33.1.6.3"


def i(n: int) -> Value:
    return Value(Kind.INTEGER, n)


def alarms(*numbers: int | str) -> dict[str, dict[str, Value]]:
    """upsAlarmTable rows: a well-known alarm number, or any OID."""
    return {
        str(k): {"descr": Value(Kind.OID, f"{ALARM}.{n}" if isinstance(n, int) else n)}
        for k, n in enumerate(numbers, 1)
    }


def ups(
    status: int = 2,
    seconds: int = 0,
    minutes: int = 52,
    charge: int = 100,
    source: int = 3,
    present: int = 0,
) -> dict[str, Value]:
    return {
        "battery_status": i(status),
        "seconds_on_battery": i(seconds),
        "minutes_left": i(minutes),
        "charge_pct": i(charge),
        "voltage": i(272),
        "temperature": i(25),
        "output_source": i(source),
        "alarms_present": Value(Kind.UNSIGNED, present),
    }


def judge(
    values: dict[str, Value], table: dict[str, dict[str, Value]] | None = None, th: dict = TH
) -> Outcome:
    out = Outcome()
    eval_ups(values, table or {}, th, out)
    return out


def test_a_normal_ups_is_ok_with_every_reading_judged() -> None:
    out = judge(ups())
    assert (out.status, out.reason) == (
        ProbeStatus.OK,
        "UPS battery normal, 100% charged, 52 min left",
    )
    assert out.metrics["levels"] == {
        "ups_battery_status": "ok",
        "ups_output_source": "ok",
        "ups_charge_pct": "ok",
        "ups_minutes_left": "ok",
    }
    assert out.metrics["ups_battery_v"] == 27.2
    assert out.metrics["ups_on_battery"] is False


def test_on_battery_with_a_low_charge_is_critical_and_alarms_are_not_said_twice() -> None:
    out = judge(ups(status=3, seconds=540, minutes=4, charge=15, source=5, present=2), alarms(2, 3))
    assert out.status is ProbeStatus.CRIT
    assert out.reason == (
        "battery low (upsBatteryStatus); battery 15% charged (< 20%); "
        "4 min of battery left (< 5 min)"
    )
    assert "warn: on battery for 9m 0s" in [f"{f.status}: {f.text}" for f in out.findings]
    assert out.metrics["ups_alarms"] == ["on battery", "low battery"]
    assert out.metrics["levels"]["ups_alarms:low battery"] == "crit"
    assert not any(f.text.startswith("UPS alarm") for f in out.findings)


def test_thresholds_warn_between_the_limits() -> None:
    out = judge(ups(charge=45, minutes=12))
    assert out.status is ProbeStatus.WARN
    assert out.reason == "battery 45% charged (< 50%); 12 min of battery left (< 15 min)"
    assert judge(ups(charge=45, minutes=12), th={}).status is ProbeStatus.OK  # none given


def test_output_source_bypass_warns_and_none_is_critical() -> None:
    assert judge(ups(source=4)).reason == "output source bypass (upsOutputSource)"
    assert judge(ups(source=4)).status is ProbeStatus.WARN
    assert judge(ups(source=2)).status is ProbeStatus.CRIT
    assert judge(ups(source=6)).status is ProbeStatus.OK  # booster: on mains, voltage raised


def test_alarms_have_their_own_severity_and_unknown_ones_warn() -> None:
    out = judge(ups(present=3), alarms(1, 24, "1.3.6.1.4.1.318.2.3.99"))
    assert out.status is ProbeStatus.WARN
    assert out.reason == "UPS alarm: battery bad; UPS alarm: alarm 1.3.6.1.4.1.318.2.3.99"
    contradicted = judge(ups(), alarms(3))  # the alarm says low while the status says normal
    assert (contradicted.status, contradicted.reason) == (
        ProbeStatus.CRIT,
        "UPS alarm: low battery",
    )
    hidden = judge(ups(present=2))
    assert hidden.reason == "2 UPS alarm(s) present (upsAlarmTable not exposed)"


def test_impossible_and_mistyped_values_are_unknown_with_the_raw_value() -> None:
    values = ups(charge=150)
    values["minutes_left"] = Value(Kind.OCTETS, b"lots")
    values["battery_status"] = i(9)
    out = judge(values)
    assert out.status is ProbeStatus.UNKNOWN
    assert out.reason == (
        "upsEstimatedMinutesRemaining: expected a number, got octets 'lots'; "
        "upsEstimatedChargeRemaining: impossible value 150 (raw, unknown); "
        "upsBatteryStatus: value 9 is not in UPS-MIB"
    )
    assert out.metrics["ups_charge_pct"] is None
    assert "ups_charge_pct" not in out.metrics["levels"]


def test_an_agent_without_ups_mib_is_unknown() -> None:
    absent = dict.fromkeys(ups(), Value(Kind.NO_SUCH_OBJECT))
    out = judge(absent)
    assert (out.status, out.reason) == (
        ProbeStatus.UNKNOWN,
        "UPS-MIB not exposed (no upsBatteryStatus, no upsAlarmTable)",
    )


def test_the_report_shows_one_ups_problem_as_severe_as_the_probe() -> None:
    at = dt.datetime(2026, 12, 4, tzinfo=dt.UTC)
    for values, table in (
        (ups(status=3, seconds=540, minutes=4, charge=15, source=5), alarms(2, 3)),
        (ups(charge=45), {}),
        (ups(source=5, seconds=30), {}),
        (ups(), {}),
    ):
        out = judge(values, table)
        obs = Observation("UPS-1", "S1", "snmp", out.status, out.reason, at, out.metrics)
        found = problems_of(obs, Thresholds())
        if out.status is ProbeStatus.OK:
            assert found == []
            continue
        assert [p.kind for p in found] == [ProblemKind.UPS_BATTERY]
        assert found[0].severity == Severity(out.status.value)
        assert found[0].detail == summary(out.metrics)
    assert summary(out.metrics) == "battery normal, 100% charged, 52 min left"
