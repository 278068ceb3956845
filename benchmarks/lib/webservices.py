"""The services behind the web pages, timed in-process on the benchmark's database.

The pages call these (``Reports.current()`` for the overview, problems, school and device
pages, ``Inventory.search``, the monthly report, the stored evaluations); timing them directly
says which part of a slow page is the service and which the template, and works before the
pages exist. A service the working tree does not have (yet) is listed as missing.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kape_itops.store.db import Store

LIMIT_MS = 300.0


def calls(store: Store, t: Any) -> list[tuple[str, Callable[[], object]]]:
    """(label, call) of every service a page uses; ``t`` is the benchmark's Targets."""
    from kape_itops.reports.service import Reports

    reports = Reports(store)
    out: list[tuple[str, Callable[[], object]]] = []
    zone = dt.UTC
    if hasattr(reports, "current"):
        from kape_itops.reports.views import ProblemFilter

        now = reports.current(zone)
        out += [
            ("current.overview()", now.overview),
            ("current.problems(all)", lambda: now.problems(ProblemFilter())),
            ("current.problems(school)", lambda: now.problems(ProblemFilter(school=t.school))),
            ("current.school(largest)", lambda: now.school(t.school)),
            ("current.school(largest, 30d)", lambda: now.school(t.school, "30d")),
            ("current.device(router)", lambda: now.device(t.router)),
            ("current.device(camera)", lambda: now.device(t.camera)),
        ]
    from kape_itops.inventory.service import Inventory

    inv = Inventory(store, "bench")
    if hasattr(inv, "search"):
        out += [
            ("Inventory.search('')", lambda: inv.search("")),
            ("Inventory.search('kpt')", lambda: inv.search("kpt")),
            ("Inventory.search(serial)", lambda: inv.search(t.serial)),
            ("Inventory.search(MAC)", lambda: inv.search(t.mac.upper())),
        ]
    from kape_itops.quotes.service import Evaluations

    ev = Evaluations(store)
    out += [("Evaluations.newest(50)", lambda: ev.newest(50))]
    if hasattr(reports, "monthly"):
        from kape_itops.reports.build import ReportOptions

        month = dt.date.fromisoformat(t.month + "-01")
        out += [
            (
                "Reports.monthly(school)",
                lambda: reports.monthly(month, ReportOptions(school=t.school)),
            ),
            ("Reports.monthly(all)", lambda: reports.monthly(month, ReportOptions())),
        ]
    return out


def run(store: Store, t: Any, repeat: int) -> tuple[int, int]:
    """Time each call (one warm-up, then ``repeat`` runs; slow calls fewer); print a table;
    returns (calls over 300 ms, calls that raised)."""
    print(f"{'service (in-process)':40} {'p50 ms':>8} {'max ms':>8}  300 ms")
    slow = errors = 0
    for label, call in calls(store, t):
        times: list[float] = []
        try:
            for i in range(repeat + 1):
                start = time.perf_counter()
                call()
                ms = (time.perf_counter() - start) * 1000
                if i:
                    times.append(ms)
                if ms > 5000 and len(times) >= 1:
                    break
        except Exception as exc:  # a service in flux in the working tree: say so, go on
            last = traceback.format_exception_only(exc)[-1].strip()
            print(f"{label:40} {'error':>8} {'':>8}  FAIL {last[:120]}")
            errors += 1
            continue
        if not times:
            times = [ms]
        ok = max(times) < LIMIT_MS
        slow += not ok
        print(
            f"{label:40} {statistics.median(times):>8.1f} {max(times):>8.1f}  "
            f"{'PASS' if ok else 'FAIL'}",
            flush=True,
        )
    return slow, errors


def seed_procurement(store: Store, root: Path, rounds: int = 3) -> int:
    """RFQs through the Procurement service (form values from each sample ``quotes/*/rfq.yaml``,
    the samples' vendor forms uploaded, the evaluation recorded), unless RFQs exist; how many."""
    from sqlalchemy import text

    from kape_itops.quotes.procurement import Procurement
    from tests.support.procurement import form_of

    with store.session() as s:
        if int(s.execute(text("SELECT count(*) FROM rfqs")).scalar_one()):
            return 0
    service = Procurement(store, "reviewer", source="web (benchmark)")
    made = 0
    for n in range(rounds):
        for folder in sorted((root / "quotes").iterdir()):
            path = folder / "rfq.yaml"
            if not path.is_file():
                continue
            values, lines = form_of(path)  # the same form the tests fill in
            values["rfq"] = f"{values['rfq']}-{n + 1}"
            try:
                rfq_id = service.create_rfq(values, lines)
                files = [(f.name, f.read_bytes()) for f in sorted(folder.glob("*.xlsx"))]
                service.upload(rfq_id, files)
                service.record(rfq_id)
            except Exception as exc:  # a sample made to fail, or the service changed: go on
                print(f"  RFQ {values['rfq']} not made: {str(exc)[:120]}")
                continue
            made += 1
    return made
