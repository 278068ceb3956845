"""Which class implements each probe kind, imported only when a run needs it.

The built-in kinds are those of :mod:`kape_itops.probes.catalog` (each kind's ``probe_class``).

A probe kind whose module cannot be imported (not written yet, or a missing optional library)
is not an error of the run: :meth:`ProbeRegistry.create` raises :class:`ProbeUnavailable` and the
runner turns every check of that kind into an ``unknown`` result "probe not available: …".

``ITOPS_PROBES`` adds or replaces probe classes without code changes, as a comma-separated list
of ``name=package.module:Class`` (for site-specific probes).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping

from kape_itops.errors import ConfigError
from kape_itops.probes import catalog
from kape_itops.probes.base import Probe

ENV_VAR = "ITOPS_PROBES"


def builtin() -> dict[str, str]:
    """The import path of each built-in probe kind, from :data:`~kape_itops.probes.catalog.KINDS`."""
    return {k.name: k.probe_class for k in catalog.KINDS}


class ProbeUnavailable(Exception):
    """A probe kind cannot be used in this installation; ``str()`` says why."""


def parse_extra(text: str | None) -> dict[str, str]:
    """``name=module:Class,…`` as a mapping; ConfigError naming the bad entry otherwise."""
    out: dict[str, str] = {}
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        name, sep, path = part.partition("=")
        name, path = name.strip(), path.strip()
        if not sep or not name or ":" not in path:
            raise ConfigError(f"{ENV_VAR}: '{part}' is not of the form name=package.module:Class")
        out[name] = path
    return out


class ProbeRegistry:
    """Probe kinds by name: import paths (lazy) and, for tests and plugins, factories."""

    def __init__(
        self,
        paths: Mapping[str, str] | None = None,
        factories: Mapping[str, Callable[[], Probe]] | None = None,
    ) -> None:
        self.paths = dict(builtin() if paths is None else paths)
        self.factories = dict(factories or {})

    @classmethod
    def default(cls, environ: Mapping[str, str] | None = None) -> ProbeRegistry:
        """The built-in probes plus any named in ``ITOPS_PROBES``."""
        env = os.environ if environ is None else environ
        return cls({**builtin(), **parse_extra(env.get(ENV_VAR))})

    @property
    def names(self) -> list[str]:
        """Every known probe kind."""
        return sorted({*self.paths, *self.factories})

    def create(self, name: str) -> Probe:
        """A new instance of probe kind ``name``; ProbeUnavailable when it cannot be had."""
        if name in self.factories:
            return self.factories[name]()
        path = self.paths.get(name)
        if path is None:
            raise ProbeUnavailable(f"probe not available: no probe kind '{name}'")
        module_name, _, attr = path.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise ProbeUnavailable(
                f"probe not available: cannot import {module_name} ({exc})"
            ) from exc
        cls = getattr(module, attr, None)
        if cls is None:
            raise ProbeUnavailable(f"probe not available: {module_name} has no {attr}")
        try:
            probe = cls()
        except Exception as exc:
            raise ProbeUnavailable(f"probe not available: cannot create {path}: {exc}") from exc
        if not isinstance(probe, Probe):
            raise ProbeUnavailable(f"probe not available: {path} does not implement Probe")
        return probe
