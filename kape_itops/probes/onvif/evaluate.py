"""Pure evaluation for the ONVIF probe: clock drift, inventory identity, JPEG and recording checks.

No I/O here: the probe hands in what the device answered and gets findings back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kape_itops.domain.enums import ProbeStatus
from kape_itops.domain.inventory import Device
from kape_itops.probes.base import worst

LAYERS: dict[int, str] = {
    1: "reachability",
    2: "clock",
    3: "device information",
    4: "media profiles",
    5: "snapshot and stream",
    6: "recording",
}
"""The layers of the camera check, in the order they run."""

DRIFT_WARN_S = 5.0
DRIFT_CRIT_S = 300.0
"""Clock drift thresholds: WS-Security UsernameToken checks start failing around 300 s."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One observation with its severity; a layer may pass and still carry findings."""

    status: ProbeStatus
    message: str


@dataclass(frozen=True, slots=True)
class Identity:
    """What GetDeviceInformation reported."""

    manufacturer: str | None = None
    model: str | None = None
    firmware: str | None = None
    serial: str | None = None
    hardware_id: str | None = None


@dataclass(frozen=True, slots=True)
class JpegInfo:
    """The outcome of inspecting a snapshot body."""

    ok: bool
    reason: str
    size: int
    width: int | None = None
    height: int | None = None
    components: int | None = None


@dataclass(frozen=True, slots=True)
class SnapshotLimits:
    """What a snapshot must be to prove the sensor produces images."""

    min_bytes: int = 1024
    max_bytes: int = 16 * 1024 * 1024
    min_width: int = 64
    min_height: int = 48


@dataclass(frozen=True, slots=True)
class MediaProfile:
    """One media profile, reduced to what the check needs."""

    token: str
    name: str | None = None
    encoding: str | None = None
    width: int | None = None
    height: int | None = None

    @property
    def pixels(self) -> int:
        """Resolution as a pixel count (0 when unknown)."""
        return (self.width or 0) * (self.height or 0)


@dataclass(frozen=True, slots=True)
class RecordingState:
    """What the Recording service reported."""

    recordings: int
    jobs: int
    active_jobs: int
    job_states: tuple[str, ...] = field(default_factory=tuple)


def drift_finding(
    drift_s: float, warn_s: float = DRIFT_WARN_S, crit_s: float = DRIFT_CRIT_S
) -> Finding:
    """Judge the camera clock's offset from ours (camera minus local, in seconds)."""
    shown = f"{drift_s:+.1f} s"
    size = abs(drift_s)
    if size > crit_s:
        return Finding(
            ProbeStatus.CRIT,
            f"clock drift {shown} (over {crit_s:g} s: WS-Security logins fail without "
            "compensation; fix NTP on the camera)",
        )
    if size > warn_s:
        return Finding(ProbeStatus.WARN, f"clock drift {shown} (over {warn_s:g} s)")
    return Finding(ProbeStatus.OK, f"clock drift {shown}")


_SPACES = re.compile(r"[\s_\-]+")


def normalise_name(value: str | None) -> str:
    """Case, space, dash and underscore-insensitive form used for comparisons."""
    return _SPACES.sub(" ", (value or "").strip().casefold()).strip()


def _canonical_vendor(value: str | None, aliases: Mapping[str, Sequence[str]]) -> str:
    norm = normalise_name(value)
    for canonical, names in aliases.items():
        if norm in {normalise_name(canonical), *(normalise_name(n) for n in names)}:
            return normalise_name(canonical)
    return norm


def _same(expected: str, actual: str) -> bool:
    return expected == actual or (
        bool(expected) and bool(actual) and (expected in actual or actual in expected)
    )


def compare_identity(
    device: Device | None,
    found: Identity,
    aliases: Mapping[str, Sequence[str]] | None = None,
) -> list[Finding]:
    """Compare what the device says it is with the inventory record.

    A different serial number means another unit sits where the inventory expects this one (a
    swapped or replaced camera): critical. A different manufacturer or model is a warning
    (often only a naming difference). Fields missing on either side are not compared.
    """
    if device is None:
        return []
    vendors = aliases or {}
    findings: list[Finding] = []
    if (
        device.serial
        and found.serial
        and normalise_name(device.serial) != normalise_name(found.serial)
    ):
        findings.append(
            Finding(
                ProbeStatus.CRIT,
                f"serial mismatch: inventory {device.serial!r}, device {found.serial!r} "
                "(swapped or replaced camera?)",
            )
        )
    if device.manufacturer and found.manufacturer:
        expected = _canonical_vendor(device.manufacturer, vendors)
        actual = _canonical_vendor(found.manufacturer, vendors)
        if not _same(expected, actual):
            findings.append(
                Finding(
                    ProbeStatus.WARN,
                    f"manufacturer mismatch: inventory {device.manufacturer!r}, "
                    f"device {found.manufacturer!r}",
                )
            )
    if (
        device.model
        and found.model
        and not _same(normalise_name(device.model), normalise_name(found.model))
    ):
        findings.append(
            Finding(
                ProbeStatus.WARN,
                f"model mismatch: inventory {device.model!r}, device {found.model!r}",
            )
        )
    return findings


