"""Import schools and devices from a folder, CSV, XLSX or JSON file, in two streamed passes.

Pass 1 reads every table and validates it against the database, chunk by chunk, keeping only
key sets. Nothing is written unless the data is clean (all-or-nothing) or the mode is
skip-invalid. Pass 2 reads the files again and writes in chunks through
:class:`~kape_itops.store.inventory_repo.InventoryRepo` inside ONE transaction, so a failure
anywhere leaves the database as it was. A dry run does pass 2 too and rolls it back, so it
reports exactly what would change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from kape_itops.domain.inventory import ApplyStats, ChangeContext, DeviceUpsert, School
from kape_itops.errors import DataError, Issue, ValidationFailed
from kape_itops.inventory.readers import Source, Table, discover, file_sha256, open_table
from kape_itops.inventory.validate import (
    DeviceChecker,
    HeaderMap,
    Lookups,
    ParsedRow,
    check_schools,
    device_upsert,
    map_header,
    parse_row,
    school_upsert,
)
from kape_itops.store.db import Store
from kape_itops.store.inventory_repo import InventoryRepo

CHUNK = 2000
"""Rows validated against the database, and written, per round trip."""


class Mode(StrEnum):
    """What to do with rows that have errors."""

    ALL_OR_NOTHING = "all-or-nothing"
    SKIP_INVALID = "skip-invalid"


@dataclass(slots=True)
class FileReport:
    """What one table held and what importing it did."""

    file: str
    entity: str
    sha256: str
    rows: int = 0
    skipped: int = 0
    stats: ApplyStats = field(default_factory=ApplyStats)


@dataclass(slots=True)
class ImportReport:
    """The outcome of an import: per file, and every issue found."""

    path: str
    mode: Mode
    dry_run: bool
    files: list[FileReport] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)

    @property
    def errors(self) -> int:
        """Issues of severity error (rows skipped in skip-invalid mode)."""
        return sum(1 for i in self.issues if i.severity == "error")

    @property
    def warnings(self) -> int:
        """Issues of severity warning."""
        return sum(1 for i in self.issues if i.severity == "warning")

    @property
    def changes(self) -> int:
        """Change-log entries written (or that would be, in a dry run)."""
        return sum(f.stats.changes for f in self.files)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        return {
            "path": self.path,
            "mode": self.mode.value,
            "dry_run": self.dry_run,
            "changes": self.changes,
            "errors": self.errors,
            "warnings": self.warnings,
            "files": self.files,
            "issues": self.issues,
        }


@dataclass(slots=True)
class _Plan:
    """Pass-1 results one table needs in pass 2."""

    source: Source
    report: FileReport
    school_rows: list[ParsedRow] = field(default_factory=list)
    checker: DeviceChecker | None = None
    unreadable: bool = False


def _header(table: Table) -> tuple[HeaderMap, list[Issue]]:
    src = table.source
    return map_header(
        src.entity, src.label, table.header_row or None, table.header, table.column_name
    )


def _rows(table: Table, hmap: HeaderMap) -> Iterator[ParsedRow]:
    src = table.source
    for row, cells in table.rows:
        yield parse_row(src.entity, src.label, row, cells, hmap, table.column_name)


def _has_error(issues: list[Issue]) -> bool:
    return any(i.severity == "error" for i in issues)


class Importer:
    """Imports inventory files into a store, attributed to ``actor``."""

    def __init__(
        self, store: Store, actor: str, chunk: int = CHUNK, source: str = "import"
    ) -> None:
        self.store = store
        self.actor = actor
        self.chunk = chunk
        self.source = source
        """The change log's source of each table is ``<source>: <file>``."""

    def run(
        self, path: Path, mode: Mode = Mode.ALL_OR_NOTHING, dry_run: bool = False
    ) -> ImportReport:
        """Validate then write; raises ValidationFailed when nothing may be written."""
        sources = sorted(discover(path), key=lambda s: s.entity != "schools")
        report = ImportReport(str(path), mode, dry_run)
        plans = self._validate(sources, mode, report)
        if any(p.unreadable for p in plans) or (mode == Mode.ALL_OR_NOTHING and report.errors):
            raise ValidationFailed(report.issues, f"nothing imported from {path.name}")
        self._write(plans, dry_run)
        return report

    # -- pass 1 ----------------------------------------------------------------------------
    def _validate(self, sources: list[Source], mode: Mode, report: ImportReport) -> list[_Plan]:
        plans = [_Plan(s, FileReport(s.label, s.entity, file_sha256(s.path))) for s in sources]
        with self.store.session() as session:
            repo = InventoryRepo(session)
            db_schools = {s.code: s for s in repo.schools()}
            known: dict[str, tuple[str, ...]] = {c: s.subnets for c, s in db_schools.items()}
            for plan in plans:
                report.files.append(plan.report)
                try:
                    if plan.source.entity == "schools":
                        self._check_schools(plan, db_schools, known, mode, report)
                    else:
                        self._check_devices(plan, repo, known, mode, report)
                except ValidationFailed as exc:
                    report.issues.extend(exc.issues)
                    plan.unreadable = True
        for plan in plans:
            if plan.checker is not None:
                plan.report.skipped = len(plan.checker.invalid)
            else:
                plan.report.skipped = sum(1 for r in plan.school_rows if not r.ok)
        return plans

    def _check_schools(
        self,
        plan: _Plan,
        db_schools: dict[str, School],
        known: dict[str, tuple[str, ...]],
        mode: Mode,
        report: ImportReport,
    ) -> None:
        with open_table(plan.source) as table:
            hmap, issues = _header(table)
            report.issues.extend(table.notes + issues)
            if _has_error(issues):
                plan.unreadable = True
                return
            plan.school_rows = list(_rows(table, hmap))
        plan.report.rows = len(plan.school_rows)
        report.issues.extend(check_schools(plan.source.label, plan.school_rows, db_schools))
        for r in plan.school_rows:
            if r.key and (r.ok or mode == Mode.ALL_OR_NOTHING):
                nets = r.values.get("subnets", known.get(r.key, ()))
                known[r.key] = tuple(nets) if isinstance(nets, tuple) else ()

    def _check_devices(
        self,
        plan: _Plan,
        repo: InventoryRepo,
        known: dict[str, tuple[str, ...]],
        mode: Mode,
        report: ImportReport,
    ) -> None:
        checker = DeviceChecker(plan.source.label, known, mode == Mode.ALL_OR_NOTHING)
        plan.checker = checker

        def check(chunk: list[ParsedRow]) -> None:
            need = checker.needed(chunk)
            look = Lookups(
                repo.devices_by_tag(need.tags),
                repo.owners("serial", need.serials),
                repo.owners("mac", need.macs),
                repo.tag_spellings(need.tags),
            )
            report.issues.extend(checker.check(chunk, look))
            repo.s.expunge_all()

        with open_table(plan.source) as table:
            hmap, issues = _header(table)
            report.issues.extend(table.notes + issues)
            if _has_error(issues):
                plan.unreadable = True
                return
            chunk: list[ParsedRow] = []
            for parsed in _rows(table, hmap):
                chunk.append(parsed)
                if len(chunk) >= self.chunk:
                    check(chunk)
                    chunk = []
            if chunk:
                check(chunk)
        plan.report.rows = checker.rows

    # -- pass 2 ----------------------------------------------------------------------------
    def _write(self, plans: list[_Plan], dry_run: bool) -> None:
        at = dt.datetime.now(dt.UTC)
        with self.store.write() as session:
            repo = InventoryRepo(session)
            for plan in plans:
                if file_sha256(plan.source.path) != plan.report.sha256:
                    raise DataError(f"{plan.source.label} changed during the import; run it again")
                ctx = ChangeContext(
                    self.actor, f"{self.source}: {plan.source.label}", at, plan.report.sha256
                )
                if plan.checker is None:
                    ups = [school_upsert(r) for r in plan.school_rows if r.ok]
                    plan.report.stats.add(repo.apply_schools(ups, ctx))
                else:
                    self._write_devices(plan, plan.checker, repo, ctx)
            if dry_run:
                session.rollback()

    def _write_devices(
        self, plan: _Plan, checker: DeviceChecker, repo: InventoryRepo, ctx: ChangeContext
    ) -> None:
        batch: list[DeviceUpsert] = []

        def flush() -> None:
            if batch:
                plan.report.stats.add(repo.apply_devices(batch, ctx))
                batch.clear()
                repo.s.expunge_all()

        with open_table(plan.source) as table:
            hmap, _ = _header(table)
            for parsed in _rows(table, hmap):
                if parsed.row in checker.invalid:
                    continue
                if parsed.row in checker.barriers:
                    flush()
                batch.append(device_upsert(parsed))
                if len(batch) >= self.chunk:
                    flush()
            flush()


def import_inventory(
    store: Store,
    path: Path,
    actor: str,
    mode: Mode = Mode.ALL_OR_NOTHING,
    dry_run: bool = False,
    source: str = "import",
) -> ImportReport:
    """Import ``path`` (folder, CSV, XLSX or JSON) into ``store``; see :class:`Importer`."""
    return Importer(store, actor, source=source).run(path, mode, dry_run)
