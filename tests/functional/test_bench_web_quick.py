"""The web benchmark's smoke run: ``benchmarks/web_pages.py --quick`` generates its data into a
fresh folder, times the services and every page against a real ``itops server`` on PostgreSQL,
and ends without an error (exit status 2: a service raised, a page answered 5xx/403/…, a
traceback in the server log). Being slow on a loaded machine (status 1) is the full run's
verdict, not this test's.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.mark.timeout(600)
def test_web_benchmark_quick_runs_without_errors() -> None:
    # not under tmp_path: the cluster runs as 'postgres', which cannot enter pytest's 0700 folder
    base = Path(tempfile.mkdtemp(prefix="itops-bench-web-test-"))
    base.chmod(0o755)
    try:
        _runs_twice(base / "data")
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _runs_twice(data: Path) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "benchmarks/web_pages.py",
            "--quick",
            "--repeat",
            "2",
            "--data",
            str(data),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=580,
        check=False,
    )
    text = out.stdout + out.stderr
    assert out.returncode in (0, 1), text[-4000:]
    assert "generating into" in text  # a fresh folder: the generator ran, nothing cached
    assert "500 devices in 10 schools" in text
    assert "service (in-process)" in text and "current.overview()" in text, text[-3000:]
    assert "overview /" in text and "300 ms" in text
    # the pages the web core already serves answered 200 and were timed
    row = next(line for line in text.splitlines() if line.startswith("admin users "))
    assert " 200 " in row and ("PASS" in row or "FAIL" in row), row
    # the cached data is reused on a second run (no second generation)
    again = subprocess.run(
        [
            sys.executable,
            "benchmarks/web_pages.py",
            "--quick",
            "--services-only",
            "--repeat",
            "1",
            "--data",
            str(data),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert again.returncode in (0, 1), (again.stdout + again.stderr)[-3000:]
    assert "cached in" in again.stdout and "generating into" not in again.stdout


_BUCKETS = (
    "SELECT md5(string_agg(concat_ws(',', grain, device_id, probe, bucket_start, n_ok, n_warn, "
    "n_crit, n_unknown, rtt_count, round(rtt_sum::numeric, 3), loss_count, "
    "round(loss_sum::numeric, 3), rtt_sketch::text, last_up_at, last_at, last_status, "
    "last_reason, last_metrics::text), ';' ORDER BY grain, device_id, probe, bucket_start)), "
    "count(*) FROM probe_rollups"
)


def test_generated_buckets_equal_the_rollup_of_the_raw_results() -> None:
    """The benchmark COPYs rollup buckets beside the raw results (a rollup of 20 M results
    would take most of an hour); they must be exactly what RollupRepo.rollup() makes of them."""
    sys.path.insert(0, str(REPO / "benchmarks" / "lib"))
    import webbench as wb

    from kape_itops.reports import retention
    from kape_itops.store.db import Store

    base = Path(tempfile.mkdtemp(prefix="itops-bench-web-test-"))
    base.chmod(0o755)
    recipe = wb.Recipe(devices=120, schools=3, days=2, seed=5)
    try:
        pg, ready = wb.open_cluster(base / "data", recipe, log=lambda _line: None)
        assert not ready
        try:
            wb.generate(pg, recipe, log=lambda _line: None)
            generated = pg.psql_cmd(_BUCKETS, "-tA").strip()
            assert generated.endswith(tuple("123456789")), generated  # some buckets
            pg.psql_cmd("DELETE FROM probe_rollups")
            store = Store(pg.url("itops"))
            try:
                retention.rollup(store)  # from scratch, the project's own rollup
            finally:
                store.dispose()
            assert pg.psql_cmd(_BUCKETS, "-tA").strip() == generated
        finally:
            pg.stop()
    finally:
        shutil.rmtree(base, ignore_errors=True)
