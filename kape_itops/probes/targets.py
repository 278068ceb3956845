"""Turn what the user typed (IPs, CIDRs, host names, asset tags) into probe targets.

Bad input raises :class:`kape_itops.errors.UsageError` with a message naming the argument:
unknown targets, malformed CIDRs, sweeps larger than a /16 without ``force``, DNS failures.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from kape_itops.domain.inventory import Device
from kape_itops.errors import UsageError
from kape_itops.probes.addressmap import AddressMap

MAX_SWEEP = 65_536
"""Addresses one argument may expand to without ``force`` (a /16)."""
HARD_LIMIT = 1 << 24
"""Addresses one argument may expand to even with ``force`` (a /8)."""

DeviceLookup = Callable[[str], Device | None]
Resolver = Callable[[str], list[str]]


@dataclass(frozen=True, slots=True)
class TargetSpec:
    """One address to probe and where it came from."""

    address: str
    source: str
    """The argument that produced it (an IP, CIDR, host name or asset tag)."""
    device: Device | None = None

    @property
    def label(self) -> str:
        """Asset tag, host name, or the address."""
        if self.device is not None:
            return self.device.asset_tag
        return self.address if self.source == self.address or "/" in self.source else self.source


def system_resolver(name: str) -> list[str]:
    """Addresses of ``name`` (IPv4 first); UsageError when DNS gives none."""
    try:
        infos = socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        reason = exc.strerror if isinstance(exc, socket.gaierror) else str(exc)
        raise UsageError(f"cannot resolve host name '{name}': {reason}") from exc
    found: list[str] = []
    for family, *_rest, sockaddr in sorted(infos, key=lambda i: i[0] != socket.AF_INET):
        addr = str(sockaddr[0])
        if family in (socket.AF_INET, socket.AF_INET6) and addr not in found:
            found.append(addr)
    if not found:
        raise UsageError(f"cannot resolve host name '{name}': no IPv4 or IPv6 address")
    return found


def expand_network(text: str, force: bool = False) -> Iterator[str]:
    """The host addresses of a CIDR argument; refuses more than a /16 unless ``force``."""
    try:
        net = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError as exc:
        raise UsageError(f"bad CIDR '{text}': {exc}") from exc
    size = net.num_addresses
    if size > HARD_LIMIT:
        raise UsageError(
            f"refusing to sweep {net} ({size:,} addresses): more than {HARD_LIMIT:,} addresses"
        )
    if size > MAX_SWEEP and not force:
        raise UsageError(
            f"refusing to sweep {net} ({size:,} addresses, larger than a /16) without --force"
        )
    if size <= 2:
        yield from (str(a) for a in net)
    else:
        yield from (str(a) for a in net.hosts())


def _is_ip(text: str) -> str | None:
    try:
        return ipaddress.ip_address(text.split("%", 1)[0]).compressed + (
            "%" + text.split("%", 1)[1] if "%" in text else ""
        )
    except ValueError:
        return None


def resolve_targets(
    args: Iterable[str],
    lookup: DeviceLookup | None = None,
    resolver: Resolver = system_resolver,
    force: bool = False,
) -> list[TargetSpec]:
    """Targets for every argument, in order, each address once.

    Order of interpretation: IP address, CIDR, asset tag (when ``lookup`` is given), host name.
    """
    out: list[TargetSpec] = []
    seen: set[str] = set()

    def add(spec: TargetSpec) -> None:
        if spec.address not in seen:
            seen.add(spec.address)
            out.append(spec)

    for raw in args:
        text = raw.strip()
        if not text:
            raise UsageError("empty target argument")
        if (ip := _is_ip(text)) is not None:
            add(TargetSpec(ip, text))
            continue
        device = lookup(text) if lookup is not None else None
        if device is not None:
            if not device.ip:
                raise UsageError(f"device '{device.asset_tag}' has no IP address in the inventory")
            add(TargetSpec(device.ip, text, device))
            continue
        if "/" in text:
            for addr in expand_network(text, force):
                add(TargetSpec(addr, text))
            continue
        if not _looks_like_hostname(text):
            what = "IP address, CIDR, asset tag or host name"
            raise UsageError(f"unknown target '{text}': not an {what}")
        try:
            addresses = resolver(text)
        except UsageError as exc:
            hint = "" if lookup is None else " (and no device has this asset tag)"
            raise UsageError(f"unknown target '{text}': {exc}{hint}") from exc
        add(TargetSpec(addresses[0], text))
    return out


def _looks_like_hostname(text: str) -> bool:
    if len(text) > 253:
        return False
    return all(
        0 < len(label) <= 63 and label.replace("-", "").replace("_", "").isalnum()
        for label in text.rstrip(".").split(".")
    )


def lab_address(spec: TargetSpec, amap: AddressMap | None) -> tuple[str | None, dict[str, int]]:
    """Where ``spec`` answers: itself without a lab map; the mapped address (None if unmapped)."""
    if amap is None:
        return spec.address, {}
    mapped = amap.lookup(spec.address)
    if mapped is None:
        return None, {}
    return mapped.address, dict(mapped.ports)
