"""The ping probe's TCP-connect fallback: a connect that succeeds or is refused proves the host up.

Used when no ICMP socket is allowed (no root, ``ping_group_range`` closed). The ports come from
the kind profile's ``tcp_ports``, else :data:`TCP_PORTS`; the lab's ``lab_ports`` redirect them.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import time
from collections.abc import Sequence

from kape_itops.domain.enums import DeviceKind
from kape_itops.probes.base import Target
from kape_itops.probes.icmp.client import EchoOutcome

TCP_PORTS: dict[DeviceKind | None, tuple[int, ...]] = {
    DeviceKind.PRINTER: (9100, 631, 80, 443),
    DeviceKind.CAMERA: (80, 554, 443, 8000),
    DeviceKind.NVR: (80, 554, 443, 8000),
    DeviceKind.ROUTER: (22, 80, 443, 8291, 23),
    DeviceKind.SWITCH: (22, 80, 443, 23),
    DeviceKind.HOTSPOT: (22, 80, 443, 8080),
    DeviceKind.DESKTOP: (445, 3389, 22, 135),
    DeviceKind.LAPTOP: (445, 3389, 22, 135),
    None: (80, 443, 22, 445, 3389, 161),
}
"""Ports tried by the TCP-connect fallback; a refusal (RST) proves the host is up too."""


def tcp_ports(target: Target) -> tuple[int, ...]:
    """The fallback's port list: settings ``tcp_ports``, else the kind's default; lab-mapped."""
    configured = target.settings.get("tcp_ports")
    if configured:
        ports = tuple(int(p) for p in configured)
    else:
        kind = target.device.kind if target.device is not None else None
        ports = TCP_PORTS.get(kind, TCP_PORTS[None])
    lab = target.settings.get("lab_ports") or {}
    return tuple(int(lab.get(str(p), p)) for p in ports)


async def tcp_echo(address: str, ports: Sequence[int], timeout: float) -> EchoOutcome:
    """One TCP-connect 'echo': the first port that accepts or refuses gives the RTT."""
    start = time.perf_counter()
    errors: list[str] = []

    async def one(port: int) -> float:
        t0 = time.perf_counter()
        try:
            _reader, writer = await asyncio.open_connection(address.split("%", 1)[0], port)
        except ConnectionRefusedError:
            return (time.perf_counter() - t0) * 1000
        except OSError as exc:
            if exc.errno in (errno.ECONNRESET,):
                return (time.perf_counter() - t0) * 1000
            errors.append(exc.strerror or str(exc))
            raise
        rtt = (time.perf_counter() - t0) * 1000
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return rtt

    tasks = [asyncio.ensure_future(one(p)) for p in ports]
    try:
        for fut in asyncio.as_completed(tasks, timeout=timeout):
            try:
                return EchoOutcome(await fut)
            except TimeoutError:
                late = _first_answer(tasks)  # answered in time, but the loop was busy
                if late is not None:
                    return EchoOutcome(late)
                break
            except OSError:
                continue
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    waited = time.perf_counter() - start
    reason = errors[0] if errors and waited < timeout else "timeout"
    return EchoOutcome(None, reason)


def _first_answer(tasks: Sequence[asyncio.Future[float]]) -> float | None:
    """The RTT of a connect that already finished (accepted or refused), if any."""
    for t in tasks:
        if t.done() and not t.cancelled() and t.exception() is None:
            return t.result()
    return None
