"""User accounts belong to the database they were made in: a site that has accounts (a laptop
serving its own pages) never pushes their change-log entries, which the server would refuse."""

from __future__ import annotations

from pathlib import Path

from argon2 import PasswordHasher

from kape_itops.accounts.service import Accounts
from kape_itops.inventory.service import Inventory
from kape_itops.store.db import Store
from tests.functional.sync_site_data import SCHOOL, join, seed_inventory, server_for


def test_user_changes_stay_at_the_site_and_the_backlog_empties(
    sqlite_url: str, tmp_path: Path
) -> None:
    site_store, server_store = Store(sqlite_url), Store(f"sqlite:///{tmp_path / 'server.db'}")
    try:
        for s in (site_store, server_store):
            s.upgrade()
        server = server_for(server_store, 2)
        seed_inventory(site_store, 2)
        site, transport = join(site_store, server, tmp_path / "secrets.toml")
        cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
        accounts = Accounts(site_store, "officer", hasher=cheap)
        accounts.add("dara", "admin", "correct horse battery")
        Inventory(site_store, "officer").set(f"{SCHOOL}-001", {"notes": "by the door"})
        accounts.add("vanna", "viewer", "correct horse battery")
        report = site.sync(transport)
        assert report.error is None, report.error
        assert report.push.backlog == 0
        assert site.status().backlog == {"changes": 0, "runs": 0, "sweeps": 0, "backups": 0}
        server_log = Inventory(server_store, "x").history()
        assert "user" not in {c.entity for c in server_log}
        assert "by the door" in {c.new for c in server_log}
    finally:
        site_store.dispose()
        server_store.dispose()
