"""A quotation report written to a file, the renderer picked by the file's suffix."""

from __future__ import annotations

from pathlib import Path

from kape_itops.atomic import write_text
from kape_itops.errors import UsageError
from kape_itops.quotes.report import canonical_json
from kape_itops.quotes.report_html import render_html
from kape_itops.quotes.report_md import render_markdown
from kape_itops.quotes.report_xlsx import write_xlsx
from kape_itops.quotes.result import Evaluation

__all__ = ["write_report"]


def write_report(ev: Evaluation, path: Path, lang: str = "en") -> None:
    """Write HTML, Markdown, XLSX or JSON by the file's suffix; ``lang`` "en+km" adds Khmer
    labels beside the English headings of HTML and Markdown."""
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm"):
        write_text(path, render_html(ev, lang))
    elif suffix == ".md":
        write_text(path, render_markdown(ev, lang))
    elif suffix == ".xlsx":
        write_xlsx(ev, path)
    elif suffix == ".json":
        write_text(path, canonical_json(ev))
    else:
        raise UsageError(f"report {path}: use .html, .md, .xlsx or .json")
