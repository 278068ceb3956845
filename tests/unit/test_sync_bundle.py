"""Sync bundles: signed header + gzip JSON lines, written and read streaming."""

from __future__ import annotations

import gzip
import json
import stat
from pathlib import Path
from typing import Any

import pytest

from kape_itops.domain.sync import BUNDLE_FORMAT
from kape_itops.errors import BundleError, OutputError
from kape_itops.limits import Limits
from kape_itops.sync import bundle, keys


def _batches(n: int) -> list[dict[str, Any]]:
    return [
        {"stream": "runs" if i % 2 else "changes", "items": [{"id": i}, {"id": i + 100}], "last": i}
        for i in range(n)
    ]


@pytest.fixture
def signed(tmp_path: Path) -> tuple[Path, str]:
    private, public = keys.new_key_pair()
    out = tmp_path / "site.bundle"
    info = bundle.write_bundle(
        out, iter(_batches(5)), site="u-1", school="KEP", signing_key=private
    )
    assert info.batches == 5
    assert info.records == {"changes": 6, "runs": 4}
    assert info.bytes == out.stat().st_size
    return out, public


def test_round_trip(signed: tuple[Path, str]) -> None:
    path, public = signed
    header = bundle.verify(path, public)
    assert header.site == "u-1" and header.school == "KEP" and header.batches == 5
    assert header.fields["format"] == BUNDLE_FORMAT
    assert list(bundle.iter_batches(path)) == _batches(5)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_header_is_one_json_line_and_body_gzip(signed: tuple[Path, str]) -> None:
    path, _ = signed
    raw = path.read_bytes()
    line, body = raw.split(b"\n", 1)
    assert json.loads(line)["batches"] == 5
    lines = gzip.decompress(body).decode().splitlines()
    assert [json.loads(x) for x in lines] == _batches(5)


def test_another_key_is_refused(signed: tuple[Path, str]) -> None:
    path, _ = signed
    with pytest.raises(BundleError, match="signature does not match"):
        bundle.verify(path, keys.new_key_pair()[1])


def test_a_changed_header_is_refused(signed: tuple[Path, str]) -> None:
    path, public = signed
    line, body = path.read_bytes().split(b"\n", 1)
    doc = json.loads(line)
    doc["school"] = "OTHER"
    path.write_bytes(json.dumps(doc).encode() + b"\n" + body)
    with pytest.raises(BundleError, match=str(path)):
        bundle.verify(path, public)


def test_a_changed_body_is_refused(signed: tuple[Path, str]) -> None:
    path, public = signed
    line, body = path.read_bytes().split(b"\n", 1)
    rest = gzip.decompress(body).replace(b'"id":3', b'"id":9')
    path.write_bytes(line + b"\n" + gzip.compress(rest))
    with pytest.raises(BundleError, match="checksum"):
        bundle.verify(path, public)


def test_a_truncated_bundle_is_refused(signed: tuple[Path, str]) -> None:
    path, public = signed
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 20])
    with pytest.raises(BundleError, match="checksum"):
        bundle.verify(path, public)
    with pytest.raises(BundleError, match="damaged"):
        list(bundle.iter_batches(path))


@pytest.mark.parametrize(
    "content",
    [b"", b"not json\n", b"[]\n", b'{"format": "other"}\n', b"x" * (70 * 1024), b"{}"],
)
def test_not_a_bundle(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "junk"
    path.write_bytes(content)
    with pytest.raises(BundleError, match="not a sync bundle"):
        bundle.read_header(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="cannot read"):
        bundle.read_header(tmp_path / "nope")


def test_batch_count_must_match_header(tmp_path: Path) -> None:
    private, public = keys.new_key_pair()
    path = tmp_path / "b"
    bundle.write_bundle(path, _batches(2), site="u", school="S", signing_key=private)
    line, body = path.read_bytes().split(b"\n", 1)
    doc = json.loads(line)
    doc["batches"] = 3
    del doc["signature"]
    doc["signature"] = keys.sign_json(private, doc)
    path.write_bytes(json.dumps(doc).encode() + b"\n" + body)
    bundle.verify(path, public)
    with pytest.raises(BundleError, match="holds 2 batches"):
        list(bundle.iter_batches(path))


def test_an_oversized_line_is_refused(tmp_path: Path) -> None:
    private, _ = keys.new_key_pair()
    path = tmp_path / "b"
    big = [{"stream": "runs", "items": [{"note": "x" * (2 * 1024 * 1024)}], "last": 1}]
    bundle.write_bundle(path, big, site="u", school="S", signing_key=private)
    with pytest.raises(BundleError, match="ITOPS_MAX_SYNC_MB"):
        list(bundle.iter_batches(path, Limits(max_sync_mb=1)))


def test_write_reads_batches_lazily(tmp_path: Path) -> None:
    """The writer consumes a generator one batch at a time (bounded memory)."""
    private, public = keys.new_key_pair()
    made: list[int] = []

    def gen() -> Any:
        for i in range(3):
            made.append(i)
            yield {"stream": "runs", "items": [], "last": i}

    info = bundle.write_bundle(tmp_path / "b", gen(), site="u", school="S", signing_key=private)
    assert made == [0, 1, 2] and info.batches == 3
    assert bundle.verify(tmp_path / "b", public).records == {"runs": 0}


def test_a_missing_folder_is_refused_before_reading_anything(tmp_path: Path) -> None:
    private, _ = keys.new_key_pair()
    read: list[int] = []

    def gen() -> Any:
        read.append(1)
        yield {"stream": "runs", "items": [], "last": 1}

    with pytest.raises(OutputError, match="does not exist"):
        bundle.write_bundle(tmp_path / "no" / "b", gen(), site="u", school="S", signing_key=private)
    assert read == []
