"""The label sheet and the quotation report carry the Khmer font subset for their own Khmer
text (a school's Khmer name, Khmer headings), and nothing when there is none."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from kape_itops.cli import cli
from kape_itops.domain.enums import DeviceKind, DeviceStatus
from kape_itops.domain.inventory import Device, School
from kape_itops.fonts import FAMILY, embed_font, font_face_css
from kape_itops.inventory.labels import make_labels, render_labels
from tests.functional.quote_helpers import copy_rfq
from tests.functional.test_quote_khmer import add_sample

KM_NAME = "សាលាបឋមសិក្សា ព្រះស៊ីសុវត្ថិ"


def _device(tag: str, school: str) -> Device:
    return Device(
        asset_tag=tag, school=school, kind=DeviceKind.SWITCH, status=DeviceStatus.DEPLOYED
    )


def test_labels_show_the_khmer_name_with_the_font() -> None:
    schools = {
        "KPT-PSP": School("KPT-PSP", "Preah Sisowath", KM_NAME),
        "KPT-TKP": School("KPT-TKP", "Toul Kork"),
    }
    page = render_labels(make_labels([_device("PSP-SW01", "KPT-PSP")], schools))
    assert f'<span lang="km">{KM_NAME}</span>' in page
    assert "@font-face" in page and f'font-family: "{FAMILY}"' in page
    assert page.index("@font-face") < page.index("</style>")
    latin = render_labels(make_labels([_device("TKP-SW01", "KPT-TKP")], schools))
    assert "@font-face" not in latin and 'lang="km"' not in latin


def test_quotation_report_in_khmer_embeds_the_font(tmp_path: Path) -> None:
    folder = copy_rfq("laptop", tmp_path)
    add_sample(folder, "csv")
    html = tmp_path / "r.html"
    res = CliRunner().invoke(
        cli, ["quote", "score", str(folder), "--report", str(html), "--lang", "km", "--no-store"]
    )
    assert res.exit_code == 0, res.output
    page = html.read_text("utf-8")
    assert "ចំណាត់ថ្នាក់" in page and font_face_css(page).split("base64,")[0] in page
    assert page.count("@font-face") == 1


def test_embed_font_is_idempotent_for_latin_pages() -> None:
    page = "<html><head><style>\nbody{}</style></head><body>Report</body></html>"
    assert embed_font(page) == page
    km = page.replace("Report", KM_NAME)
    out = embed_font(km)
    assert out.startswith("<html><head><style>\n@font-face {") and out.endswith(km[-30:])
