"""The health report in Khmer: every text of the page from the reports catalogue, the Khmer
month name and Babel dates in ITOPS_TZ, the school's Khmer name; HTML, Markdown and the CLI."""

from __future__ import annotations

import datetime as dt
import html as htmllib
import re
from pathlib import Path

from babel.messages.extract import extract_from_file
from click.testing import CliRunner

from kape_itops.cli import cli
from kape_itops.domain.enums import DeviceKind
from kape_itops.domain.inventory import ChangeContext, SchoolUpsert
from kape_itops.reports.build import ReportOptions
from kape_itops.reports.render_html import render_html
from kape_itops.reports.render_md import render_md
from kape_itops.reports.service import Reports
from kape_itops.store.db import Store
from kape_itops.store.inventory_repo import InventoryRepo
from tests.support.report_data import T0, ping, seed, write_run

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "kape_itops/reports/templates/health.html.j2"
KM_NAME = "សាលាបឋមសិក្សា ព្រះស៊ីសុវត្ថិ"
NOW = dt.datetime(2026, 12, 4, 12, tzinfo=dt.UTC)


def fill(store: Store) -> None:
    ids = seed(store, {"PSP-SW01": DeviceKind.SWITCH, "PSP-PRN01": DeviceKind.PRINTER})
    with store.session() as s:
        InventoryRepo(s).apply_schools(
            [SchoolUpsert("KPT-PSP", {"name": "Preah Sisowath", "name_km": KM_NAME})],
            ChangeContext("t", "test", T0),
        )
    for k in range(8):
        at = T0 + k * dt.timedelta(hours=3)
        write_run(
            store,
            at,
            [
                (ids["PSP-SW01"], "ping", "ok", ping(1.0)),
                (
                    ids["PSP-PRN01"],
                    "ping",
                    "crit" if k == 7 else "ok",
                    ping(None if k == 7 else 2.0),
                ),
            ],
        )


def visible(page: str) -> str:
    page = re.sub(r"<style>.*?</style>|<svg.*?</svg>|<code>.*?</code>", " ", page, flags=re.S)
    return htmllib.unescape(re.sub(r"<[^>]+>", " ", page))


def template_messages() -> list[str]:
    """The static part (before any placeholder) of every message of the report template."""
    out = []
    for _line, msg, _c, _x in extract_from_file(
        "jinja2.ext:babel_extract",
        TEMPLATE,
        keywords={"_": None, "ngettext": (1, 2)},
        options={"extensions": "jinja2.ext.i18n", "trimmed": "true"},
    ):
        text = msg[0] if isinstance(msg, tuple) else msg
        head = text.split("%(")[0].strip(" (:")
        if len(head) >= 3:
            out.append(head)
    return out


def test_khmer_html_and_markdown(store: Store) -> None:
    fill(store)
    opts = ReportOptions(interval=dt.timedelta(hours=3), tz="Asia/Phnom_Penh")
    rep = Reports(store).monthly(dt.date(2026, 11, 1), opts, now=NOW)
    en, km = render_html(rep, "en"), render_html(rep, "km")
    assert '<html lang="km">' in km and '<html lang="en">' in en
    assert f'<span lang="km" class="km">{KM_NAME}</span>' in km and KM_NAME in en
    text_en, text_km = visible(en), visible(km)
    assert "របាយការណ៍សុខភាពប្រព័ន្ធ · វិច្ឆិកា 2026" in text_km  # title and month in Khmer
    assert "Health report · November 2026" in text_en
    assert "ប្រៀបធៀបនឹងខែមុន" in text_km and "បញ្ហា" in text_km
    assert "ម៉ាស៊ីនបោះពុម្ព" in text_km  # a device kind, through the words
    # Times in ITOPS_TZ (UTC+7): the period starts at 07:00 local on 1 November.
    assert "2026-11-01 07:00" in text_km and "2026-11-01 07:00" in text_en
    messages = template_messages()
    assert len(messages) > 60
    def has(text: str, m: str) -> bool:
        return re.search(rf"(?<!\w){re.escape(m)}(?!\w)", text) is not None

    shown = [m for m in messages if has(text_en, m)]
    assert len(shown) > 40  # the English page shows them ...
    # the change log's rows are data ("update school KPT-PSP name ..."): left out here
    cut = text_km.index("ការផ្លាស់ប្តូរក្នុងរយៈពេលនេះ"), text_km.index("កំណត់សម្គាល់")
    text_km = text_km[: cut[0]] + text_km[cut[1] :]
    left = [m for m in shown if has(text_km, m)]
    assert left == [], [(m, text_km[text_km.find(m) - 60 : text_km.find(m) + 40]) for m in left]

    md_km = render_md(rep, "km")
    assert md_km.startswith("# របាយការណ៍សុខភាពប្រព័ន្ធ\n")
    assert "## ប្រៀបធៀបនឹងខែមុន" in md_km and "## បញ្ហា" in md_km and KM_NAME in md_km
    for english in ("## Problems", "## Schools", "## Inventory", "Availability", "Period"):
        assert english not in md_km


def test_cli_lang_km(store: Store, tmp_path: Path) -> None:
    fill(store)
    runner = CliRunner()
    out = tmp_path / "r.md"
    res = runner.invoke(
        cli,
        [
            "--db",
            store.url,
            "report",
            "health",
            "--month",
            "2026-11",
            "--lang",
            "km",
            "--interval",
            "3h",
            "--format",
            "md",
            "-o",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    text = out.read_text(encoding="utf-8")
    assert "## ប្រៀបធៀបនឹងខែមុន" in text and KM_NAME in text
    res = runner.invoke(
        cli, ["--db", store.url, "report", "health", "--month", "2026-11", "--format", "html"]
    )
    assert res.exit_code == 2 and "--format html needs --out PATH" in res.output
    res = runner.invoke(
        cli, ["--db", store.url, "report", "health", "--month", "2026-11", "--lang", "fr"]
    )
    assert res.exit_code == 2
