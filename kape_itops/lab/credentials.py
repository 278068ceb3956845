"""The lab's own secrets file and known-hosts file, so probes can log in to its simulators.

The simulators use published lab logins (not secrets of any real device). ``itops lab up``
writes them, mode 0600, under the credential names the simulated inventory references, so
``itops --secrets .itops-lab/secrets.toml probe run --lab`` works without editing anything.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from kape_itops.atomic import write_text
from kape_itops.lab.onvif_sim import DEFAULT_PASSWORD as ONVIF_PASSWORD
from kape_itops.lab.onvif_sim import DEFAULT_USER as ONVIF_USER
from kape_itops.lab.ssh_sim import LAB_ENABLE_SECRET, LAB_PASSWORD, LAB_USERNAME

SECRETS_FILE = "secrets.toml"
KNOWN_HOSTS_FILE = "known_hosts"
SNMP_COMMUNITY_ENV = "ITOPS_LAB_SNMP_COMMUNITY"


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def lab_secrets_text(names: Iterable[str]) -> str:
    """TOML with SNMP, SSH and ONVIF parts for every credential name (plus ``lab``)."""
    community = os.environ.get(SNMP_COMMUNITY_ENV) or "public"
    lines = ["# Written by `itops lab up`: logins of the simulated devices only.", ""]
    for name in sorted({*names, "lab"}):
        key = name if name.replace("-", "").replace("_", "").isalnum() else _toml_str(name)
        lines += [
            f"[{key}.snmp]",
            'version = "2c"',
            f"community = {_toml_str(community)}",
            "",
            f"[{key}.ssh]",
            f"username = {_toml_str(LAB_USERNAME)}",
            f"password = {_toml_str(LAB_PASSWORD)}",
            f"secret = {_toml_str(LAB_ENABLE_SECRET)}",
            "",
            f"[{key}.onvif]",
            f"username = {_toml_str(ONVIF_USER)}",
            f"password = {_toml_str(ONVIF_PASSWORD)}",
            "",
        ]
    return "\n".join(lines)


def write_lab_secrets(workdir: Path, names: Iterable[str]) -> Path:
    """Write the lab secrets file with mode 0600 (created that way, never world-readable)."""
    path = workdir / SECRETS_FILE
    write_text(path, lab_secrets_text(names), perms=0o600)  # the temporary file is 0600 too
    return path
