"""The report's enum values as words a reader understands, marked for translation (no I/O).

``crit``, ``toner_low``, ``in_repair`` are codes; the HTML and Markdown reports show the words
here, translated into the report's language (:func:`word`). A code not listed shows as itself.
"""

from __future__ import annotations

from kape_itops.i18n import gettext, marker

__all__ = ["WORDS", "word"]

_ = marker

WORDS: dict[str, str] = {
    # severities
    "crit": _("critical"),
    "warn": _("warning"),
    "info": _("information"),
    # problem kinds
    "collector_silent": _("collector silent"),
    "down": _("down"),
    "disk_full": _("disk full"),
    "toner_low": _("toner low"),
    "not_recording": _("not recording"),
    "ups_battery": _("UPS battery"),
    "clock_drift": _("clock drift"),
    "rebooted": _("rebooted"),
    "interface_down": _("interface down"),
    "probe_finding": _("probe finding"),
    "config_changed": _("configuration changed"),
    "unknown_device": _("unknown device"),
    "missing_from_network": _("missing from the network"),
    "warranty_expired": _("warranty expired"),
    "warranty_expiring": _("warranty expiring"),
    # device kinds
    "laptop": _("laptop"),
    "desktop": _("desktop"),
    "tablet": _("tablet"),
    "printer": _("printer"),
    "hotspot": _("hotspot"),
    "switch": _("switch"),
    "router": _("router"),
    "camera": _("camera"),
    "nvr": _("video recorder"),
    "ups": _("UPS"),
    "other": _("other"),
    # device statuses and last results
    "in_stock": _("in stock"),
    "deployed": _("deployed"),
    "in_repair": _("in repair"),
    "retired": _("retired"),
    "lost": _("lost"),
    "ok": _("ok"),
    "unknown": _("unknown"),
}


def word(code: str, lang: str) -> str:
    """The word for ``code`` in ``lang`` (the code with spaces for underscores if not listed)."""
    text = WORDS.get(code)
    return gettext(lang, text) if text else code.replace("_", " ")
