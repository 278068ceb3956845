"""ONVIF probe settings: built-in defaults, ``probes/onvif.yaml`` and one check's overrides.

:data:`DEFAULTS` is overlaid with the profile file's ``defaults`` (:func:`load_profile`) and then
with a target's own settings (:meth:`OnvifSettings.from_mapping`). No device I/O here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kape_itops.config import Settings
from kape_itops.datafiles import data_folder, shipped_schema
from kape_itops.errors import ProbeError
from kape_itops.probes.onvif.evaluate import SnapshotLimits
from kape_itops.schemadoc import check_doc, config_error, validator

DEFAULTS: dict[str, Any] = {
    "onvif_port": 80,
    "rtsp_port": None,
    "timeout_s": None,
    "thresholds": {"clock_drift_s": {"warn": 5, "crit": 300}},
    "snapshot": {
        "enabled": True,
        "min_bytes": 1024,
        "max_bytes": 16777216,
        "min_width": 64,
        "min_height": 48,
    },
    "stream_check": True,
    "recording": "auto",
    "manufacturer_aliases": {
        "Hikvision": ["HIKVISION", "Hangzhou Hikvision Digital Technology"],
        "Dahua": ["Dahua Technology", "Zhejiang Dahua Technology"],
        "EZVIZ": ["Ezviz"],
        "TP-Link": ["TP-LINK", "Tapo", "VIGI"],
        "Uniview": ["UNV", "Zhejiang Uniview Technologies"],
        "Axis": ["AXIS", "Axis Communications"],
    },
}
"""Built-in settings; ``probes/onvif.yaml`` ships the same values (a test keeps them equal)."""

RUNNER_KEYS = frozenset({"port", "check_timeout_s", "lab_ports"})
"""Keys the probe engine puts into every probe's settings (``thresholds`` is in DEFAULTS)."""


@dataclass(frozen=True, slots=True)
class OnvifSettings:
    """The settings of one check, from :data:`DEFAULTS` overlaid with ``Target.settings``."""

    onvif_port: int = 80
    rtsp_port: int | None = None
    """Overrides the stream URI's port when set; None: the port the camera names."""
    timeout_s: float | None = None
    drift_warn_s: float = 5.0
    drift_crit_s: float = 300.0
    snapshot_enabled: bool = True
    snapshot: SnapshotLimits = field(default_factory=SnapshotLimits)
    stream_check: bool = True
    recording: str = "auto"
    manufacturer_aliases: Mapping[str, list[str]] = field(default_factory=dict)
    save_snapshot_dir: Path | None = None

    @classmethod
    def from_mapping(
        cls, raw: Mapping[str, Any], base: Mapping[str, Any] = DEFAULTS
    ) -> OnvifSettings:
        """Parse ``raw`` laid on ``base``; :class:`ProbeError` names the bad key."""
        merged = merge_settings(base, raw)
        known = set(DEFAULTS) | RUNNER_KEYS | {"save_snapshot_dir"}
        unknown = sorted(set(merged) - known)
        if unknown:
            raise ProbeError(f"onvif settings: unknown key(s) {', '.join(unknown)}")

        def number(key: str, value: Any, minimum: float = 0) -> float:
            if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
                raise ProbeError(
                    f"onvif settings: {key} must be a number >= {minimum:g}, not {value!r}"
                )
            return float(value)

        def port(key: str, value: Any) -> int:
            if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
                raise ProbeError(
                    f"onvif settings: {key} must be a TCP port (1-65535), not {value!r}"
                )
            return value

        snap = merged["snapshot"]
        if not isinstance(snap, Mapping):
            raise ProbeError("onvif settings: snapshot must be a mapping")
        recording = merged["recording"]
        if recording not in ("auto", True, False):
            raise ProbeError(
                f"onvif settings: recording must be auto, true or false, not {recording!r}"
            )
        timeout = merged["timeout_s"]
        thresholds = merged.get("thresholds") or {}
        drift = thresholds.get("clock_drift_s") or {} if isinstance(thresholds, Mapping) else {}
        if not isinstance(drift, Mapping):
            raise ProbeError("onvif settings: thresholds.clock_drift_s must be {warn, crit}")
        rtsp = merged["rtsp_port"]
        onvif_port = merged.get("port", merged["onvif_port"])
        save = merged.get("save_snapshot_dir")
        return cls(
            onvif_port=port("onvif_port", onvif_port),
            rtsp_port=None if rtsp is None else port("rtsp_port", rtsp),
            timeout_s=None if timeout is None else number("timeout_s", timeout, 0.01),
            drift_warn_s=number("thresholds.clock_drift_s.warn", drift.get("warn", 5)),
            drift_crit_s=number("thresholds.clock_drift_s.crit", drift.get("crit", 300)),
            snapshot_enabled=bool(snap.get("enabled", True)),
            snapshot=SnapshotLimits(
                min_bytes=int(number("snapshot.min_bytes", snap["min_bytes"])),
                max_bytes=int(number("snapshot.max_bytes", snap["max_bytes"], 1)),
                min_width=int(number("snapshot.min_width", snap["min_width"])),
                min_height=int(number("snapshot.min_height", snap["min_height"])),
            ),
            stream_check=bool(merged["stream_check"]),
            recording="auto" if recording == "auto" else ("yes" if recording else "no"),
            manufacturer_aliases={
                str(k): [str(x) for x in v] for k, v in merged["manufacturer_aliases"].items()
            },
            save_snapshot_dir=Path(save) if save else None,
        )


def merge_settings(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``over`` laid on ``base``; nested mappings are merged key by key."""
    result = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
            result[key] = merge_settings(result[key], value)
        else:
            result[key] = value
    return result


PROFILE_FILE = "onvif.yaml"
SCHEMA_FILE = "schema/onvif.schema.json"


def load_profile(path: Path) -> dict[str, Any]:
    """The ``defaults`` of an ``onvif.yaml``, validated by the schema next to it, on DEFAULTS.

    Raises :class:`ConfigError` naming the file and every problem found.
    """
    schema_path = path.parent / SCHEMA_FILE
    if not schema_path.is_file():
        schema_path = shipped_schema("probes", Path(SCHEMA_FILE).name)
    doc, issues = check_doc(path, validator(schema_path))
    if issues or doc is None:
        raise config_error("invalid ONVIF settings", issues)
    return merge_settings(DEFAULTS, doc.data["defaults"])


def default_profile_path() -> Path:
    """``probes/onvif.yaml`` of the data folder (local over shipped)."""
    return data_folder(Settings().data_dir).area("probes").file(PROFILE_FILE)
