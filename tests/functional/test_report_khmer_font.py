"""The Khmer font ships inside the report: headless Chromium on a machine whose only fonts are
DejaVu (no Khmer at all) draws the school's Khmer name with the embedded subset, shaped
(a subscript consonant takes no room of its own), where without it there are only boxes."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
from pathlib import Path

import pytest

from kape_itops import fonts
from kape_itops.domain.enums import DeviceKind
from kape_itops.domain.inventory import ChangeContext, SchoolUpsert
from kape_itops.reports.build import ReportOptions, build_report
from kape_itops.reports.model import Period
from kape_itops.reports.render_html import render_html
from kape_itops.store.db import Store
from kape_itops.store.inventory_repo import InventoryRepo
from tests.support.cdp import Chromium
from tests.support.report_data import T0, ping, seed, write_run

KM_NAME = "សាលាបឋមសិក្សា ព្រះស៊ីសុវត្ថិ"
FONTS_CONF = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>
  <dir>/usr/share/fonts/truetype/dejavu</dir>
  <cachedir>{cache}</cachedir>
</fontconfig>
"""
MEASURE = """(() => {
  const w = (text) => {
    const s = document.createElement('span');
    s.textContent = text;
    s.style.fontSize = '40px';
    document.body.appendChild(s);
    const width = s.getBoundingClientRect().width;
    s.remove();
    return width;
  };
  const faces = [];
  document.fonts.forEach((f) => faces.push([f.family, f.status]));
  return JSON.stringify({
    stacked: w('ក្ក'), apart: w('កក'), base: w('ក'),
    name: document.querySelector('h2 span[lang=km]').getBoundingClientRect().width,
    faces: faces,
  });
})()"""


def khmer_report(store: Store, tmp_path: Path) -> str:
    ids = seed(store, {"PSP-SW01": DeviceKind.SWITCH})
    with store.session() as s:
        InventoryRepo(s).apply_schools(
            [SchoolUpsert("KPT-PSP", {"name_km": KM_NAME})], ChangeContext("t", "test", T0)
        )
    write_run(store, T0, [(ids["PSP-SW01"], "ping", "ok", ping(1.0))])
    rep = build_report(store, Period(T0, T0 + dt.timedelta(hours=1)), ReportOptions())
    return render_html(rep)


def measure(html: str, path: Path) -> dict[str, object]:
    path.write_text(html, encoding="utf-8")
    browser = Chromium()
    try:
        browser.start()
        page = browser.load(path.as_uri())
        assert page.loaded and not page.errors, page.errors
        assert all(u.startswith(("file:", "data:")) for u in page.requests), page.requests
        browser.evaluate("document.fonts.ready.then(() => 1)")
        got = json.loads(browser.evaluate(MEASURE))
        assert isinstance(got, dict)
        return got
    finally:
        browser.stop()


@pytest.mark.slow
def test_khmer_name_drawn_with_the_embedded_font(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conf = tmp_path / "fonts.conf"
    conf.write_text(FONTS_CONF.format(cache=tmp_path / "fc-cache"), encoding="utf-8")
    monkeypatch.setenv("FONTCONFIG_FILE", str(conf))
    listed = subprocess.run(
        ["fc-list", ":lang=km"], capture_output=True, text=True, check=True, timeout=60
    )
    assert listed.stdout.strip() == ""  # no Khmer font on this "machine"

    store = Store(sqlite_url)
    store.upgrade()
    html = khmer_report(store, tmp_path)
    store.dispose()
    assert f'<span lang="km" class="km">{KM_NAME}</span>' in html
    assert f'font-family: "{fonts.FAMILY}"' in html and "url(data:font/woff;base64," in html
    bare = re.sub(r"@font-face \{[^}]*\}", "", html)
    assert "@font-face" not in bare

    with_font = measure(html, tmp_path / "with.html")
    without = measure(bare, tmp_path / "without.html")
    assert [fonts.FAMILY, "loaded"] in with_font["faces"]  # type: ignore[operator]
    # Without the embedded face nothing can shape Khmer: the coeng and subscript take room.
    assert without["stacked"] >= without["apart"]  # type: ignore[operator]
    # With it, the subscript sits under its consonant: shaped by the subset's GSUB/GPOS.
    assert with_font["stacked"] < 0.8 * with_font["apart"]  # type: ignore[operator]
    assert abs(with_font["stacked"] - with_font["base"]) < 0.1 * with_font["base"]  # type: ignore[operator]
    assert with_font["name"] != without["name"]


def test_font_face_only_for_khmer_text() -> None:
    assert fonts.font_face_css("Health report KPT-PSP 99.5 %") == ""
    css = fonts.font_face_css(KM_NAME)
    assert css.startswith("@font-face {") and "unicode-range: U+1780-17FF" in css
    assert fonts.khmer_chars(KM_NAME) == "".join(sorted(set(KM_NAME) - {" "}))
