"""Shared fixtures: databases on both backends, a migrated store, a CLI runner."""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from kape_itops.store.db import Store
from tests.support.postgres import PostgresServer
from tests.support.unprivileged import Unprivileged, unprivileged_runtime

REPO = Path(__file__).resolve().parent.parent
_counter = itertools.count()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One private PostgreSQL server for the whole session."""
    server = PostgresServer(Path(tempfile.mkdtemp(prefix="itops-pg-")))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database URL, once per backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'itops.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    name = f"itops_test_{next(_counter)}"
    url = server.create_database(name)
    yield url
    server.drop_database(name)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """An empty SQLite database URL (for tests that are not about the backend)."""
    return f"sqlite:///{tmp_path / 'itops.db'}"


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """A migrated store on each backend."""
    s = Store(db_url)
    s.upgrade()
    yield s
    s.dispose()


@pytest.fixture(scope="session")
def unprivileged() -> Iterator[Unprivileged]:
    """Runs ``itops`` as nobody/nogroup wherever the checkout lives (root and setpriv, else skip)."""
    yield from unprivileged_runtime()


@pytest.fixture
def runner() -> CliRunner:
    """A click runner."""
    return CliRunner()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """In CI (CI=true, root, every peer installed) a skip means a missing capability: fail it.

    Tests skip only where the machine cannot run them (no root, no network namespaces, no
    IPv6 loopback); CI must be able to, so no feature can hide behind such a skip there.
    """
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.skipped and os.environ.get("CI") == "true":
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where every capability must be present: {reason}"
