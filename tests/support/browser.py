"""A real ``itops server`` process with sample data, driven by headless Chromium (Playwright).

    site = build_site(postgres, folder)        # server on 127.0.0.1:<free port>, PostgreSQL
    with chromium() as browser:
        page, seen = open_page(browser, site)   # records console, page errors, requests
        login(page, site, "it_staff")
        page.goto(site.url + "/inventory")
        seen.assert_clean()                     # no console error, no request off the server

The data: the 12 schools and their devices from ``inventory/`` (``itops inventory import``),
six hours of probe history and a discovery sweep from :mod:`kape_itops.reports.sample`
(rolled up by ``itops db prune``), two versions of a router's configuration, two RFQs (one
with the sample vendors' forms uploaded) and one user per role made with ``itops server user
add NAME --role ROLE``. The server allows 10 log-ins per address in 5 minutes, so
:func:`open_page` with a role logs in once per role and session and reuses that session;
tests that type the log-in form themselves should stay few.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from kape_itops.reports import sample
from kape_itops.store.db import Store
from tests.support.itops_server import ItopsServer, itops
from tests.support.postgres import PostgresServer

REPO = Path(__file__).resolve().parent.parent.parent
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "browser test password 1"
ROLES = ("admin", "it_staff", "reviewer", "viewer")
USERS = {"admin": "asha", "it_staff": "dara", "reviewer": "sokha", "viewer": "vanna"}
"""One account per role (the viewer is the manager/donor)."""
WAIT_MS = 15_000
"""Bound of every navigation and wait in the browser."""
HISTORY = dt.timedelta(hours=6)
EVERY = dt.timedelta(minutes=5)
_names = itertools.count()


@dataclass
class Site:
    """The running server and what the tests know about its data."""

    server: ItopsServer
    db: str
    folder: Path
    users: dict[str, str] = field(default_factory=lambda: dict(USERS))
    password: str = PASSWORD
    rfqs: dict[str, int] = field(default_factory=dict)
    """Seeded RFQs by sample category: printer (no quotations yet), laptop (all uploaded)."""
    states: dict[str, Any] = field(default_factory=dict)
    """Playwright storage states of logged-in users (one log-in per role per session)."""

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def origin(self) -> str:
        return urlsplit(self.server.url).netloc

    def store(self) -> Store:
        return Store(self.db)


def _run(*args: str, db: str, **env: str) -> str:
    done = itops(*args, db=db, timeout=300, **env)
    assert done.returncode == 0, f"itops {' '.join(args)}: {done.stdout}\n{done.stderr}"
    return done.stdout


def seed(db: str, history: dt.timedelta = HISTORY, every: dt.timedelta = EVERY) -> None:
    """Schema, the sample inventory, ``history`` of probe rounds every ``every`` (rolled up),
    a discovery sweep and the users."""
    _run("init", db=db)
    _run("inventory", "import", str(REPO / "inventory"), db=db)
    store = Store(db)
    try:
        end = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
        start = end - history
        extra = max(1, int(dt.timedelta(hours=1) / every))  # SNMP, ONVIF, SSH hourly
        sample.generate_history(store, start, end, every, extra_every=extra)
        sample.generate_discovery(store, start, end)
        _backups(store, ROUTER, end - history, end - history / 2)
    finally:
        store.dispose()
    _run("db", "prune", "--keep", "30d", db=db)  # the rollups the period figures read
    for role, name in USERS.items():
        _run("server", "user", "add", name, "--role", role, db=db, ITOPS_USER_PASSWORD=PASSWORD)


ROUTER = "KPT-PSP-001"
"""The first sample school's router: two configuration versions (a diff to show)."""
CONFIG = """# RouterOS 7.16 kpt-psp-001
/interface bridge add name=bridge-lan
/ip address add address=10.30.1.1/24 interface=bridge-lan
/ip firewall filter add chain=input action=accept protocol=icmp
/ip firewall filter add chain=input action=drop in-interface=ether1
/system identity set name=kpt-psp-001
"""


def _backups(store: Store, tag: str, first: dt.datetime, second: dt.datetime) -> None:
    """Two versions of ``tag``'s configuration, as ``itops ssh backup`` records them."""
    import hashlib

    from kape_itops.store.backup_repo import BackupRepo
    from kape_itops.store.report_repo import ReportRepo

    changed = CONFIG.replace(
        "action=accept protocol=icmp", "action=accept protocol=icmp limit=50,5"
    )
    changed += "/ip dns set servers=10.30.1.1\n"
    with store.write() as s:
        device = next(r.id for r in ReportRepo(s).device_refs() if r.asset_tag == tag)
        repo = BackupRepo(s)
        for at, text in ((first, CONFIG), (second, changed)):
            repo.record(device, at, hashlib.sha256(text.encode()).hexdigest(), text)


