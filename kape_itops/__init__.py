"""kape-itops: IT asset and network operations toolkit for school networks.

The Python API behind the ``itops`` command line. Names load lazily, so importing the package
does not pull in the protocol libraries::

    from kape_itops import Store, Inventory, import_inventory

    store = Store("sqlite:///itops.db")
    store.upgrade()
    import_inventory(store, Path("inventory"), actor="dara")
    for device in Inventory(store, "dara").devices():
        ...
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_API = {
    "Settings": "kape_itops.config",
    "SecretStore": "kape_itops.secrets",
    "Store": "kape_itops.store.db",
    "Inventory": "kape_itops.inventory.service",
    "import_inventory": "kape_itops.inventory.importer",
    "export_inventory": "kape_itops.inventory.exporter",
    "write_labels": "kape_itops.inventory.labels",
    "ProbeService": "kape_itops.probes.service",
    "RunRequest": "kape_itops.probes.service",
    "run_rounds": "kape_itops.probes.service",
    "PingProbe": "kape_itops.probes.icmp.probe",
    "SnmpProbe": "kape_itops.probes.snmp.probe",
    "OnvifProbe": "kape_itops.probes.onvif.probe",
    "SshProbe": "kape_itops.probes.ssh.probe",
    "BackupService": "kape_itops.backups.service",
    "evaluate": "kape_itops.quotes.evaluate",
    "load_spec": "kape_itops.quotes.spec",
    "read_quotation": "kape_itops.quotes.readers",
    "build_report": "kape_itops.reports.build",
    "resolve_period": "kape_itops.reports.model",
    "write_html": "kape_itops.reports.render_html",
}

__all__ = ["__version__", *sorted(_API)]


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'kape_itops' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
