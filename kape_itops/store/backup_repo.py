"""Configuration backups: store a version (or an 'unchanged' mark) and read history back."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from kape_itops.domain.backups import ConfigEntry, number_versions
from kape_itops.store.models import ConfigBackupRow, DeviceRow


class BackupRepo:
    """Backup access on one session."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def device_id(self, tag: str) -> int | None:
        """The database id of a device, or None."""
        return self.s.scalar(select(DeviceRow.id).where(DeviceRow.asset_tag == tag))

    def latest_sha(self, device_id: int) -> str | None:
        """The SHA-256 of the newest stored configuration of a device."""
        return self.s.scalar(
            select(ConfigBackupRow.sha256)
            .where(ConfigBackupRow.device_id == device_id, ConfigBackupRow.changed.is_(True))
            .order_by(ConfigBackupRow.taken_at.desc(), ConfigBackupRow.id.desc())
            .limit(1)
        )

    def record(
        self,
        device_id: int,
        taken_at: dt.datetime,
        sha256: str,
        content: str,
        run_id: int | None = None,
    ) -> bool:
        """Store a new version, or an 'unchanged' mark without content; True when changed."""
        changed = self.latest_sha(device_id) != sha256
        self.s.add(
            ConfigBackupRow(
                device_id=device_id,
                taken_at=taken_at,
                sha256=sha256,
                changed=changed,
                content=content if changed else None,
                run_id=run_id,
            )
        )
        self.s.flush()
        return changed

    def add_synced(
        self,
        site_id: int,
        items: Sequence[Mapping[str, Any]],
        devices: Mapping[str, int],
        runs: Mapping[int, int],
    ) -> int:
        """Store backups that came from site ``site_id`` as the site recorded them (``changed``
        and ``content`` included), with their origin ids; ``devices`` maps tags to device ids,
        ``runs`` the site's run ids to ours. Returns how many."""
        rows = [
            {
                "device_id": devices[i["tag"]],
                "taken_at": i["taken_at"],
                "sha256": i["sha256"],
                "changed": i["changed"],
                "content": i["content"],
                "run_id": runs.get(i["run"]) if i["run"] is not None else None,
                "origin_site_id": site_id,
                "origin_id": i["id"],
            }
            for i in items
        ]
        if rows:
            self.s.execute(insert(ConfigBackupRow), rows)
        return len(rows)

    def history(self, tag: str, with_content: bool = False) -> list[ConfigEntry]:
        """Every backup of a device, oldest first, with version numbers."""
        cols = [
            ConfigBackupRow.id,
            ConfigBackupRow.taken_at,
            ConfigBackupRow.sha256,
            ConfigBackupRow.changed,
            ConfigBackupRow.content if with_content else ConfigBackupRow.sha256,
            ConfigBackupRow.run_id,
        ]
        q = (
            select(*cols)
            .join(DeviceRow, DeviceRow.id == ConfigBackupRow.device_id)
            .where(DeviceRow.asset_tag == tag)
            .order_by(ConfigBackupRow.taken_at, ConfigBackupRow.id)
        )
        rows = [
            (r[0], r[1], r[2], bool(r[3]), r[4] if with_content else None, r[5])
            for r in self.s.execute(q)
        ]
        return number_versions(rows, tag)
