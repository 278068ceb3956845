"""Printable asset labels: an A4 HTML sheet of QR codes.

A QR code holds the device's page on the server (``<server>/devices/<tag>``) when a server URL
is known (``itops inventory labels --url``, ``ITOPS_SERVER_URL``, or the ``url`` a site joined
in ``[server.sync]`` of the secrets file), else the plain asset tag.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from urllib.parse import quote, urlsplit

import jinja2
import segno
from markupsafe import Markup

from kape_itops.atomic import write_text
from kape_itops.domain.inventory import Device, DeviceFilter, School
from kape_itops.domain.text import refusal, reveal_value
from kape_itops.errors import UsageError
from kape_itops.fonts import embed_font
from kape_itops.store.db import Store
from kape_itops.store.inventory_repo import InventoryRepo

_ENV = jinja2.Environment(autoescape=True, finalize=reveal_value, undefined=jinja2.StrictUndefined)
"""Every value escaped, control and bidi characters shown as escapes."""
_TEMPLATE = "labels.html.j2"


@dataclass(frozen=True, slots=True)
class Label:
    """One label: the QR code (SVG markup of the tag) and the text printed under it."""

    tag: str
    school: str
    school_name: str
    qr_svg: Markup
    school_name_km: str = ""


def qr_svg(text: str) -> Markup:
    """An inline SVG QR code of ``text`` (segno emits only paths: the text is not in it)."""
    svg = segno.make(text, error="m", micro=False).svg_inline(
        scale=3, border=2, omitsize=True, svgclass="qr", lineclass=None
    )
    return Markup(svg)  # noqa: S704 - segno's SVG carries modules, never the input text


URL_ENV = "ITOPS_SERVER_URL"


def base_url(url: str) -> str:
    """A server URL as a label's base: http(s), a host, no query; no trailing '/'."""
    text = url.strip()
    parts = urlsplit(text)
    if (
        parts.scheme not in ("http", "https")
        or not parts.netloc
        or parts.query
        or parts.fragment
        or refusal(text)
        or " " in text
    ):
        raise UsageError(f"{text[:80]!r} is not a server URL like https://itops.example.org")
    return text.rstrip("/")


def server_url(secrets_path: Path | None, environ: Mapping[str, str] | None = None) -> str | None:
    """The configured server URL: ``ITOPS_SERVER_URL``, else the ``[server.sync]`` url of the
    secrets file (a site that joined a server), else None."""
    env = os.environ if environ is None else environ
    if url := env.get(URL_ENV, "").strip():
        return base_url(url)
    if secrets_path is not None and secrets_path.is_file():
        from kape_itops.secrets import read_sync_section

        section = read_sync_section(secrets_path)
        if section is not None:
            return base_url(section.url)
    return None


def qr_payload(tag: str, base: str | None) -> str:
    """What a label's QR code holds: the device's URL under ``base``, else the tag."""
    return f"{base}/devices/{quote(tag, safe='')}" if base else tag


def make_labels(
    devices: Sequence[Device], schools: Mapping[str, School], base: str | None = None
) -> list[Label]:
    """Labels for ``devices``, in the given order (QR codes: see :func:`qr_payload`)."""
    return [
        Label(
            d.asset_tag,
            d.school,
            schools[d.school].name if d.school in schools else "",
            qr_svg(qr_payload(d.asset_tag, base)),
            (schools[d.school].name_km or "") if d.school in schools else "",
        )
        for d in devices
    ]


def render_labels(labels: Sequence[Label], title: str = "Asset labels") -> str:
    """A self-contained HTML page (A4 print CSS; the Khmer font embedded when a school's Khmer
    name is on it); every string is escaped."""
    source = resources.files("kape_itops.inventory").joinpath(_TEMPLATE).read_text("utf-8")
    return embed_font(_ENV.from_string(source).render(title=title, labels=labels))


def _sheet(store: Store, flt: DeviceFilter | None, base: str | None) -> tuple[str, int]:
    with store.session() as session:
        repo = InventoryRepo(session)
        schools = {s.code: s for s in repo.schools()}
        devices = list(repo.iter_devices(flt))
    codes = sorted({d.school for d in devices})
    title = "Asset labels — " + (", ".join(codes) if len(codes) <= 3 else f"{len(codes)} schools")
    return render_labels(make_labels(devices, schools, base), title), len(devices)


def labels_page(store: Store, flt: DeviceFilter | None = None, base: str | None = None) -> str:
    """The label sheet of the selected devices as an HTML page."""
    return _sheet(store, flt, base)[0]


def write_labels(
    store: Store, out: Path, flt: DeviceFilter | None = None, base: str | None = None
) -> int:
    """Write the label sheet for the selected devices to ``out``; returns how many labels."""
    page, count = _sheet(store, flt, base)
    write_text(out, page)
    return count