def seed_rfq(db: str, category: str, *, upload: bool = False) -> int:
    """An RFQ made from ``quotes/CATEGORY/rfq.yaml``'s values by the reviewer, its vendors'
    forms uploaded when ``upload``; the RFQ's id (its page is ``/quotes/<id>``)."""
    from kape_itops.quotes.procurement import Procurement
    from tests.support.procurement import form_of

    folder = REPO / "quotes" / category
    values, lines = form_of(folder / "rfq.yaml")
    store = Store(db)
    try:
        service = Procurement(store, USERS["reviewer"], source="web: test seed", data_dir=REPO)
        rfq = service.create_rfq(values, lines)
        if upload:
            service.upload(rfq, [(p.name, p.read_bytes()) for p in vendor_forms(category)])
        return rfq
    finally:
        store.dispose()


def vendor_forms(category: str) -> list[Path]:
    """The sample vendors' filled forms of ``quotes/CATEGORY``."""
    return sorted((REPO / "quotes" / category).glob("*.xlsx"))


def build_site(postgres: PostgresServer, folder: Path) -> Site:
    """A fresh database on ``postgres``, seeded, and a server process serving it."""
    return serve_seeded(postgres.create_database(f"itops_browser_{next(_names)}"), folder)


def serve_seeded(db: str, folder: Path, **history: dt.timedelta) -> Site:
    """Seed the empty database ``db`` (``history``, ``every``: see :func:`seed`) and start a
    server process on it."""
    folder.mkdir(parents=True, exist_ok=True)
    seed(db, **history)
    rfqs = {"printer": seed_rfq(db, "printer"), "laptop": seed_rfq(db, "laptop", upload=True)}
    server = ItopsServer(db, folder / "server.log", env={"ITOPS_TZ": "Asia/Phnom_Penh"})
    server.start()
    return Site(server, db, folder, rfqs=rfqs)


_SHARED: dict[str, Site] = {}


@contextmanager
def shared_site(postgres: PostgresServer, folder: Path) -> Iterator[Site]:
    """One seeded server for the whole test session (every browser module asks for it).

    The first caller builds and, at its end (session teardown), stops it by PID.
    """
    if "site" in _SHARED:
        yield _SHARED["site"]
        return
    site = build_site(postgres, folder)
    _SHARED["site"] = site
    try:
        yield site
    finally:
        _SHARED.pop("site", None)
        site.server.stop()


# --------------------------------------------------------------------------- the browser


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's headless Chromium under Playwright (it cannot download browsers)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


_BROWSER: dict[str, Any] = {}


@contextmanager
def shared_chromium() -> Iterator[Any]:
    """One Chromium for the session (Playwright's sync API allows one instance per thread)."""
    if "browser" in _BROWSER:
        yield _BROWSER["browser"]
        return
    with chromium() as browser:
        _BROWSER["browser"] = browser
        try:
            yield browser
        finally:
            _BROWSER.pop("browser", None)


