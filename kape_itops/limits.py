"""Size limits every reader enforces, with defaults and ``ITOPS_MAX_*`` overrides.

A small hostile file must not exhaust memory or time: each reader checks its input against
these limits *before* doing the expensive work, and refuses with a one-line error that names
the limit and the environment variable that raises it.

=============================  ==========================  =========
setting                        environment variable        default
=============================  ==========================  =========
``max_file_mb``                ``ITOPS_MAX_FILE_MB``       20
``max_unzipped_mb``            ``ITOPS_MAX_UNZIPPED_MB``   200
``max_zip_ratio``              ``ITOPS_MAX_ZIP_RATIO``     100
``max_rows``                   ``ITOPS_MAX_ROWS``          100000
``max_columns``                ``ITOPS_MAX_COLUMNS``       200
``max_cells``                  ``ITOPS_MAX_CELLS``         2000000
``max_cell_chars``             ``ITOPS_MAX_CELL_CHARS``    10000
``max_yaml_mb``                ``ITOPS_MAX_YAML_MB``       1
``max_yaml_aliases``           ``ITOPS_MAX_YAML_ALIASES``  100
``max_yaml_nodes``             ``ITOPS_MAX_YAML_NODES``    100000
``max_depth``                  ``ITOPS_MAX_DEPTH``         50
``max_sync_items``             ``ITOPS_MAX_SYNC_ITEMS``    10000
``max_sync_results``           ``ITOPS_MAX_SYNC_RESULTS``  50000
``max_sync_mb``                ``ITOPS_MAX_SYNC_MB``       64
=============================  ==========================  =========
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields

from kape_itops.errors import ConfigError

SHOWN_CHARS = 40
"""How many characters of an offending value an error message quotes."""

_MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Limits:
    """Upper bounds for untrusted input. Each field's env variable is ``ITOPS_`` + its name."""

    max_file_mb: int = 20
    """Largest input file (CSV, XLSX, JSON, YAML) read at all, in MiB."""
    max_unzipped_mb: int = 200
    """Largest total decompressed size of an XLSX (a zip), in MiB."""
    max_zip_ratio: int = 100
    """Largest decompressed/compressed ratio of one XLSX part (parts over 1 MiB unzipped)."""
    max_rows: int = 100_000
    """Most rows in one sheet or CSV file (the header included)."""
    max_columns: int = 200
    """Most columns in one sheet or CSV file."""
    max_cells: int = 2_000_000
    """Most cells (rows x columns of the sheet's extent) in one sheet."""
    max_cell_chars: int = 10_000
    """Longest text of one cell or CSV field."""
    max_yaml_mb: int = 1
    """Largest YAML file (specs, RFQs, probe profiles), in MiB."""
    max_yaml_aliases: int = 100
    """Most alias uses (``*name``) in one YAML document; recursive aliases are always refused."""
    max_yaml_nodes: int = 100_000
    """Most values in one YAML document, every alias counted as the copy it stands for."""
    max_depth: int = 50
    """Deepest nesting of lists/mappings in a YAML or JSON document."""
    max_sync_items: int = 10_000
    """Most items (runs, changes, sweeps, backups) in one sync batch."""
    max_sync_results: int = 50_000
    """Most probe results in one sync batch (all its runs together)."""
    max_sync_mb: int = 64
    """Largest sync batch (uncompressed JSON), in MiB."""

    @property
    def max_file_bytes(self) -> int:
        """``max_file_mb`` in bytes."""
        return self.max_file_mb * _MB

    @property
    def max_yaml_bytes(self) -> int:
        """``max_yaml_mb`` in bytes."""
        return self.max_yaml_mb * _MB

    @property
    def max_unzipped_bytes(self) -> int:
        """``max_unzipped_mb`` in bytes."""
        return self.max_unzipped_mb * _MB

    @staticmethod
    def env_name(field_name: str) -> str:
        """The environment variable that overrides ``field_name``."""
        return "ITOPS_" + field_name.upper()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Limits:
        """Defaults overridden by any ``ITOPS_MAX_*`` variable set (a positive integer)."""
        env = os.environ if environ is None else environ
        values: dict[str, int] = {}
        for f in fields(cls):
            name = cls.env_name(f.name)
            raw = env.get(name, "").strip()
            if not raw:
                continue
            try:
                number = int(raw.replace("_", ""))
            except ValueError:
                number = 0
            if number <= 0:
                raise ConfigError(f"{name} must be a positive whole number, not {shown(raw)}")
            values[f.name] = number
        return cls(**values)


def shown(value: object, limit: int = SHOWN_CHARS) -> str:
    """``repr`` of at most the first ``limit`` characters of ``value`` (with ``...`` if cut)."""
    text = value if isinstance(value, str) else str(value)
    if len(text) <= limit:
        return repr(text)
    return repr(text[:limit]) + "..."


def too_big(what: str, size: int, limit: int, field_name: str, unit: str = "") -> str:
    """A refusal message naming the limit and the variable that raises it."""
    env = Limits.env_name(field_name)
    return (
        f"{what} is too large ({size:,}{unit}; the limit is {limit:,}{unit}, raise it with {env})"
    )
