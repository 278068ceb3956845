"""The ``probe`` group with every probe subcommand attached (each module adds its own)."""

from kape_itops.cli import probe_onvif, probe_ping, probe_snmp  # noqa: F401 - attach subcommands
from kape_itops.cli.probe import probe

__all__ = ["probe"]
