"""The SSH probe kind: health commands and configuration backups over netmiko.

- :mod:`.kind`: the kind's declaration (``KIND``), light enough for the catalog to import;
- :mod:`.probe`: :class:`~.probe.SshProbe`, the probe the engine runs: one session per device
  in a bounded pool of worker threads (netmiko blocks);
- :mod:`.evaluate`: pure rules turning what a session brought back into status, reason and
  metrics, and the cleaning (drop volatile lines, mask secrets, hash) of a configuration;
- :mod:`.parse`: pure parsers of CLI output (TextFSM templates and small built-in ones);
- :mod:`.scrub`: pure masking of secrets in configurations;
- :mod:`.settings`: the per-platform command sets (``probes/ssh/<platform>.yaml``), loaded and
  schema-checked;
- :mod:`.client`: the only network I/O (netmiko, paramiko), translating their errors into
  :class:`~.client.SshFailure`;
- :mod:`.hostkeys`: host-key pinning in an OpenSSH-format known-hosts file (file I/O).

Nothing is imported here, so ``kind`` stays cheap to load.
"""
