"""The ping probe kind (``ping``): ICMP echo, raw or unprivileged, with a TCP-connect fallback.

- :mod:`.kind`: the kind's declaration (``KIND``), light enough for the catalog to import;
- :mod:`.probe`: :class:`~.probe.PingProbe`, the probe the engine runs, and
  :func:`~.probe.ping_targets` for a sweep of many hosts through one engine;
- :mod:`.evaluate`: pure statistics of a series of echoes (RTT, jitter, loss) and their verdict;
- :mod:`.client`: the one asyncio ICMP engine per run (raw or datagram sockets), the I/O;
- :mod:`.tcp`: the TCP-connect fallback when no ICMP socket is allowed (I/O).

The reason texts are in :mod:`kape_itops.domain.ping`, shared with the store that rebuilds them.
Nothing is imported here, so ``kind`` stays cheap to load.
"""
