"""Prometheus textfile output: families grouped, labels escaped, numeric metrics only."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from kape_itops.domain.enums import ProbeStatus
from kape_itops.domain.results import ProbeResult
from kape_itops.errors import OutputError
from kape_itops.reports.render_prom import PromSample, escape_label, metric_name, render, write

AT = dt.datetime(2026, 11, 1, 12, 0, 0, tzinfo=dt.UTC)


def res(tag: str, probe: str, status: ProbeStatus, **metrics: object) -> ProbeResult:
    return ProbeResult(probe, "10.30.1.20", status, "r", AT, 1500.0, metrics, asset_tag=tag)


def test_label_values_are_escaped() -> None:
    assert escape_label('a"b\\c\nd') == 'a\\"b\\\\c\\nd'
    text = render([PromSample(res('KAPE-"1"', "ping", ProbeStatus.OK), {"school": "S\\1\nx"})])
    assert 'asset_tag="KAPE-\\"1\\""' in text
    assert 'school="S\\\\1\\nx"' in text
    assert all(line.count("\n") == 0 for line in text.splitlines())


def test_families_are_grouped_with_help_and_type() -> None:
    samples = [
        PromSample(res("A", "ping", ProbeStatus.OK, rtt_avg_ms=1.5, loss_pct=0, sys_name="x")),
        PromSample(res("B", "ping", ProbeStatus.CRIT, rtt_avg_ms=None, loss_pct=100)),
        PromSample(res("C", "snmp", ProbeStatus.WARN, rebooted=True, uptime_s=12)),
    ]
    lines = render(samples).splitlines()
    names = [line.split("{")[0] for line in lines if not line.startswith("#")]
    # each family's samples are contiguous and announced once
    seen: list[str] = []
    for n in names:
        if not seen or seen[-1] != n:
            assert n not in seen
            seen.append(n)
    for n in seen:
        assert f"# TYPE {n} gauge" in lines
        assert sum(1 for line in lines if line.startswith(f"# HELP {n} ")) == 1
    body = "\n".join(lines)
    assert 'itops_probe_status{asset_tag="B",probe="ping",target="10.30.1.20"} 2' in body
    assert 'itops_probe_up{asset_tag="C",probe="snmp",target="10.30.1.20"} 1' in body
    assert 'itops_probe_up{asset_tag="B",probe="ping",target="10.30.1.20"} 0' in body
    assert (
        'itops_probe_duration_seconds{asset_tag="A",probe="ping",target="10.30.1.20"} 1.5' in body
    )
    assert (
        f'itops_probe_timestamp_seconds{{asset_tag="A",probe="ping",target="10.30.1.20"}} {int(AT.timestamp())}'
        in body
    )
    assert 'itops_ping_rtt_avg_ms{asset_tag="A",probe="ping",target="10.30.1.20"} 1.5' in body
    assert 'itops_ping_loss_pct{asset_tag="B",probe="ping",target="10.30.1.20"} 100' in body
    assert 'itops_snmp_rebooted{asset_tag="C",probe="snmp",target="10.30.1.20"} 1' in body
    assert 'rtt_avg_ms{asset_tag="B"' not in body
    assert "sys_name" not in body


def test_metric_names_are_sanitised() -> None:
    assert metric_name("itops", "ping", "rtt-avg ms") == "itops_ping_rtt_avg_ms"
    assert metric_name("9x") == "_9x"


def test_write_is_atomic_and_empty_input_gives_empty_file(tmp_path: Path) -> None:
    out = tmp_path / "textfile" / "itops.prom"
    with pytest.raises(OutputError, match=r"folder .*textfile does not exist"):
        write(out, [])
    out.parent.mkdir()
    write(out, [PromSample(res("A", "ping", ProbeStatus.OK))])
    assert out.read_text().startswith("# HELP itops_probe_status")
    assert [p.name for p in out.parent.iterdir()] == ["itops.prom"]
    write(out, [])
    assert out.read_text() == ""
