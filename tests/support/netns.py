"""Namespace lab fixtures for functional tests (root only): the package's builder, test ranges.

Test traffic goes only to 198.18.0.0/15 (RFC 2544 benchmarking space) addresses that live in a
namespace the test created; ranges already routed on this machine are never used.
"""

from __future__ import annotations

import ipaddress
import itertools
import os
from collections.abc import Iterator

import pytest

from kape_itops.lab.netns import NetnsLab, netns_available, routes_overlapping

_counter = itertools.count()
TEST_SPACE = ipaddress.IPv4Network("198.18.0.0/16")
LINK_SPACE = ipaddress.IPv4Network("198.19.0.0/16")


def free_prefix(space: ipaddress.IPv4Network, prefixlen: int, taken: set[str]) -> str:
    """A subnet of ``space`` that no route of this machine overlaps (start varies by PID)."""
    subnets = list(space.subnets(new_prefix=prefixlen))
    start = (os.getpid() * 7 + next(_counter) * 13) % len(subnets)
    for i in range(len(subnets)):
        net = str(subnets[(start + i) % len(subnets)])
        if net not in taken and not routes_overlapping(net):
            taken.add(net)
            return net
    raise RuntimeError(f"no free /{prefixlen} left in {space}")


def require_netns() -> None:
    """Skip (with the reason) where namespaces cannot be built, e.g. not root."""
    reason = netns_available()
    if reason:
        pytest.skip(f"needs Linux network namespaces: {reason}")


def new_lab() -> NetnsLab:
    """A lab whose namespaces are named itops-t<pid>-<n>-<segment>."""
    return NetnsLab(f"itops-t{os.getpid()}-{next(_counter)}")


@pytest.fixture
def netns_lab() -> Iterator[NetnsLab]:
    """A namespace lab removed afterwards (responders by PID, namespaces by name)."""
    require_netns()
    lab = new_lab()
    try:
        yield lab
    finally:
        lab.close()
