"""QR label sheets: one inline SVG per device, every string escaped, filters applied."""

from __future__ import annotations

import datetime as dt
import html
import json
from pathlib import Path
from typing import Any

import pytest
import segno
from click.testing import CliRunner

from kape_itops.cli import cli
from kape_itops.domain.enums import DeviceKind
from kape_itops.domain.inventory import ChangeContext, Device, DeviceFilter, School, SchoolUpsert
from kape_itops.errors import UsageError
from kape_itops.inventory.labels import (
    base_url,
    make_labels,
    qr_payload,
    render_labels,
    write_labels,
)
from kape_itops.store.db import Store
from kape_itops.store.inventory_repo import InventoryRepo
from tests.functional.test_import import run, seed_folder


def test_label_sheet_has_one_qr_per_device_and_escapes(store: Store, tmp_path: Path) -> None:
    run(store, seed_folder(tmp_path / "seed"))
    ctx = ChangeContext("t", "test", dt.datetime.now(dt.UTC))
    with store.session() as s:
        repo = InventoryRepo(s)
        repo.apply_schools(
            [SchoolUpsert("KPT-PSP", {"name": "Prey <script>alert(1)</script> Speu"})], ctx
        )

    evil = Device("T/<script>", DeviceKind.LAPTOP, "KPT-PSP")
    page = render_labels(make_labels([evil], {"KPT-PSP": School("KPT-PSP", "A & <b>B</b>")}))
    assert "<script>" not in page and "T/&lt;script&gt;" in page
    assert "A &amp; &lt;b&gt;B&lt;/b&gt;" in page
    out = tmp_path / "labels.html"
    assert write_labels(store, out) == 2
    text = out.read_text("utf-8")
    assert text.count("<svg") == 2 and text.count('class="tag"') == 2
    assert "@page { size: A4" in text
    assert "<script>" not in text and html.escape("Prey <script>alert(1)</script> Speu") in text
    assert write_labels(store, out, DeviceFilter(kinds=(DeviceKind.CAMERA,))) == 1
    assert out.read_text("utf-8").count("<svg") == 1


def test_labels_cli(store: Store, runner: CliRunner, tmp_path: Path) -> None:
    run(store, seed_folder(tmp_path / "seed"))
    out = tmp_path / "l.html"
    result = runner.invoke(
        cli, ["--db", store.url, "inventory", "labels", "--school", "kpt-psh", "-o", str(out)]
    )
    assert result.exit_code == 0 and "wrote 0 label(s)" in result.stdout
    result = runner.invoke(
        cli, ["--db", store.url, "inventory", "labels", "--school", "KPT-PSP", "-o", str(out)]
    )
    assert result.exit_code == 0 and "wrote 2 label(s)" in result.stdout
    assert out.read_text("utf-8").count("<svg") == 2
    args = ["--db", store.url, "inventory", "labels", "--school", "KPT-PSP", "-o", str(out)]
    result = runner.invoke(cli, [*args, "--json"])
    assert json.loads(result.stdout) == {"output": str(out), "labels": 2, "url": None}
    result = runner.invoke(cli, ["--db", store.url, "inventory", "labels"])
    assert result.exit_code == 2


def _payloads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the text of every QR code made (what segno is asked to encode)."""
    seen: list[str] = []
    make = segno.make

    def spy(content: str, **kw: Any) -> Any:
        seen.append(content)
        return make(content, **kw)

    monkeypatch.setattr(segno, "make", spy)
    return seen


def test_qr_codes_hold_the_device_url_when_a_server_is_known(
    store: Store, runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(store, seed_folder(tmp_path / "seed"))
    monkeypatch.delenv("ITOPS_SERVER_URL", raising=False)
    monkeypatch.delenv("ITOPS_SECRETS", raising=False)
    seen = _payloads(monkeypatch)
    out = tmp_path / "l.html"
    args = ["--db", store.url, "inventory", "labels", "--school", "KPT-PSP", "-o", str(out)]
    assert runner.invoke(cli, args).exit_code == 0
    assert seen == ["D1", "D2"]  # no server known: the plain tag
    seen.clear()
    done = runner.invoke(cli, [*args, "--url", "https://itops.example.org/", "--json"])
    assert done.exit_code == 0 and json.loads(done.stdout)["url"] == "https://itops.example.org"
    assert seen == ["https://itops.example.org/devices/D1", "https://itops.example.org/devices/D2"]
    seen.clear()
    env = {"ITOPS_SERVER_URL": "http://10.0.0.5:8080"}
    assert runner.invoke(cli, args, env=env).exit_code == 0
    assert seen[0] == "http://10.0.0.5:8080/devices/D1"
    seen.clear()
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(
        '[server.sync]\nurl = "https://hq.example.org"\nsite = "s1"\nschool = "KPT-PSP"\n'
        'credential = "c"\nsigning_key = "k"\n'
    )
    secrets.chmod(0o600)
    assert runner.invoke(cli, args, env={"ITOPS_SECRETS": str(secrets)}).exit_code == 0
    assert seen[0] == "https://hq.example.org/devices/D1"
    bad = runner.invoke(cli, [*args, "--url", "javascript:alert(1)"])
    assert bad.exit_code == 2 and "not a server URL" in bad.stderr
    assert qr_payload("T/1 x", "https://a.b") == "https://a.b/devices/T%2F1%20x"
    with pytest.raises(UsageError):
        base_url("https://a.b/?q=1")
