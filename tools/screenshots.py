"""Screenshots of the web pages for the README, from a real server with the sample data.

    python -m tools.screenshots [--out docs/screenshots]

Starts ``itops server`` on a throw-away SQLite database seeded like the browser tests (the
12 sample schools, a week of probe history, a discovery sweep, one user per role, RFQs
with the sample vendors' quotations) and saves PNGs taken by headless Chromium (Debian's
``/usr/bin/chromium`` under Playwright). Nothing is fetched from outside the server: a shot
whose page asks for anything else, or logs a console error, fails the run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.browser import (  # noqa: E402 (the repository on the path first)
    Site,
    chromium,
    first_tag,
    khmer_font_ready,
    open_page,
    serve_seeded,
)

DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}
SCHOOL = "KPT-PSP"
MAX_BYTES = 300_000


@dataclass(frozen=True)
class Shot:
    """One PNG: ``path`` seen by ``role`` in ``lang`` at ``viewport``."""

    name: str
    path: str
    role: str = "admin"
    lang: str = "en"
    viewport: tuple[int, int] = (DESKTOP["width"], DESKTOP["height"])
    scale: float = 1
    anchor: str = ""
    """A selector scrolled to the top of the picture (default: the top of the page)."""


def shots(site: Site) -> list[Shot]:
    """The README's pictures (the device is the first sample school's router)."""
    router = first_tag(site, SCHOOL, kind="router")
    laptop = site.rfqs["laptop"]
    phone = (PHONE["width"], PHONE["height"])
    return [
        Shot("overview", "/"),
        Shot("school", f"/schools/{SCHOOL}"),
        Shot("device", f"/devices/{router}", role="it_staff"),
        Shot(
            "quotation-evaluation",
            f"/quotes/{laptop}/evaluation?method=qcbs&weights=70:30",
            role="reviewer",
            viewport=(DESKTOP["width"], 1020),
        ),
        Shot("phone-device", f"/devices/{router}", role="it_staff", viewport=phone, scale=2),
        Shot("khmer-school", f"/schools/{SCHOOL}", role="viewer", lang="km"),
    ]


def take(browser: object, site: Site, shot: Shot, out: Path) -> Path:
    """Save ``shot`` as ``out/NAME.png``; fails on an error status, console error or a
    request off the server."""
    width, height = shot.viewport
    page, seen = open_page(
        browser,
        site,
        shot.role,
        viewport={"width": width, "height": height},
        device_scale_factor=shot.scale,
        locale="km-KH" if shot.lang == "km" else "en-GB",
    )
    try:
        joiner = "&" if "?" in shot.path else "?"
        answer = page.goto(f"{site.url}{shot.path}{joiner}lang={shot.lang}")
        if answer is None or answer.status != 200:
            raise SystemExit(f"{shot.path}: HTTP {answer.status if answer else '?'}")
        page.wait_for_load_state("networkidle")
        if shot.lang == "km" and not khmer_font_ready(page):
            raise SystemExit(f"{shot.path}: the Khmer font did not load")
        if shot.anchor:
            page.locator(shot.anchor).first.evaluate("e => e.scrollIntoView({block: 'start'})")
        seen.assert_clean()
        target = out / f"{shot.name}.png"
        page.screenshot(path=str(target), full_page=False, animations="disabled")
    finally:
        page.context.close()
    size = target.stat().st_size
    if size > MAX_BYTES:
        raise SystemExit(f"{target} is {size} bytes (> {MAX_BYTES}): make the shot smaller")
    return target


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    ap.add_argument("--only", action="append", help="just this shot (by name); repeatable")
    ap.add_argument("--days", type=int, default=7, help="days of sample probe history")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="itops-shots-") as tmp:
        folder = Path(tmp)
        site = serve_seeded(
            f"sqlite:///{folder / 'itops.db'}",
            folder,
            history=dt.timedelta(days=args.days),
            every=dt.timedelta(minutes=15),
        )
        try:
            with chromium() as browser:
                for shot in shots(site):
                    if args.only and shot.name not in args.only:
                        continue
                    path = take(browser, site, shot, args.out)
                    print(f"{path} ({path.stat().st_size // 1024} KB)")
        finally:
            site.server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
