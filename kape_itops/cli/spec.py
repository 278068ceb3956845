"""``itops spec …``: validate equipment spec templates."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import click

from kape_itops.cli.app import App, handle_errors, pass_app
from kape_itops.cli.render import console, print_json, safe
from kape_itops.datafiles import data_folder
from kape_itops.domain.text import reveal
from kape_itops.quotes.spec import check_spec_paths


@click.group()
def spec() -> None:
    """Equipment spec templates (specs/*.yaml)."""


@spec.command("check")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path, exists=True))
@click.option("--json", "as_json", is_flag=True, help="Every file and its issues as JSON.")
@pass_app
@handle_errors()
def check_cmd(app: App, paths: tuple[Path, ...], as_json: bool) -> None:
    """Validate spec files or folders [default: specs/ in the data folder]; exit 1 on any error."""
    targets = list(paths) or data_folder(app.settings.data_dir).area("specs").files("", "*.yaml")
    results = check_spec_paths(targets)
    if not results:
        click.echo(f"no spec files in {', '.join(str(t) for t in targets)}", err=True)
        sys.exit(1)
    bad = sum(1 for issues in results.values() if issues)
    if as_json:
        files = [
            {
                "file": name,
                "ok": not issues,
                "issues": [{**dataclasses.asdict(i), "message": str(i)} for i in issues],
            }
            for name, issues in results.items()
        ]
        print_json({"ok": not bad, "files": files})
        sys.exit(1 if bad else 0)
    for name, issues in results.items():
        if not issues:
            console.print(f"[green]ok[/] {safe(name)}")
            continue
        for issue in issues:
            click.echo(f"error: {reveal(str(issue))}", err=True)
    if bad:
        click.echo(f"{bad} of {len(results)} spec file(s) have errors", err=True)
        sys.exit(1)
