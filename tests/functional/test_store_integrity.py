"""The change log refuses every SQL form that rewrites it; asset tags are one tag ignoring case;
search text is literal. Both backends."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from kape_itops.domain.inventory import DeviceFilter
from kape_itops.errors import DataError, StoreError, UsageError, ValidationFailed
from kape_itops.inventory.importer import import_inventory
from kape_itops.inventory.service import Inventory
from kape_itops.store.db import Store
from kape_itops.store.inventory_repo import InventoryRepo
from tests.conftest import REPO
from tests.functional.test_store import seed

COLUMNS = "id, at, actor, entity, key, action, field, old, new, source"
ROW = "'2020-01-01 00:00:00', 'mallory', 'device', 'KAPE-0001', 'update', 'notes', NULL, 'x', 'sql'"
# every statement that would overwrite, remove or empty rows already in the change log
REWRITES = {
    "sqlite": [
        f"INSERT OR REPLACE INTO changes ({COLUMNS}) VALUES (1, {ROW})",
        f"REPLACE INTO changes ({COLUMNS}) VALUES (1, {ROW})",
        f"INSERT INTO changes ({COLUMNS}) VALUES (1, {ROW}) "
        "ON CONFLICT (id) DO UPDATE SET actor = excluded.actor",
        f"INSERT OR REPLACE INTO changes ({COLUMNS}) SELECT id, {ROW} FROM changes",
        "UPDATE OR REPLACE changes SET actor = 'mallory'",
        "UPDATE changes SET actor = 'mallory'",
        "DELETE FROM changes",
    ],
    "postgresql": [
        f"INSERT INTO changes ({COLUMNS}) VALUES (1, {ROW}) "
        "ON CONFLICT (id) DO UPDATE SET actor = excluded.actor",
        "MERGE INTO changes c USING (SELECT 1 AS id) s ON c.id = s.id "
        "WHEN MATCHED THEN UPDATE SET actor = 'mallory'",
        "MERGE INTO changes c USING (SELECT 1 AS id) s ON c.id = s.id WHEN MATCHED THEN DELETE",
        "TRUNCATE changes",
        "TRUNCATE changes CASCADE",
        "UPDATE changes SET actor = 'mallory'",
        "DELETE FROM changes",
    ],
}


def log_rows(store: Store) -> list[tuple[object, ...]]:
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(f"SELECT {COLUMNS} FROM changes ORDER BY id"))]


@pytest.mark.parametrize("form", range(7))
def test_change_log_refuses_every_rewrite(store: Store, form: int) -> None:
    seed(store)
    before = log_rows(store)
    statement = REWRITES[store.dialect][form]
    with pytest.raises(Exception, match="append-only"), store.engine.begin() as conn:
        conn.execute(text(statement))
    assert log_rows(store) == before


def test_change_log_still_takes_new_rows(store: Store) -> None:
    seed(store)
    before = log_rows(store)
    do_nothing = f"INSERT INTO changes ({COLUMNS}) VALUES (1, {ROW}) ON CONFLICT DO NOTHING"
    try:  # ignored (PostgreSQL) or refused (SQLite): either way nothing changes
        with store.engine.begin() as conn:
            conn.execute(text(do_nothing))
    except IntegrityError as exc:
        assert "append-only" in str(exc)
    assert log_rows(store) == before
    with store.engine.begin() as conn:
        conn.execute(text(f"INSERT INTO changes ({COLUMNS[4:]}) VALUES ({ROW})"))
    after = log_rows(store)
    assert after[: len(before)] == before and len(after) == len(before) + 1


def test_tags_differing_only_in_case_are_one_tag(store: Store) -> None:
    seed(store)
    inv = Inventory(store, "t")
    # edits address the device whatever the case; the log keeps the stored spelling
    changes = inv.set("kape-0001", {"notes": "lower-case address"})
    assert [(c.key, c.new) for c in changes] == [("KAPE-0001", "lower-case address")]
    with pytest.raises(UsageError, match="'kape-0002' is already in use as 'KAPE-0002'"):
        inv.set("KAPE-0001", {"new_asset_tag": "kape-0002"})
    assert [c.key for c in inv.set("KAPE-0001", {"new_asset_tag": "kape-0001"})] == ["kape-0001"]
    # tags are one whatever the case, so a look-up in another case finds the stored spelling
    assert inv.device("KAPE-0001").asset_tag == "kape-0001"
    # the database refuses a twin whatever path writes it
    with pytest.raises(DataError), store.session() as s:
        s.execute(text("UPDATE devices SET asset_tag = 'KAPE-0001' WHERE asset_tag = 'KAPE-0002'"))


@pytest.mark.parametrize(
    ("rows", "row", "column", "says"),
    [
        ("kape-0002,KPT-PSP,laptop,", 2, "asset_tag", "already used by device KAPE-0002"),
        ("KAPE-0001,,,kape-0002", 2, "new_asset_tag", "already used by device KAPE-0002"),
        ("NEW-1,KPT-PSP,laptop,\nnew-1,KPT-PSP,laptop,", 3, "asset_tag", "row 2 as NEW-1"),
    ],
)
def test_import_refuses_a_tag_differing_only_in_case(
    store: Store, tmp_path: Path, rows: str, row: int, column: str, says: str
) -> None:
    seed(store)
    path = tmp_path / "devices.csv"
    path.write_text(f"asset_tag,school,kind,new_asset_tag\n{rows}\n", encoding="utf-8")
    with pytest.raises(ValidationFailed) as caught:
        import_inventory(store, path, "t")
    [issue] = caught.value.issues
    assert (issue.row, issue.column) == (row, column) and says in issue.reason, issue
    with store.session() as s:
        assert InventoryRepo(s).count_devices() == 2


def test_import_renames_a_tag_to_another_case_of_itself(store: Store, tmp_path: Path) -> None:
    seed(store)
    path = tmp_path / "devices.csv"
    path.write_text(
        "asset_tag,school,kind,new_asset_tag\nKAPE-0001,,,kape-0001\n", encoding="utf-8"
    )
    import_inventory(store, path, "t")
    assert Inventory(store, "t").device("kape-0001").serial == "SN1"


def test_sample_inventory_has_no_tags_differing_only_in_case() -> None:
    with (REPO / "inventory" / "devices.csv").open(encoding="utf-8") as f:
        tags = [row["asset_tag"] for row in csv.DictReader(f)]
    assert len({t.lower() for t in tags}) == len(tags)


def test_upgrade_names_existing_tag_twins(tmp_path: Path) -> None:
    """A database holding case twins (allowed by schema 0001) is refused with their names."""
    from kape_itops.store.db import MIGRATIONS

    only_first = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, only_first, ignore=shutil.ignore_patterns("__pycache__"))
    for later in (only_first / "versions").glob("0[0-9][0-9][0-9]_*.py"):
        if not later.name.startswith("0001_"):
            later.unlink()
    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = Store(url, migrations=only_first)
    old.upgrade()
    seed(old)
    with old.session() as s:
        s.execute(text("UPDATE devices SET asset_tag = 'kape-0001' WHERE asset_tag = 'KAPE-0002'"))
    old.dispose()
    with pytest.raises(StoreError, match="KAPE-0001, kape-0001; rename them"):
        Store(url).upgrade()


@pytest.mark.parametrize(
    ("needle", "found"),
    [("_", ["KAPE-0001"]), ("%", ["KAPE-0001"]), ("0_0", []), ("b_ttery", []), ("a%y", [])],
)
def test_search_wildcards_are_literal(store: Store, needle: str, found: list[str]) -> None:
    seed(store)
    Inventory(store, "t").set("KAPE-0001", {"notes": "battery at 100% (lab_1)"})
    got = [d.asset_tag for d in Inventory(store, "t").devices(DeviceFilter(search=needle))]
    assert got == found
