"""Target parsing: IPs, CIDRs, host names, asset tags, and every refusal's message."""

from __future__ import annotations

import pytest

from kape_itops.domain.enums import DeviceKind
from kape_itops.domain.inventory import Device
from kape_itops.errors import UsageError
from kape_itops.probes.targets import expand_network, resolve_targets

DEV = Device("KPT-PSP-PRN-01", DeviceKind.PRINTER, "KPT-PSP", ip="10.30.1.20")
NOIP = Device("KPT-PSP-LAP-01", DeviceKind.LAPTOP, "KPT-PSP")


def lookup(tag: str) -> Device | None:
    return {d.asset_tag: d for d in (DEV, NOIP)}.get(tag)


def resolver(name: str) -> list[str]:
    if name == "printer.school.example":
        return ["127.0.0.9"]
    raise UsageError(f"cannot resolve host name '{name}': Name or service not known")


def test_ips_cidrs_tags_names_in_order_without_duplicates() -> None:
    specs = resolve_targets(
        ["127.0.0.1", "127.0.0.0/30", "KPT-PSP-PRN-01", "printer.school.example", "::1"],
        lookup=lookup,
        resolver=resolver,
    )
    assert [s.address for s in specs] == [
        "127.0.0.1",
        "127.0.0.2",
        "10.30.1.20",
        "127.0.0.9",
        "::1",
    ]
    assert specs[2].device == DEV and specs[2].label == "KPT-PSP-PRN-01"
    assert specs[3].label == "printer.school.example"


def test_small_networks() -> None:
    assert list(expand_network("127.0.0.5/32")) == ["127.0.0.5"]
    assert list(expand_network("127.0.0.4/31")) == ["127.0.0.4", "127.0.0.5"]


@pytest.mark.parametrize(
    ("arg", "message"),
    [
        (
            "10.0.0.0/8",
            "refusing to sweep 10.0.0.0/8 (16,777,216 addresses, larger than a /16) without --force",
        ),
        ("10.0.0.0/15", "larger than a /16) without --force"),
        ("10.0.0.300/24", "bad CIDR '10.0.0.300/24'"),
        ("10.0.0.0/33", "bad CIDR '10.0.0.0/33'"),
        ("nope.invalid", "unknown target 'nope.invalid': cannot resolve host name 'nope.invalid'"),
        ("bad!name", "unknown target 'bad!name': not an IP address, CIDR, asset tag or host name"),
        ("KPT-PSP-LAP-01", "device 'KPT-PSP-LAP-01' has no IP address in the inventory"),
        ("  ", "empty target argument"),
        ("0.0.0.0/7", "more than 16,777,216 addresses"),
    ],
)
def test_refusals(arg: str, message: str) -> None:
    with pytest.raises(UsageError) as err:
        resolve_targets([arg], lookup=lookup, resolver=resolver)
    assert message in str(err.value)


def test_force_allows_a_slash_15() -> None:
    specs = resolve_targets(["10.0.0.0/15"], force=True)
    assert len(specs) == 2**17 - 2
