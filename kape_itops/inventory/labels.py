"""Printable asset labels: an A4 HTML sheet of QR codes holding the plain asset tag."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import jinja2
import segno
from markupsafe import Markup

from kape_itops.atomic import write_text
from kape_itops.domain.inventory import Device, DeviceFilter, School
from kape_itops.domain.text import reveal_value
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


def qr_svg(text: str) -> Markup:
    """An inline SVG QR code of ``text`` (segno emits only paths: the text is not in it)."""
    svg = segno.make(text, error="m", micro=False).svg_inline(
        scale=3, border=2, omitsize=True, svgclass="qr", lineclass=None
    )
    return Markup(svg)  # noqa: S704 - segno's SVG carries modules, never the input text


def make_labels(devices: Sequence[Device], schools: Mapping[str, School]) -> list[Label]:
    """Labels for ``devices``, in the given order."""
    return [
        Label(
            d.asset_tag,
            d.school,
            schools[d.school].name if d.school in schools else "",
            qr_svg(d.asset_tag),
        )
        for d in devices
    ]


def render_labels(labels: Sequence[Label], title: str = "Asset labels") -> str:
    """A self-contained HTML page (A4 print CSS); every string is escaped."""
    source = resources.files("kape_itops.inventory").joinpath(_TEMPLATE).read_text("utf-8")
    return _ENV.from_string(source).render(title=title, labels=labels)


def write_labels(store: Store, out: Path, flt: DeviceFilter | None = None) -> int:
    """Write the label sheet for the selected devices to ``out``; returns how many labels."""
    with store.session() as session:
        repo = InventoryRepo(session)
        schools = {s.code: s for s in repo.schools()}
        devices = list(repo.iter_devices(flt))
    codes = sorted({d.school for d in devices})
    title = "Asset labels — " + (", ".join(codes) if len(codes) <= 3 else f"{len(codes)} schools")
    write_text(out, render_labels(make_labels(devices, schools), title))
    return len(devices)