def firmware_change(previous: Mapping[str, Any] | None, firmware: str | None) -> Finding | None:
    """An informational finding when the firmware differs from the last stored result."""
    if not previous or not firmware:
        return None
    before = previous.get("firmware")
    if isinstance(before, str) and before and before != firmware:
        return Finding(ProbeStatus.OK, f"firmware changed from {before!r} to {firmware!r}")
    return None


def choose_main_profile(profiles: Sequence[MediaProfile]) -> MediaProfile | None:
    """The main stream: the highest resolution, the device's first profile on ties."""
    if not profiles:
        return None
    best = profiles[0]
    for profile in profiles[1:]:
        if profile.pixels > best.pixels:
            best = profile
    return best


_SOF_MARKERS = frozenset(
    {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
)
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})


def _describe_start(data: bytes) -> str:
    head = data[:16]
    if head.lstrip().startswith((b"<", b"{")):
        return "it looks like text/HTML"
    if head.startswith(b"\x89PNG"):
        return "it is a PNG"
    if head.startswith(b"GIF8"):
        return "it is a GIF"
    return "it starts with " + (head[:4].hex(" ") or "nothing")


def inspect_jpeg(data: bytes, limits: SnapshotLimits | None = None) -> JpegInfo:
    """Check that ``data`` is a real JPEG: SOI magic, a frame header with sane dimensions, EOI.

    Dimensions come from the SOFn marker segment; the walk stops at start-of-scan.
    """
    lim = limits or SnapshotLimits()
    size = len(data)
    if size == 0:
        return JpegInfo(False, "snapshot is empty", 0)
    if not data.startswith(b"\xff\xd8\xff"):
        return JpegInfo(False, f"snapshot is not a JPEG ({_describe_start(data)})", size)
    if size > lim.max_bytes:
        return JpegInfo(False, f"snapshot is {size} bytes, over the {lim.max_bytes} limit", size)
    width = height = components = None
    pos = 2
    while pos + 4 <= size:
        if data[pos] != 0xFF:
            return JpegInfo(False, f"corrupt JPEG: no marker at byte {pos}", size)
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker in _STANDALONE:
            pos += 2
            continue
        if marker == 0xD9:
            break
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if length < 2 or pos + 2 + length > size:
            return JpegInfo(False, f"corrupt JPEG: segment at byte {pos} overruns the data", size)
        if marker in _SOF_MARKERS:
            if length < 8:
                return JpegInfo(False, "corrupt JPEG: short frame header", size)
            height = int.from_bytes(data[pos + 5 : pos + 7], "big")
            width = int.from_bytes(data[pos + 7 : pos + 9], "big")
            components = data[pos + 9]
        if marker == 0xDA:
            break
        pos += 2 + length
    if width is None or height is None:
        return JpegInfo(False, "corrupt JPEG: no frame header (SOF) before the image data", size)
    if not data.rstrip(b"\x00").endswith(b"\xff\xd9"):
        return JpegInfo(False, "truncated JPEG: no end-of-image marker", size, width, height)
    if width < lim.min_width or height < lim.min_height:
        return JpegInfo(
            False,
            f"JPEG is {width}x{height}, below the {lim.min_width}x{lim.min_height} minimum",
            size,
            width,
            height,
            components,
        )
    if size < lim.min_bytes:
        return JpegInfo(
            False,
            f"JPEG is only {size} bytes (minimum {lim.min_bytes}): likely a blank frame",
            size,
            width,
            height,
            components,
        )
    return JpegInfo(True, f"JPEG {width}x{height}, {size} bytes", size, width, height, components)


def recording_finding(state: RecordingState) -> Finding:
    """Whether an NVR is recording: at least one active recording job."""
    if state.recordings == 0:
        return Finding(ProbeStatus.CRIT, "NVR has no recordings configured")
    if state.jobs == 0:
        return Finding(
            ProbeStatus.CRIT, f"NVR has {state.recordings} recording(s) but no recording job"
        )
    errors = [s for s in state.job_states if s.casefold() == "error"]
    if errors:
        return Finding(ProbeStatus.CRIT, f"{len(errors)} of {state.jobs} recording job(s) in error")
    if state.active_jobs == 0:
        return Finding(ProbeStatus.CRIT, f"NVR is not recording: all {state.jobs} job(s) idle")
    return Finding(
        ProbeStatus.OK,
        f"recording: {state.active_jobs} of {state.jobs} job(s) active, {state.recordings} recording(s)",
    )


def overall(findings: Iterable[Finding]) -> ProbeStatus:
    """The worst status among findings (ok when there are none)."""
    return worst([f.status for f in findings])


def strip_userinfo(uri: str) -> str:
    """A URI without ``user:password@`` (never show credentials a device embeds in URIs)."""
    return re.sub(r"^([a-zA-Z][a-zA-Z0-9+.\-]*://)[^/@]*@", r"\1", uri)
