"""atomic_write: all or nothing, the old file kept on any failure, one clear error."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

from kape_itops.atomic import (
    atomic_write,
    copy_file,
    output_folder,
    require_folder,
    write_bytes,
    write_text,
)
from kape_itops.errors import OutputError
from tests.hostile.outputs import digests, fill, leftovers, remount_read_only, tmpfs


def test_replaces_the_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old")
    with atomic_write(target, newline="") as fh:
        fh.write("a,b\r\n")
        assert target.read_text() == "old"  # nothing visible before the rename
    assert target.read_bytes() == b"a,b\r\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_an_exception_in_the_body_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    target.write_text("the old report")
    with pytest.raises(RuntimeError, match="boom"), atomic_write(target) as fh:
        fh.write("half a rep")
        raise RuntimeError("boom")
    assert target.read_text() == "the old report"
    assert leftovers(tmp_path) == []


def test_mode_is_kept_given_or_from_the_umask(tmp_path: Path) -> None:
    kept = tmp_path / "kept"
    kept.write_text("x")
    kept.chmod(0o640)
    write_text(kept, "y")
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640
    secret = tmp_path / "secret"
    write_text(secret, "s", perms=0o600)
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    old = os.umask(0o027)
    try:
        write_bytes(tmp_path / "new", b"n")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o640


def test_a_symlink_is_replaced_not_written_through(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious")
    link = tmp_path / "out.html"
    link.symlink_to(victim)
    write_text(link, "report")
    assert victim.read_text() == "precious"
    assert not link.is_symlink() and link.read_text() == "report"


def test_missing_folder_is_named_and_nothing_is_created(tmp_path: Path) -> None:
    target = tmp_path / "no" / "such" / "out.xlsx"
    with pytest.raises(OutputError, match=r"folder .*no/such does not exist$"):
        write_bytes(target, b"x")
    with pytest.raises(OutputError, match=r"folder .*no/such does not exist$"):
        require_folder(target)
    assert not (tmp_path / "no").exists()
    (tmp_path / "file").write_text("")
    with pytest.raises(OutputError, match="file is not a folder"):
        write_text(tmp_path / "file" / "x", "")
    with pytest.raises(OutputError, match="it is a folder"):
        write_text(tmp_path, "")


def test_make_parents_is_for_the_tools_own_folders(tmp_path: Path) -> None:
    target = tmp_path / ".itops-lab" / "deep" / "state.json"
    write_text(target, "{}", make_parents=True)
    assert target.read_text() == "{}"


def test_output_folder_creates_one_level_only(tmp_path: Path) -> None:
    assert output_folder(tmp_path / "out").is_dir()
    assert output_folder(tmp_path / "out").is_dir()  # again: fine
    with pytest.raises(OutputError, match=r"cannot create folder .*: folder .*a does not exist"):
        output_folder(tmp_path / "a" / "b")
    (tmp_path / "f").write_text("")
    with pytest.raises(OutputError, match="it is a file, not a folder"):
        output_folder(tmp_path / "f")


def test_copy_file(tmp_path: Path) -> None:
    (tmp_path / "src").write_bytes(b"\x00\x01" * 1000)
    copy_file(tmp_path / "src", tmp_path / "dst")
    assert (tmp_path / "dst").read_bytes() == b"\x00\x01" * 1000


def test_only_w_and_wb(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="'w' or 'wb'"):
        atomic_write(tmp_path / "x", "a")  # type: ignore[call-overload]


def test_full_disk_keeps_the_old_file_and_says_so(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "disk") as disk:
        old = disk / "export.csv"
        old.write_text("tag,funding\r\nA-1,Japan Embassy Grassroots 2024\r\n")
        fill(disk)
        before = digests(disk)
        with pytest.raises(OutputError) as err:
            write_text(old, "tag,funding\r\n" + "A-2,Japan Embassy Grassroots 2024\r\n" * 500)
        assert str(err.value) == (
            f"cannot write {old}: no space left on the disk; the old file is unchanged"
        )
        new = disk / "new.html"
        with pytest.raises(OutputError, match="no space left on the disk; nothing was written"):
            write_text(new, "<p>" * 10000)
        assert digests(disk) == before and not new.exists() and leftovers(disk) == []


def test_read_only_disk_is_said(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "disk") as disk:
        (disk / "labels.html").write_text("old labels")
        remount_read_only(disk)
        with pytest.raises(OutputError, match="the file system is read-only; the old file"):
            write_text(disk / "labels.html", "new labels")
        assert (disk / "labels.html").read_text() == "old labels"


def test_errors_raised_by_the_body_are_not_mistaken_for_the_output(tmp_path: Path) -> None:
    def reading_elsewhere() -> None:
        raise FileNotFoundError(errno.ENOENT, "No such file", "template.j2")

    with pytest.raises(FileNotFoundError), atomic_write(tmp_path / "out") as fh:
        fh.write("x")
        reading_elsewhere()
    assert not (tmp_path / "out").exists() and leftovers(tmp_path) == []


def test_root_hands_a_rewritten_file_back_to_its_owner(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to own files as another user")
    target = tmp_path / "units.timer"
    target.write_text("old")
    os.chown(target, 65534, 65534)
    write_text(target, "new")
    st = target.stat()
    assert (st.st_uid, st.st_gid, target.read_text()) == (65534, 65534, "new")
