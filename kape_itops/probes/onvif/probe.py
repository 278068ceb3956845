"""The ONVIF camera/NVR probe: a layered check that stops at the first failing layer.

1. reachability: TCP connect to the ONVIF service port (the target's port, else ``onvif_port``);
2. clock: GetSystemDateAndTime without credentials (with them when the device insists, else the
   HTTP ``Date`` header) → clock drift, its own finding (warn > 5 s, crit > 300 s);
3. device information: GetDeviceInformation signed with the camera's clock offset, compared with
   the inventory (a swapped camera is flagged);
4. media profiles: GetServices/GetCapabilities, GetProfiles, GetStreamUri for the main profile;
5. snapshot and stream: GetSnapshotUri + an authenticated GET that must return a real JPEG, and
   RTSP OPTIONS/DESCRIBE at the port the stream URI names (``rtsp_port``, when set, overrides it:
   a port-forward the camera does not know about);
6. recording (NVRs): the ONVIF Recording service's recordings and job states.

Metrics: ``layer`` (the last layer passed), ``failed_layer`` and ``layer_name`` when one failed,
``clock_drift_s``, ``clock_source``, ``manufacturer``, ``model``, ``firmware``, ``serial``,
``profiles``, ``stream_uri``, ``rtsp_port`` (the port the stream check used), ``recording``,
``layer_ms`` (time spent per layer) and a few details. What the layers before a failing one
learned stays in the metrics and is named in the reason. Snapshots are only written
when the ``save_snapshot_dir`` setting is given (the CLI's ``--save-snapshot DIR``).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kape_itops.domain.enums import ProbeStatus
from kape_itops.domain.results import ProbeResult
from kape_itops.errors import SecretsError
from kape_itops.probes.base import ProbeContext, Target, worst
from kape_itops.probes.onvif.client import HttpSession, http_session, preload_wsdl
from kape_itops.probes.onvif.evaluate import LAYERS
from kape_itops.probes.onvif.layers import CameraCheck, LayerFailed
from kape_itops.probes.onvif.settings import (
    DEFAULTS,
    OnvifSettings,
    default_profile_path,
    load_profile,
)

PROTOCOL = "onvif"


def _learned(m: Mapping[str, Any]) -> list[str]:
    """What the layers found out, in words: identity, profiles, snapshot, stream."""
    parts = []
    ident = " ".join(str(m[k]) for k in ("manufacturer", "model") if m.get(k))
    if ident:
        parts.append(ident + (f" fw {m['firmware']}" if m.get("firmware") else ""))
    if "profiles" in m:
        parts.append(f"{m['profiles']} profile(s)")
    if "snapshot_size" in m:
        parts.append(f"JPEG {m['snapshot_size']}")
    if m.get("rtsp_status") == 200:
        parts.append("RTSP answers")
    return parts


def _summary(check: CameraCheck) -> str:
    return ", ".join([f"layers 1-{check.metrics['layer']} passed", *_learned(check.metrics)])


class OnvifProbe:
    """ONVIF camera and NVR health (see the module docstring for the layers)."""

    name = PROTOCOL

    def __init__(self, profile: Path | None = None) -> None:
        self._ctx = ProbeContext()
        self._http: HttpSession | None = None
        self._profile_path = profile
        self._base: Mapping[str, Any] = DEFAULTS

    async def start(self, ctx: ProbeContext) -> None:
        """Load ``probes/onvif.yaml`` (when present), parse the WSDLs, open the snapshot session."""
        self._ctx = ctx
        path = self._profile_path or default_profile_path()
        if self._profile_path is not None or path.is_file():
            self._base = load_profile(path)
        await preload_wsdl()
        self._http = http_session(shared=True)

    async def stop(self) -> None:
        """Close the snapshot session."""
        if self._http is not None:
            await self._http.close()
            self._http = None

    def _credentials(self, target: Target) -> tuple[str | None, str | None, str | None]:
        name = target.credential
        if not name:
            return (
                None,
                None,
                "no ONVIF credential configured for this device (secrets file [NAME.onvif])",
            )
        try:
            cred = self._ctx.secrets.credential(name, PROTOCOL)
        except SecretsError as exc:
            return None, None, str(exc)
        user = cred.get("username") or cred.get("user")
        secret = cred.secret("password")
        if not user or secret is None:
            return None, None, f"credential '{name}' needs username and password in [{name}.onvif]"
        return user, secret.reveal(), None

    async def check(self, target: Target) -> ProbeResult:
        """Run the layers on one target; never raises for the device's fault."""
        settings = OnvifSettings.from_mapping(target.settings, self._base)
        started = dt.datetime.now(dt.UTC)
        t0 = time.perf_counter()
        own_session = self._http is None
        http = self._http or http_session(shared=False)
        user, password, problem = self._credentials(target)
        check = CameraCheck(
            target=target,
            settings=settings,
            timeout_s=settings.timeout_s or self._ctx.timeout_s,
            http=http,
            username=user,
            password=password,
            credential_problem=problem,
        )
        failure: LayerFailed | None = None
        try:
            await check.run()
        except LayerFailed as exc:
            failure = exc
        finally:
            if check.client is not None:
                await check.client.close()
            if own_session:
                await http.close()
        metrics = dict(check.metrics)
        metrics["layer_ms"] = check.layer_ms
        notes = [f.message for f in check.findings if f.status != ProbeStatus.OK]
        statuses = [f.status for f in check.findings]
        if failure is not None:
            metrics["failed_layer"] = failure.layer
            metrics["layer_name"] = LAYERS[failure.layer]
            statuses.append(failure.status)
            reason = f"layer {failure.layer} ({LAYERS[failure.layer]}) failed: {failure.message}"
            learned = _learned(check.metrics)
            if learned:
                reason += f" (learned: {', '.join(learned)})"
        else:
            metrics["layer_name"] = LAYERS[check.metrics["layer"]]
            reason = _summary(check)
            notes += [
                f.message
                for f in check.findings
                if f.status == ProbeStatus.OK and "drift" not in f.message
            ]
        if notes:
            reason += "; " + "; ".join(notes)
        return ProbeResult(
            probe=PROTOCOL,
            target=target.label,
            status=worst(statuses),
            reason=reason,
            started_at=started,
            duration_ms=round((time.perf_counter() - t0) * 1000, 2),
            metrics=metrics,
            method="onvif",
            asset_tag=target.device.asset_tag if target.device else None,
        )
