"""``itops inventory import | export | labels``: files in and out of the inventory.

The ``inventory`` group (:mod:`kape_itops.cli.inventory`) loads these commands when used.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kape_itops.cli.app import App, handle_errors, pass_app
from kape_itops.cli.options import filter_options
from kape_itops.cli.render import console, print_json, safe, table
from kape_itops.domain.inventory import DeviceFilter
from kape_itops.errors import Issue, ValidationFailed
from kape_itops.inventory.exporter import ExportFormat
from kape_itops.inventory.importer import ImportReport, Mode


def _issue_table(title: str, issues: list[Issue]) -> None:
    console.print(
        table(
            title,
            ["severity", "file", "row", "column", "value", "reason"],
            (
                [i.severity, i.file, i.row or "", i.column or "", i.value or "", i.reason]
                for i in issues
            ),
        )
    )


def _render(report: ImportReport) -> None:
    columns = ["file", "rows", "created", "updated", "unchanged", "renamed", "skipped", "changes"]
    rows = [
        [
            f.file,
            f.rows,
            f.stats.created,
            f.stats.updated,
            f.stats.unchanged,
            f.stats.renamed,
            f.skipped,
            f.stats.changes,
        ]
        for f in report.files
    ]
    keep = [
        i
        for i, c in enumerate(columns)
        if c not in ("renamed", "skipped") or any(r[i] for r in rows)
    ]
    console.print(
        table(
            f"import {report.path}" + (" (dry run)" if report.dry_run else ""),
            [columns[i] for i in keep],
            ([r[i] for i in keep] for r in rows),
        )
    )
    if report.issues:
        _issue_table(f"{report.errors} error(s), {report.warnings} warning(s)", report.issues)
    skipped = sum(f.skipped for f in report.files)
    if report.dry_run:
        verdict = f"dry run: nothing written; the import would record {report.changes} change(s)"
    elif report.changes == 0:
        verdict = "no changes: the database already matches the file(s)"
    else:
        verdict = f"imported: {report.changes} change(s) recorded"
    if skipped:
        verdict += f"; {skipped} invalid row(s) skipped"
    console.print(safe(verdict))


@click.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Validate and show what would change; write nothing.")
@click.option(
    "--mode",
    type=click.Choice([m.value for m in Mode]),
    default=Mode.ALL_OR_NOTHING.value,
    show_default=True,
    help="On rows with errors: write nothing, or write the valid rows only.",
)
@click.option("--json", "as_json", is_flag=True, help="The report as JSON on stdout.")
@pass_app
@handle_errors()
def import_cmd(app: App, path: Path, dry_run: bool, mode: str, as_json: bool) -> None:
    """Import schools and devices from a folder, one CSV, an XLSX workbook or a JSON export.

    PATH: a folder with schools.csv and/or devices.csv, one such CSV (told apart by its
    header), a workbook with sheets 'schools' and 'devices', or an export's JSON. A blank cell means no change; a cell holding only '-' clears the field. Exit 1 when any
    row has an error (nothing is written in all-or-nothing mode).
    """
    try:
        report = app.inventory().import_file(path, Mode(mode), dry_run)
    except ValidationFailed as exc:
        if not as_json:
            raise
        print_json({"ok": False, "error": str(exc), "issues": exc.issues})
        sys.exit(exc.exit_code)
    if as_json:
        print_json({"ok": report.errors == 0, **report.as_dict()})
    else:
        _render(report)
    if report.errors:
        sys.exit(1)


@click.command("export")
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice([f.value for f in ExportFormat]),
    help="csv (a folder), xlsx or json [default: from the suffix of PATH, else csv].",
)
@filter_options
@click.option("--json", "as_json", is_flag=True, help="The report as JSON on stdout.")
@pass_app
@handle_errors()
def export_cmd(
    app: App,
    path: Path,
    fmt: str | None,
    flt: DeviceFilter,
    as_json: bool,
) -> None:
    """Export schools and devices in the import format (a folder of CSV, XLSX or JSON).

    Export → edit in a spreadsheet → import round-trips; formula-like cells are neutralised.
    """
    chosen = ExportFormat(fmt) if fmt else _format_from(path)
    report = app.inventory().export(path, chosen, flt)
    if as_json:
        print_json(report)
        return
    console.print(
        safe(
            f"exported {report.schools} school(s) and {report.devices} device(s) to "
            + ", ".join(report.files)
        )
    )


def _format_from(path: Path) -> ExportFormat:
    suffix = path.suffix.lower().lstrip(".")
    return ExportFormat(suffix) if suffix in ("xlsx", "json") else ExportFormat.CSV


@click.command("labels")
@filter_options
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="HTML file to write (print it on A4).",
)
@click.option(
    "--url",
    metavar="BASE",
    help="Server URL: each QR code opens BASE/devices/TAG [default: ITOPS_SERVER_URL, else "
    "the server this site joined, else the plain tag].",
)
@click.option("--json", "as_json", is_flag=True, help="The file and the label count as JSON.")
@pass_app
@handle_errors()
def labels_cmd(app: App, flt: DeviceFilter, output: Path, url: str | None, as_json: bool) -> None:
    """Write a printable A4 sheet of QR labels (tag and school printed below each code).

    A QR code holds the device's page on the server when a server URL is known, else the tag.
    """
    from kape_itops.inventory.labels import base_url, server_url

    base = base_url(url) if url is not None else server_url(app.settings.secrets_path)
    count = app.inventory().labels(output, flt, base)
    if as_json:
        print_json({"output": str(output), "labels": count, "url": base})
        return
    console.print(safe(f"wrote {count} label(s) to {output}" + (f" for {base}" if base else "")))
