"""The table of SNMP checks: a profile's ``checks:`` names rows of :data:`CHECKS`.

Each check is one small pure module (see :class:`~.base.CheckModule`): the profile sections it
``NEEDS``, the metrics reports read (``KEPT``), what it asks the agent (``ask``) and how it
judges the answer (``judge``). Adding a check is adding a module here, its OID section to
``probes/schema/snmp.schema.json`` (whose ``checks`` enum is this table) and to a profile.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from kape_itops.probes.snmp.checks import (
    clients,
    cpu,
    devices,
    interfaces,
    printer,
    storage,
    system,
    ups,
)
from kape_itops.probes.snmp.checks.base import CheckModule

__all__ = ["CHECKS", "FIRST", "SECTIONS"]

CHECKS: Mapping[str, CheckModule] = MappingProxyType(
    {
        "system": system,
        "interfaces": interfaces,
        "printer": printer,
        "storage": storage,
        "devices": devices,
        "cpu": cpu,
        "clients": clients,
        "ups": ups,
    }
)
"""Check name -> module, in the order the probe judges them (the order of a result's findings)."""

FIRST = "system"
"""Always judged first, whatever the profile lists: the others may ask by what it found
(the clients check picks the vendor by sysObjectID)."""

SECTIONS: frozenset[str] = frozenset(s for check in CHECKS.values() for s in check.NEEDS)
"""Every profile section some check reads."""
