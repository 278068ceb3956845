"""Web pages: with 25,000 devices and 30 days of results, every page renders in under 300 ms.

Usage: .venv/bin/python benchmarks/web_pages.py [--quick] [--repeat N] [--data DIR]
       [--generate-only] [--fresh] [--devices N --schools N --days N --seed N]

1. Data (generated once, kept in a PostgreSQL data folder under /var/tmp/kape-bench-web/ and
   reused while the recipe is the same; see benchmarks/lib/webbench.py): 25,000 devices in 500
   schools (rooms, kinds, Khmer names), one collector per school, 30 days of hourly pings of
   every deployed device and 6-hourly SNMP/ONVIF results (≈ 20 M results), their hourly and
   daily rollups, discovery sweeps with unknown devices, configuration backups and stored
   quotation evaluations.
2. A real ``itops server`` process on that PostgreSQL (127.0.0.1), a user made with
   ``itops server user add`` (password from ITOPS_USER_PASSWORD), logged in over HTTP.
3. Every page fetched N times (after one warm-up): the server's own time from the
   ``Server-Timing: app;dur=<ms>`` header and the client's wall time; p50, p95 and max, PASS or
   FAIL against 300 ms (the PDF report is shown, not held to it).
4. Side by side, the database's own cost: the SQL that answers the same question (e.g. the
   latest status of every device) run by ``psql`` with ``\\timing``.
Exit status 2 on an error (a service raised, a page answered other than 200 or 404 — a page
not written yet is listed as missing —, a traceback in the server log), 1 when a page or
service took 300 ms or more, else 0.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "lib"))

import syncbench as sb
import webbench as wb

from kape_itops.store.db import Store

DEFAULT_DATA = Path("/var/tmp/kape-bench-web")


def recipe_of(a: argparse.Namespace) -> wb.Recipe:
    if a.quick:
        return wb.Recipe(devices=500, schools=10, days=3, seed=a.seed)
    return wb.Recipe(devices=a.devices, schools=a.schools, days=a.days, seed=a.seed)


def prepare(
    folder: Path, recipe: wb.Recipe, measuring: bool, fresh: bool = False
) -> tuple[wb.CachedPostgres, dict[str, object]]:
    """The recipe's cluster, started (with slow-statement plans logged when ``measuring``),
    generated first when needed; a cached database is upgraded to the current schema."""
    pg, ready = wb.open_cluster(folder, recipe, explain=measuring, fresh=fresh)
    try:
        if ready:
            print(f"data:       cached in {folder}")
            store = Store(pg.url("itops"))
            store.upgrade()
            store.dispose()
        else:
            print(f"data:       generating into {folder} (once; reused while the recipe holds)")
            t = time.monotonic()
            facts = wb.generate(pg, recipe, lambda line: print(line, flush=True))
            facts["generated_s"] = round(time.monotonic() - t)
            wb.mark_ready(folder, recipe, facts)
            if measuring:
                pg.stop()
                pg = wb.CachedPostgres(folder, explain=True)
                pg.start()
    except BaseException:
        pg.stop()
        raise
    return pg, wb.facts_of(folder)


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--devices", type=int, default=25_000)
    ap.add_argument("--schools", type=int, default=500)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="500 devices, 10 schools, 3 days")
    ap.add_argument("--repeat", type=int, help="requests per page (default 20; --quick 3)")
    ap.add_argument("--data", type=Path, help=f"data folder (default under {DEFAULT_DATA})")
    ap.add_argument("--services-only", action="store_true", help="time the services, no pages")
    ap.add_argument("--pages-only", action="store_true", help="time the pages, not the services")
    ap.add_argument(
        "--fresh", action="store_true", help="generate anew (the results end at the current hour)"
    )
    ap.add_argument("--generate-only", action="store_true", help="make the data, measure nothing")
    a = ap.parse_args()
    try:
        sb.pg_bin()
    except RuntimeError as exc:
        print(f"web_pages: skipped ({exc})")
        return 0
    recipe = recipe_of(a)
    folder = a.data or DEFAULT_DATA / recipe.key
    print(
        f"== web pages: {recipe.devices:,} devices in {recipe.schools} schools, "
        f"{recipe.days} days of results ({sb.load()})"
    )
    pg, facts = prepare(folder, recipe, measuring=not a.generate_only, fresh=a.fresh)
    try:
        if a.generate_only:
            print(f"facts:      {facts}")
            return 0
        from webmeasure import measure

        return measure(
            pg,
            facts,
            a.repeat or (3 if a.quick else 20),
            services=not a.pages_only,
            pages_too=not a.services_only,
        )
    finally:
        pg.stop()


def run() -> int:
    """``main`` with every failure to run at all as exit status 2 (1 means: too slow)."""
    try:
        return main()
    except SystemExit as exc:
        if isinstance(exc.code, int) or exc.code is None:
            raise
        print(f"web_pages: {exc.code}", file=sys.stderr)
        return 2
    except Exception:
        traceback.print_exc()
        return 2


if __name__ == "__main__":
    raise SystemExit(run())
