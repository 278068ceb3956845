"""The web benchmark's measurement: a real ``itops server``, a logged-in user, every page timed.

Server time comes from the ``Server-Timing: app;dur=<ms>`` header (the web core's middleware:
request in to first response byte), client time from the wall clock around the request. Beside
each page the database's own cost: the SQL that answers the same question, run by ``psql``
(``\\timing``, the median of the same number of runs). PostgreSQL logs the plan of every
statement over 100 ms (auto_explain), to say why a page is slow.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import syncbench as sb
import webbench as wb
import webservices
from webpages import Page, baselines, pages, targets

from kape_itops.store.db import Store

LIMIT_MS = 300.0
USER, PASSWORD = "bench", "bench-password-for-pages-1"
_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
_TIMING = re.compile(r"app;dur=([0-9.]+)")


def psql_ms(pg: wb.CachedPostgres, sql: str, repeat: int) -> float:
    """Median of ``repeat`` runs of ``sql`` in one psql session (``\\timing``; a multi-statement
    line counts the sum of its statements)."""
    args = ["-c", "\\timing on"]
    for _ in range(repeat):
        args += ["-c", sql, "-c", "\\echo ---"]
    out = _psql(pg, args)
    runs, acc = [], 0.0
    for line in out.splitlines():
        if line.startswith("Time: "):
            acc += float(line.split()[1])
        elif line.strip() == "---":
            runs.append(acc)
            acc = 0.0
    return statistics.median(runs) if runs else float("nan")


def _psql(pg: wb.CachedPostgres, args: list[str]) -> str:
    out = subprocess.run(
        [str(pg.bin / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", pg.conninfo(), *args],
        check=True,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    return "\n".join(x for x in out.stdout.splitlines() if x.startswith("Time: ") or x == "---")


def login(client: httpx.Client) -> None:
    page = client.get("/login")
    found = _CSRF.search(page.text)
    form = {
        "name": USER,
        "password": PASSWORD,
        "next": "/",
        "csrf": found.group(1) if found else "",
    }
    answer = client.post("/login", data=form)
    if answer.status_code != 303:
        raise SystemExit(f"log-in failed: {answer.status_code} {answer.text[:300]}")


def add_user(url: str) -> None:
    """``itops server user add`` (or ``password`` when the cached database has the user)."""
    env = {**os.environ, "ITOPS_DB": url, "ITOPS_USER_PASSWORD": PASSWORD, "ITOPS_ACTOR": "bench"}
    for cmd in (["add", USER, "--role", "admin"], ["password", USER]):
        out = subprocess.run(
            [*sb.ITOPS, "server", "user", *cmd],
            env=env,
            cwd=sb.ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if out.returncode == 0:
            return
    raise SystemExit(f"itops server user add/password failed: {out.stderr[-500:]}")


def fetch(client: httpx.Client, page: Page, repeat: int) -> None:
    """One warm-up request, then ``repeat`` timed ones (3 when the warm-up took over 2 s, 1 over 10 s)."""
    i = 0
    while i <= repeat:
        t = time.perf_counter()
        answer = client.get(page.url)
        wall = (time.perf_counter() - t) * 1000
        page.status, page.size = answer.status_code, len(answer.content)
        if answer.status_code != 200:
            page.note = answer.text[:120].replace("\n", " ") if answer.status_code >= 500 else ""
            return
        found = _TIMING.search(answer.headers.get("server-timing", ""))
        if not i:
            page.first = float(found.group(1)) if found else wall
        if i:
            page.client.append(wall)
            page.server.append(float(found.group(1)) if found else wall)
            if not found:
                page.note = "no Server-Timing header: client time"
        elif wall > 2000:
            repeat = min(repeat, 1 if wall > 10_000 else 3)
        i += 1


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def data_facts(pg: wb.CachedPostgres) -> str:
    sql = (
        "SELECT (SELECT count(*) FROM devices), (SELECT count(*) FROM schools), "
        "(SELECT count(*) FROM ping_results), (SELECT count(*) FROM probe_results), "
        "(SELECT count(*) FROM probe_rollups), (SELECT count(*) FROM changes), "
        "pg_size_pretty(pg_database_size('itops'))"
    )
    dev, sch, ping, plain, roll, changes, size = pg.psql_cmd(sql, "-tA").strip().split("|")
    return (
        f"{int(dev):,} devices in {int(sch):,} schools; results {int(ping) + int(plain):,} "
        f"({int(ping):,} ping, {int(plain):,} SNMP/ONVIF); {int(roll):,} rollup buckets; "
        f"{int(changes):,} change-log rows; database {size}"
    )


def measure(
    pg: wb.CachedPostgres,
    facts: dict[str, Any],
    repeat: int,
    services: bool = True,
    pages_too: bool = True,
) -> int:
    """Time the services in-process, then every page; print the tables; 1 when one fails."""
    url = pg.url("itops")
    print(f"data:       {data_facts(pg)}; generated {facts.get('end', '?')} (end of the results)")
    end = dt.datetime.fromisoformat(str(facts.get("end")))
    age_h = (dt.datetime.now(dt.UTC) - end).total_seconds() / 3600
    if age_h > 6:
        print(
            f"WARNING:    the results end {age_h:.0f} h ago: the pages see stale devices "
            "(no data), not a live fleet; --fresh generates anew"
        )
    print(f"machine:    {sb.load()} at the start of the measurement")
    store = Store(url)
    try:
        made = webservices.seed_procurement(store, wb.ROOT)
    finally:
        store.dispose()
    if made:
        print(
            f"quotes:     {made} RFQs made through the Procurement service (forms uploaded, evaluated)"
        )
    t = targets(pg)
    since_s = int((dt.datetime.now(dt.UTC) - dt.timedelta(days=30)).timestamp())
    sqls = baselines(t, since_s)
    slow = errors = 0
    if services:
        store = Store(url)
        try:
            slow, errors = webservices.run(store, t, max(3, repeat // 4))
        finally:
            store.dispose()
    if not pages_too:
        return 2 if errors else 1 if slow else 0
    if "report_cache" in pg.psql_cmd("SELECT tablename FROM pg_tables", "-tA"):
        pg.psql_cmd("DELETE FROM report_cache")
        print("reports:    report cache emptied: a report's first request builds it ('first')")
    add_user(url)
    work = Path(tempfile.mkdtemp(prefix="itops-bench-web-"))
    todo = pages(t)
    try:
        with sb.itops_server(url, work) as (base, _proc, log):
            with httpx.Client(base_url=base, timeout=300) as client:
                login(client)
                for page in todo:
                    fetch(client, page, repeat if page.held else max(1, repeat // 5))
                    print(f"  {page.label}: {page.status} {_summary(page)}", flush=True)
            server_log = log.read_text(errors="replace")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    db_ms = {name: psql_ms(pg, sql, repeat) for name, sql in sqls.items()}
    return max(report(todo, db_ms, server_log), 2 if errors else 1 if slow else 0)


def _summary(page: Page) -> str:
    if not page.server:
        return page.note
    return f"p50 {statistics.median(page.server):.0f} ms, {page.size / 1024:.0f} KiB"


def report(todo: list[Page], db_ms: dict[str, float], server_log: str) -> int:
    """Print the pages' table: exit status 2 on an error (HTTP status other than 200 or 404,
    a traceback in the server log), 1 when a page is over 300 ms, else 0."""
    w = 46
    print(
        f"{'page':{w}} {'HTTP':>4} {'first':>7} {'p50':>7} {'p95':>7} {'max':>7} {'client':>7} "
        f"{'KiB':>6} {'SQL ms':>7} {'ratio':>6}  300 ms"
    )
    slow = errors = 0
    for p in todo:
        if not p.server:
            verdict = "missing" if p.status == 404 else "ERROR"
            if p.refusal and p.status == p.refusal:
                verdict = f"refused ({p.status}, by design)"
            errors += verdict == "ERROR"
            print(
                f"{p.label[:w]:{w}} {p.status:>4} {'':>7} {'':>7} {'':>7} {'':>7} {'':>7} {'':>6} {'':>7} {'':>6}  {verdict} {p.note}"
            )
            continue
        p50, hi = statistics.median(p.server), p95(p.server)
        ok = max(p.server) < LIMIT_MS if p.held else True
        verdict = ("PASS" if ok else "FAIL") if p.held else "(not held)"
        slow += not ok
        db = db_ms.get(p.baseline or "", float("nan"))
        ratio = f"{p50 / db:.1f}x" if db == db and db > 0 else ""
        dbs = f"{db:.1f}" if db == db else ""
        print(
            f"{p.label[:w]:{w}} {p.status:>4} {p.first:>7.0f} {p50:>7.1f} {hi:>7.1f} {max(p.server):>7.1f} "
            f"{statistics.median(p.client):>7.1f} {p.size / 1024:>6.0f} {dbs:>7} {ratio:>6}  {verdict} {p.note}"
        )
    print(
        "SQL ms: the database's own time for the page's main question via psql (\\timing, median):"
    )
    for name, ms in db_ms.items():
        print(f"  {name}: {ms:.1f} ms")
    log = server_log.splitlines()
    lines = [i for i, x in enumerate(log) if "Traceback" in x or " 500 " in x]
    if lines:
        first = next((i for i in lines if "Traceback" in log[i]), lines[0])
        end = next((j for j in range(first + 1, len(log)) if log[j][:1] not in (" ", "")), first)
        shown = "\n    ".join(log[max(first, end - 6) : end + 1])
        print(f"server log: {len(lines)} error lines; the first ends:\n    {shown}")
    return 2 if errors or lines else 1 if slow else 0