@pytest.fixture(scope="session")
def site(postgres: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The seeded server on PostgreSQL (shared by every browser test module)."""
    with shared_site(postgres, tmp_path_factory.mktemp("browser")) as found:
        yield found


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium for one test module. Not for the session: while Playwright's sync API
    is open, its event loop counts as running in this thread, and every later test that calls
    ``asyncio.run`` (the probes, the CLI) would fail."""
    with shared_chromium() as found:
        yield found


@dataclass
class Seen:
    """Everything one page did: console messages, page errors, requests, refused requests."""

    origin: str
    console: list[tuple[str, str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    offsite: list[str] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        out = [
            f"console {kind} on {where}: {text}"
            for kind, text, where in self.console
            if kind == "error"
        ]
        out += [f"page error: {e}" for e in self.errors]
        out += [f"request off the server: {u}" for u in self.offsite]
        return out

    def expected_status(self, status: int) -> None:
        """Forget the console's "Failed to load resource ... status of ``status``" lines: the
        test asked for that refusal (a 401/403 page)."""
        self.console = [c for c in self.console if f"status of {status} " not in c[1]]

    def assert_clean(self) -> None:
        """No console error, no script error and no request to anywhere but the server."""
        assert not self.problems(), "\n".join(self.problems())


def watch(context: Any, origin: str) -> Seen:
    """Record (and refuse) what every page of ``context`` asks for beyond ``origin``."""
    seen = Seen(origin)
    context.set_default_timeout(WAIT_MS)
    context.set_default_navigation_timeout(WAIT_MS)

    def route(r: Any) -> None:
        url = r.request.url
        seen.requests.append(url)
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob") or (
            parts.scheme in ("http", "https") and parts.netloc == origin
        ):
            r.continue_()
            return
        seen.offsite.append(url)
        r.abort()

    context.route("**/*", route)

    def on_page(page: Any) -> None:
        page.on(
            "console",
            lambda m: seen.console.append((m.type, m.text, page.url)),
        )
        page.on("pageerror", lambda e: seen.errors.append(f"{page.url}: {e}"))
        page.on(
            "framenavigated", lambda f: seen.pages.append(f.url) if f == page.main_frame else None
        )

    context.on("page", on_page)
    return seen


def new_context(
    browser: Any, site: Site, role: str | None = None, **options: Any
) -> tuple[Any, Seen]:
    """A browser context (own cookies), logged in as ``role``'s user when given."""
    if role is not None and role not in site.states:
        context = browser.new_context(**options)
        seen = watch(context, site.origin)
        page = context.new_page()
        login(page, site, role)
        site.states[role] = context.storage_state()
        seen.assert_clean()
        context.close()
    state = site.states.get(role) if role else None
    context = browser.new_context(storage_state=state, **options)
    return context, watch(context, site.origin)


def open_page(
    browser: Any, site: Site, role: str | None = None, **options: Any
) -> tuple[Any, Seen]:
    """A page in a new context (see :func:`new_context`)."""
    context, seen = new_context(browser, site, role, **options)
    return context.new_page(), seen


def login(
    page: Any, site: Site, role: str, *, name: str | None = None, password: str | None = None
) -> None:
    """Fill the log-in form (on it already, else ``/login``) as ``role``'s user, or ``name``."""
    if "/login" not in page.url:
        page.goto(f"{site.url}/login")
    page.fill("input[name=name]", name or site.users[role])
    page.fill("input[name=password]", password or site.password)
    with page.expect_navigation():
        page.click("form[action='/login'] button[type=submit]")
    assert "/login" not in page.url, f"log-in as {name or role} failed: {page.content()[:2000]}"


def csrf_of(page: Any) -> str:
    """The session's CSRF token as the page carries it."""
    token = page.get_attribute("meta[name=csrf-token]", "content")
    assert token, "the page has no CSRF token"
    return str(token)


def no_horizontal_scroll(page: Any, width: int) -> None:
    """Nothing wider than the viewport (no sideways scrolling, nothing cut off)."""
    wide = page.evaluate("document.documentElement.scrollWidth")
    if wide > width:
        culprits = page.evaluate(
            """(w) => [...document.querySelectorAll('body *')]
                 .filter(e => e.getBoundingClientRect().right > w + 1)
                 .slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' +
                   Math.round(e.getBoundingClientRect().right))""",
            width,
        )
        raise AssertionError(f"{page.url} is {wide} px wide (> {width}): {culprits}")


def khmer_font_ready(page: Any) -> bool:
    """Whether the page's Khmer OS face (the package's font) is loaded and covers Khmer."""
    page.evaluate("document.fonts.ready.then(() => true)")
    loaded = page.evaluate(
        """[...document.fonts].some(f => f.family.replace(/"/g, '') === 'Khmer OS'
                                        && f.status === 'loaded')"""
    )
    checked = page.evaluate("""document.fonts.check('16px "Khmer OS"', 'ក')""")
    return bool(loaded and checked)


UI = "header nav a, main h2, main h3, main th, main dt, main label, main button, main legend"
_OWN_TEXT = """(selector) => [...document.querySelectorAll(selector)].map(e =>
  [...e.childNodes].filter(n => n.nodeType === Node.TEXT_NODE).map(n => n.textContent)
  .join(' ').replace(/\\s+/g, ' ').trim()).filter(t => /\\p{L}{2}/u.test(t))"""


def ui_text(page: Any) -> list[str]:
    """The page's own words: the text of navigation, headings, table heads, labels and
    buttons themselves (not what they hold: links, options, names are data)."""
    return [str(t) for t in page.evaluate(_OWN_TEXT, UI)]


KHMER = re.compile(r"[\u1780-\u17ff]")


def khmer_share(text: str) -> float:
    """The share of letters in ``text`` that are Khmer (0..1)."""
    letters = [c for c in text if c.isalpha() or KHMER.match(c)]
    if not letters:
        return 0.0
    return sum(1 for c in letters if KHMER.match(c)) / len(letters)


def first_tag(site: Site, school: str | None = None, **where: str) -> str:
    """A device's asset tag from the seeded data (e.g. ``kind="router"``, ``status="deployed"``)."""
    from sqlalchemy import text

    store = site.store()
    clauses = [f"d.{k} = :{k}" for k in where]  # the keys are the caller's column names
    if school:
        clauses.append("s.code = :school")
    sql = (
        "SELECT d.asset_tag FROM devices d JOIN schools s ON s.id = d.school_id"
        f" WHERE {' AND '.join(clauses) or 'TRUE'} ORDER BY d.asset_tag LIMIT 1"
    )
    try:
        with store.session() as s:
            found = s.execute(text(sql), {**where, "school": school}).scalar()
    finally:
        store.dispose()
    assert found, f"no device with {where}"
    return str(found)


def fake_site(context: Any, url: str, html: str) -> None:
    """Answer ``url`` inside the browser with ``html`` (another site's page; no network)."""
    context.route(url, lambda r: r.fulfill(status=200, content_type="text/html", body=html))


def logged_in_as(page: Any) -> str | None:
    """The user name the page header shows, or None (no session)."""
    found = page.locator("header .user")
    if found.count() == 0:
        return None
    return str(found.inner_text()).split()[0]


def device_row(site: Site, tag: str) -> dict[str, Any]:
    """The stored columns of device ``tag`` (to pick search terms the test knows)."""
    from sqlalchemy import text

    store = site.store()
    try:
        with store.session() as s:
            row = s.execute(text("SELECT * FROM devices WHERE asset_tag = :t"), {"t": tag})
            found = row.mappings().one()
    finally:
        store.dispose()
    return dict(found)
