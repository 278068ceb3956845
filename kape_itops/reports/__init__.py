"""Health reports from stored probe results and the inventory.

``model.build_report`` reads rollups (:mod:`kape_itops.store.report_repo`) and computes with
the pure modules ``availability``, ``problems`` and ``trends`` (latency sketches:
:mod:`kape_itops.domain.sketch`); ``render_html``, ``render_md`` and ``render_csv`` write it out;
``alerts`` is the ``--new-since-last`` hook; ``retention`` rolls raw results up and prunes them;
``schedule`` writes systemd units and cron lines; ``sample`` makes demo data.
"""
