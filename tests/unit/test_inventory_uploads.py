"""Uploads kept between an import's preview and its confirm: private, capped, owned, expiring."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from kape_itops.errors import NotFoundError, UsageError
from kape_itops.inventory import uploads
from kape_itops.inventory.uploads import UploadStore, UploadTooLarge, file_name


def test_names_are_made_safe_and_the_type_is_kept() -> None:
    assert file_name("../../etc/devices.CSV") == "devices.csv"
    assert file_name("C:\\Users\\dara\\ឧបករណ៍.xlsx") == "______.xlsx"
    assert file_name("inv<script>.json") == "inv_script_.json"
    assert file_name(".csv") == "upload.csv"
    for bad in ("devices.exe", "devices", "devices.csv.sh"):
        with pytest.raises(UsageError, match="unsupported file type"):
            file_name(bad)


def test_an_upload_is_private_owned_and_checked(tmp_path: Path) -> None:
    store = UploadStore(tmp_path / "up")
    assert stat.S_IMODE((tmp_path / "up").stat().st_mode) == 0o700
    kept = store.save("sokha", "devices.csv", [b"asset_tag\n", b"D1\n"])
    assert kept.size == 13 and kept.path.read_bytes() == b"asset_tag\nD1\n"
    assert store.get(kept.id, "sokha") == kept
    for upload_id, owner in ((kept.id, "dara"), ("../" + kept.id, "sokha"), ("x" * 32, "sokha")):
        with pytest.raises(NotFoundError):
            store.get(upload_id, owner)
    kept.path.write_bytes(b"asset_tag\nD2\n")  # changed behind our back
    with pytest.raises(NotFoundError):
        store.get(kept.id, "sokha")
    store.discard(kept.id)
    assert list((tmp_path / "up").iterdir()) == []


def test_too_large_keeps_nothing(tmp_path: Path) -> None:
    store = UploadStore(tmp_path, max_bytes=10)
    with pytest.raises(UploadTooLarge, match="ITOPS_MAX_FILE_MB"):
        store.save("sokha", "devices.csv", iter([b"12345", b"67890", b"1"]))
    assert list(tmp_path.iterdir()) == []


def test_old_uploads_expire_and_few_are_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = UploadStore(tmp_path, ttl_s=60)
    old = store.save("sokha", "a.csv", [b"x"])
    os.utime(old.path.parent, (0, 0))
    with pytest.raises(NotFoundError):  # the recorded time is checked too
        UploadStore(tmp_path, ttl_s=-1).get(old.id, "sokha")
    assert store.prune() == 1 and not old.path.exists()
    monkeypatch.setattr(uploads, "MAX_KEPT", 3)
    ids = [store.save("sokha", f"{n}.csv", [b"x"]).id for n in range(5)]
    assert len(list(tmp_path.iterdir())) == 3
    assert store.get(ids[-1], "sokha").name == "4.csv"


def test_a_shared_folder_is_refused(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to make a folder owned by another user")
    other = tmp_path / "other"
    other.mkdir()
    os.chown(other, 65534, 65534)
    with pytest.raises(Exception, match="not a folder of this user"):
        UploadStore(other)
