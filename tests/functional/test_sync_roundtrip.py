"""Site and server together (in process, LocalTransport), on both backends: edits from two
places end as one value plus a conflict on both sides, another school's data is refused end to
end, and a bundle carried by hand is applied once (a later sync sends nothing twice); tampered
and foreign bundles change nothing."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from kape_itops.domain.enums import DeviceKind
from kape_itops.domain.inventory import ChangeContext, DeviceUpsert, SchoolUpsert
from kape_itops.errors import BundleError, ForbiddenError
from kape_itops.inventory.service import Inventory
from kape_itops.store.db import Store
from kape_itops.store.inventory_repo import InventoryRepo
from kape_itops.store.models import SyncEventRow
from kape_itops.sync.local import LocalTransport
from kape_itops.sync.server import SyncServer
from kape_itops.sync.site import SyncSite
from tests.functional.sync_site_data import (
    SCHOOL,
    T0,
    add_backup,
    add_runs,
    add_sweep,
    join,
    seed_inventory,
    server_counts,
    server_for,
    site_counts,
)
from tests.functional.test_sync_site import stores  # noqa: F401  (the fixture)

Linked = tuple[SyncSite, LocalTransport, SyncServer, Store, Store]


@pytest.fixture
def linked(stores: tuple[Store, Store], tmp_path: Path) -> Linked:  # noqa: F811
    site_store, server_store = stores
    server = server_for(server_store, 3)
    names = seed_inventory(site_store, 3)
    site, transport = join(site_store, server, tmp_path / "secrets.toml")
    assert site.sync(transport).error is None  # in step before the test's records
    add_runs(site_store, names, 4)
    add_sweep(site_store, T0 + dt.timedelta(hours=1), names)
    add_backup(site_store, names[0], T0 + dt.timedelta(hours=2), "hostname r1\n")
    return site, transport, server, site_store, server_store


def _notes(store: Store, tag: str) -> str | None:
    return Inventory(store, "x").device(tag).notes


def test_an_edit_on_both_sides_keeps_the_later_and_a_conflict_on_both(linked: Linked) -> None:
    site, transport, server, site_store, server_store = linked
    tag = f"{SCHOOL}-002"
    Inventory(server_store, "admin").set(tag, {"notes": "server says"})
    Inventory(site_store, "officer").set(tag, {"notes": "site says"})  # later: it wins
    Inventory(site_store, "officer").set(f"{SCHOOL}-003", {"room": "Library"})  # no clash
    report = site.sync(transport)
    assert report.error is None
    assert [(c.kept, c.other) for c in report.push.conflicts] == [("site says", "server says")]
    assert _notes(server_store, tag) == "site says" == _notes(site_store, tag)
    assert Inventory(server_store, "x").device(f"{SCHOOL}-003").room == "Library"
    mine, theirs = site.conflicts(), server.conflicts(SCHOOL)
    assert [(c.field, c.kept, c.other) for c in mine] == [("notes", "site says", "server says")]
    assert [(c.field, c.kept, c.other) for c in theirs] == [
        (c.field, c.kept, c.other) for c in mine
    ]
    # the other way round: an older site edit loses, and the pull brings the server's value
    Inventory(site_store, "officer").set(tag, {"notes": "older site edit"})
    Inventory(server_store, "admin").set(tag, {"notes": "newer server edit"})
    again = site.sync(transport)
    assert [(c.kept, c.other) for c in again.push.conflicts] == [
        ("newer server edit", "older site edit")
    ]
    assert _notes(server_store, tag) == "newer server edit" == _notes(site_store, tag)
    assert len(server.conflicts()) == 2 and len(site.conflicts()) == 2
    assert site.sync(transport).push.batches == 0  # nothing pulled is ever sent back


def test_results_of_another_schools_device_are_refused_end_to_end(linked: Linked) -> None:
    site, transport, _, site_store, server_store = linked
    ctx = ChangeContext("admin", "test", T0)
    with server_store.write() as s:  # the server knows the tag as another school's device
        repo = InventoryRepo(s)
        repo.apply_schools([SchoolUpsert("KEP-OTHER", {"name": "Other"})], ctx)
        repo.apply_devices(
            [DeviceUpsert("KEP-OTHER-001", {"kind": DeviceKind.ROUTER, "school": "KEP-OTHER"})],
            ctx,
        )
    with site_store.write() as s:  # ... and the site's database holds it as its own
        InventoryRepo(s).apply_devices(
            [DeviceUpsert("KEP-OTHER-001", {"kind": DeviceKind.ROUTER, "school": SCHOOL})],
            ChangeContext("officer", "pulled by mistake", T0),
        )
    before = server_counts(server_store)
    with pytest.raises(ForbiddenError, match="KEP-OTHER"):
        site.sync(transport)
    assert server_counts(server_store) == before
    with server_store.session() as s:
        refused = s.scalars(select(SyncEventRow.detail).where(SyncEventRow.kind == "refused"))
        assert any("KEP-OTHER-001" in d for d in refused)


def test_a_bundle_is_applied_once_and_a_later_sync_sends_nothing_twice(
    linked: Linked, tmp_path: Path
) -> None:
    site, transport, server, site_store, server_store = linked
    Inventory(site_store, "officer").set(f"{SCHOOL}-001", {"notes": "from the usb stick"})
    out = site.export(tmp_path / "kep.bundle").path
    first = server.import_bundle(out)
    assert sum(first.committed.values()) > 0
    mine, theirs = site_counts(site_store), server_counts(server_store)
    assert {k: theirs[k] for k in ("runs", "results", "sweeps", "backups")} == {
        k: mine[k] for k in ("runs", "results", "sweeps", "backups")
    }
    assert _notes(server_store, f"{SCHOOL}-001") == "from the usb stick"
    second = server.import_bundle(out)
    assert sum(second.committed.values()) == 0 and server_counts(server_store) == theirs
    report = site.sync(transport)  # the hello's marks move the cursors: nothing is resent
    assert report.error is None and report.push.batches == 0
    assert server_counts(server_store) == theirs


def test_tampered_and_foreign_bundles_change_nothing(linked: Linked, tmp_path: Path) -> None:
    site, _, server, _, server_store = linked
    out = site.export(tmp_path / "kep.bundle").path
    head, body = out.read_bytes().split(b"\n", 1)
    lines = gzip.decompress(body).splitlines()
    doc = json.loads(lines[-1])
    doc["items"] = doc["items"][:-1]  # a record dropped on the way
    tampered = tmp_path / "tampered.bundle"
    changed = b"\n".join([*lines[:-1], json.dumps(doc).encode()]) + b"\n"
    tampered.write_bytes(head + b"\n" + gzip.compress(changed))
    header = json.loads(head)
    header["site"] = "6f1d8a52-0000-4000-8000-00000000beef"
    foreign = tmp_path / "foreign.bundle"
    foreign.write_bytes(json.dumps(header).encode() + b"\n" + body)
    truncated = tmp_path / "truncated.bundle"
    truncated.write_bytes(out.read_bytes()[: len(head) + 1 + len(body) // 2])
    before = server_counts(server_store)
    for path, why in (
        (tampered, "checksum"),
        (foreign, "foreign bundle"),
        (truncated, "checksum"),
    ):
        with pytest.raises(BundleError, match=why):
            server.import_bundle(path)
    assert server_counts(server_store) == before


def test_a_bundle_changed_after_its_check_is_not_what_gets_applied(
    linked: Linked, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file is verified and applied from one private copy: a bundle on a USB stick that
    changes between the two reads (here: overwritten right after the check) cannot slip in."""
    from kape_itops.sync import bundle

    site, _, server, site_store, server_store = linked
    out = site.export(tmp_path / "kep.bundle").path
    head, body = out.read_bytes().split(b"\n", 1)
    lines = gzip.decompress(body).splitlines()
    doc = json.loads(lines[-1])
    doc["items"] = doc["items"][:-1]  # what an attacker swaps in after the check
    swapped = head + b"\n" + gzip.compress(b"\n".join([*lines[:-1], json.dumps(doc).encode()]))
    checked = bundle.verify

    def verify_then_swap(path: Path, public_key: str) -> bundle.BundleHeader:
        got = checked(path, public_key)
        out.write_bytes(swapped)
        return got

    monkeypatch.setattr(bundle, "verify", verify_then_swap)
    server.import_bundle(out)
    mine, theirs = site_counts(site_store), server_counts(server_store)
    assert {k: theirs[k] for k in ("runs", "results", "sweeps", "backups")} == {
        k: mine[k] for k in ("runs", "results", "sweeps", "backups")
    }
    assert out.read_bytes() == swapped  # the swap did happen


def test_an_unreadable_bundle_is_named(linked: Linked, tmp_path: Path) -> None:
    _, _, server, _, _ = linked
    with pytest.raises(BundleError, match=r"missing\.bundle: cannot be read"):
        server.import_bundle(tmp_path / "missing.bundle")
