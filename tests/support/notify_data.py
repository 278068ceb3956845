"""Data for the alert tests: a school with a Khmer name, probe runs, secrets files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from kape_itops.domain.enums import DeviceKind
from kape_itops.domain.inventory import ChangeContext, SchoolUpsert
from kape_itops.store.db import Store
from kape_itops.store.inventory_repo import InventoryRepo
from tests.support.notify_peers import TOKEN
from tests.support.report_data import T0, ping, seed, write_run

M5 = dt.timedelta(minutes=5)


KHMER = "សាលាបឋមសិក្សាព្រែកស្វាយ"
PASSWORD = "s3cret-pässword"


def khmer_school(store: Store, devices: list[str]) -> dict[str, int]:
    """School KPT-PSP with a Khmer name and deployed switches ``devices``."""
    with store.session() as s:
        InventoryRepo(s).apply_schools(
            [SchoolUpsert("KPT-PSP", {"name": "Prek Svay Primary", "name_km": KHMER})],
            ChangeContext("tester", "test", T0 - dt.timedelta(days=1)),
        )
    return seed(store, dict.fromkeys(devices, DeviceKind.SWITCH))


class History:
    """Writes one probe run per call, 5 minutes apart: each device down or up."""

    def __init__(self, store: Store, ids: dict[str, int]) -> None:
        self.store, self.ids, self.k = store, ids, 0

    def run(self, **down: bool) -> None:
        at = T0 + self.k * M5
        self.k += 1
        write_run(
            self.store,
            at,
            [
                (self.ids[tag], "ping", "crit" if d else "ok", ping(None if d else 1.0))
                for tag, d in down.items()
            ],
        )


def secrets_file(
    path: Path,
    *,
    telegram: str | None = None,
    smtp_port: int | None = None,
    security: str = "none",
    cafile: Path | None = None,
) -> Path:
    text = ""
    if telegram is not None:
        text += f'[alerts.telegram]\ntoken = "{TOKEN}"\nchat_id = "-1001234567890"\n'
        text += f'api_url = "{telegram}"\nmax_wait = 5\n'
    if smtp_port is not None:
        text += (
            f'[alerts.smtp]\nhost = "127.0.0.1"\nport = {smtp_port}\nsecurity = "{security}"\n'
            f'username = "itops"\npassword = "{PASSWORD}"\nsender = "itops@kape.example"\n'
            'to = ["it@kape.example", "ដឹកនាំ <head@kape.example>"]\ntimeout = 10\n'
        )
        if cafile is not None:
            text += f'cafile = "{cafile}"\n'
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path
