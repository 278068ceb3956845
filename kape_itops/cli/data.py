"""``itops data …``: where the tool's data folders come from, and an editable copy of them."""

from __future__ import annotations

import json
from pathlib import Path

import click

from kape_itops.cli.app import App, handle_errors, pass_app
from kape_itops.cli.render import console, safe
from kape_itops.datafiles import AREAS, copy_defaults, data_folder


@click.group()
def data() -> None:
    """The data folders (inventory/, probes/, specs/, quotes/): shipped defaults, local copies."""


@data.command("init")
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False), default=".")
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
@handle_errors()
def init_cmd(directory: Path, force: bool) -> None:
    """Write an editable copy of the shipped defaults into DIRECTORY [default: here].

    Existing files are kept unless --force. Run itops from DIRECTORY, or set ITOPS_DATA to it,
    and the local files override the shipped ones file by file.
    """
    written, kept = copy_defaults(directory, overwrite=force)
    console.print(
        f"wrote {len(written)} file(s) into {safe(str(directory))} "
        f"({', '.join(f'{a}/' for a in AREAS)}); kept {len(kept)} existing file(s)"
    )
    if kept and not force:
        console.print("existing files were left as they are (--force overwrites them)")


@data.command("where")
@click.argument("files", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
@handle_errors()
def where_cmd(app: App, files: tuple[str, ...], as_json: bool) -> None:
    """Say which data folder is in use, and where each of FILES (e.g. probes/onvif.yaml) is read."""
    folder = data_folder(app.settings.data_dir)
    rows = []
    for rel in files:
        area, _, rest = rel.partition("/")
        path = folder.area(area).file(rest) if area in AREAS and rest else None
        rows.append(
            {
                "file": rel,
                "path": str(path) if path is not None and path.is_file() else None,
                "origin": folder.origin(rel) if path is not None and path.is_file() else None,
            }
        )
    if as_json:
        doc = {
            "local": str(folder.local.resolve()) if folder.local else None,
            "shipped": str(folder.shipped),
            "files": rows,
        }
        click.echo(json.dumps(doc, indent=2))
        return
    console.print(f"data folder: {safe(folder.describe())}")
    for row in rows:
        where = f"{row['path']} ({row['origin']})" if row["path"] else "not found"
        console.print(f"  {safe(str(row['file']))}: {safe(where)}")
