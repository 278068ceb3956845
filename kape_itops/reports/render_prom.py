"""Latest probe results in the Prometheus text exposition format (node_exporter textfile).

Families (one sample per device and probe; labels ``asset_tag``, ``school``, ``kind``,
``probe``, ``target``)::

    itops_probe_status              0 ok, 1 warn, 2 crit, 3 unknown (the Nagios code)
    itops_probe_up                  1 unless the status is crit or unknown
    itops_probe_duration_seconds    how long the check took
    itops_probe_timestamp_seconds   when it started (Unix time)
    itops_<probe>_<metric>          each numeric metric (booleans as 0/1)

Label values are escaped as the format requires (backslash, double quote, newline); the file
is written to a temporary name and renamed, so the collector never reads half a file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from kape_itops.atomic import write_text
from kape_itops.domain.enums import SEVERITY, ProbeStatus
from kape_itops.domain.results import ProbeResult

_NAME_BAD = re.compile(r"[^a-zA-Z0-9_]")

_FIXED = (
    ("itops_probe_status", "Probe status as a Nagios code: 0 ok, 1 warn, 2 crit, 3 unknown."),
    ("itops_probe_up", "1 when the device answered the probe (status ok or warn)."),
    ("itops_probe_duration_seconds", "Duration of the probe in seconds."),
    ("itops_probe_timestamp_seconds", "Start of the probe as Unix time."),
)


@dataclass(frozen=True, slots=True)
class PromSample:
    """One result with the device labels to attach."""

    result: ProbeResult
    labels: Mapping[str, str] = field(default_factory=dict)


def escape_label(value: str) -> str:
    """A label value as the exposition format wants it."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def metric_name(*parts: str) -> str:
    """A valid metric name from parts (bad characters become ``_``)."""
    name = "_".join(_NAME_BAD.sub("_", p) for p in parts if p)
    return name if not name[:1].isdigit() else "_" + name


def _fmt(value: float) -> str:
    if value != value:  # NaN
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


def _labels(sample: PromSample) -> str:
    r = sample.result
    base = {
        "asset_tag": r.asset_tag or "",
        "probe": r.probe,
        "target": r.target,
        **sample.labels,
    }
    return ",".join(f'{k}="{escape_label(str(v))}"' for k, v in sorted(base.items()))


def render(samples: Iterable[PromSample]) -> str:
    """The exposition text: each family's HELP, TYPE and samples together."""
    families: dict[str, list[str]] = {name: [] for name, _ in _FIXED}
    helps = dict(_FIXED)
    for sample in samples:
        r = sample.result
        labels = _labels(sample)
        up = r.status in (ProbeStatus.OK, ProbeStatus.WARN)
        families["itops_probe_status"].append(f"{{{labels}}} {SEVERITY[r.status]}")
        families["itops_probe_up"].append(f"{{{labels}}} {int(up)}")
        families["itops_probe_duration_seconds"].append(
            f"{{{labels}}} {_fmt(r.duration_ms / 1000)}"
        )
        families["itops_probe_timestamp_seconds"].append(
            f"{{{labels}}} {_fmt(round(r.started_at.timestamp(), 3))}"
        )
        for key, value in sorted(r.metrics.items()):
            if not isinstance(value, int | float):  # bool is an int: 0/1
                continue
            number = float(value)
            name = metric_name("itops", r.probe, key)
            if name not in families:
                families[name] = []
                helps[name] = f"Metric '{key}' of the {r.probe} probe."
            families[name].append(f"{{{labels}}} {_fmt(number)}")
    lines: list[str] = []
    for name, rows in families.items():
        if not rows:
            continue
        lines.append(f"# HELP {name} {helps[name]}")
        lines.append(f"# TYPE {name} gauge")
        lines.extend(name + row for row in rows)
    return "\n".join(lines) + "\n" if lines else ""


def write(path: Path, samples: Iterable[PromSample]) -> None:
    """Write the exposition text to ``path`` atomically; its folder must exist."""
    write_text(path, render(samples), perms=0o644)
