"""The SNMP probe kind: v1/v2c/v3 health checks driven by profiles (``probes/snmp/*.yaml``).

- :mod:`.kind`: the kind's declaration (``KIND``), light enough for the catalog to import;
- :mod:`.probe`: :class:`~.probe.SnmpProbe`, the probe the engine runs: one GET of the system
  group, one side-by-side walk of every column the profile's checks read, one GET of their
  scalars, then each check judges its answer;
- :mod:`.checks`: the table of checks (``system``, ``interfaces``, ``printer``, ``storage``,
  ``devices``, ``cpu``, ``clients``, ``ups``), one small pure module each;
- :mod:`.settings`: the profiles, loaded, schema-checked and resolved;
- :mod:`.client`: the only I/O (pysnmp), with ``translate()`` for its errors;
- :mod:`.values`: SNMP values without the library's classes; :mod:`.decode`: device strings
  as safe text.

Nothing is imported here, so ``kind`` stays cheap to load.
"""
