"""The health report as PDF: the self-contained HTML printed by headless Chromium (A4).

Chromium runs as a child with a private, throw-away profile, no extensions, no background
services and every host name resolving to nothing (the page needs no network: its CSS, charts
and the Khmer font are inside it). The page size comes from the report's ``@page { size: A4 }``.
A print that takes longer than the timeout is killed, the whole process group by its id.

A page over :data:`MAX_HTML_BYTES` is refused before Chromium starts (:class:`TooLong`): the
all-schools report of a large fleet (11.6 MB of HTML for 500 schools) runs to thousands of A4
pages; measured here, 13.7 MB of HTML took 173 s and 3 GB of memory for a 2,450-page, 172 MB
PDF, far past the timeout (which is what answered before). Its HTML page is the way to read it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from kape_itops.atomic import write_bytes
from kape_itops.errors import ConfigError, ItopsError

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "MAX_HTML_BYTES",
    "PAGES_PER_MB",
    "PdfError",
    "TooLong",
    "chromium",
    "html_to_pdf",
    "write_pdf",
]

DEFAULT_TIMEOUT_S = 90.0
MAX_HTML_BYTES = 4_000_000
"""The largest page printed (about 700 A4 pages of the health report, well within the timeout)."""
PAGES_PER_MB = 180
"""A4 pages of the health report per MB of its HTML (measured: 2,450 pages of 13.7 MB)."""
_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_FLAGS = (
    "--headless",
    "--disable-gpu",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-domain-reliability",
    "--disable-breakpad",
    "--disable-quic",
    "--metrics-recording-only",
    "--mute-audio",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--no-pdf-header-footer",
    "--print-to-pdf-no-header",
    "--run-all-compositor-stages-before-draw",
    "--virtual-time-budget=5000",
)


class PdfError(ItopsError):
    """Chromium could not print the report."""


class TooLong(PdfError):
    """The page is too large to print in reasonable time and memory (``size`` bytes)."""

    def __init__(self, size: int, limit: int) -> None:
        self.size, self.limit = size, limit
        self.pages = round(size / 1e6 * PAGES_PER_MB, -1)
        super().__init__(
            f"the report is too long to print as PDF: {size / 1e6:.1f} MB of HTML, about "
            f"{self.pages:,.0f} A4 pages (the limit is {limit / 1e6:g} MB); choose one school, "
            "or read the HTML report (a browser can print or save it)"
        )


def chromium() -> str:
    """The Chromium binary: ``ITOPS_CHROMIUM``, else the first on PATH; ConfigError naming it."""
    env = os.environ.get("ITOPS_CHROMIUM")
    if env:
        if not (Path(env).is_file() and os.access(env, os.X_OK)):
            raise ConfigError(f"ITOPS_CHROMIUM {env} is not an executable file")
        return env
    for name in _CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise ConfigError(
        "PDF needs Chromium, which is not installed: apt-get install chromium "
        "(or set ITOPS_CHROMIUM to its path); the HTML report needs nothing"
    )


def html_to_pdf(
    html: str, timeout: float = DEFAULT_TIMEOUT_S, max_bytes: int | None = None
) -> bytes:
    """Print ``html`` (a self-contained page) to PDF bytes with headless Chromium; TooLong for
    a page over ``max_bytes`` (UTF-8; default :data:`MAX_HTML_BYTES`)."""
    size = len(html.encode("utf-8"))
    max_bytes = MAX_HTML_BYTES if max_bytes is None else max_bytes
    if size > max_bytes:
        raise TooLong(size, max_bytes)
    binary = chromium()
    with tempfile.TemporaryDirectory(prefix="itops-pdf-") as tmp:
        folder = Path(tmp)
        page, out = folder / "report.html", folder / "report.pdf"
        page.write_text(html, encoding="utf-8")
        args = [
            binary,
            *_FLAGS,
            *(["--no-sandbox"] if os.geteuid() == 0 else []),
            f"--user-data-dir={folder / 'profile'}",
            f"--crash-dumps-dir={folder / 'crash'}",
            f"--print-to-pdf={out}",
            page.as_uri(),
        ]
        env = {**os.environ, "HOME": str(folder)}
        proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
            start_new_session=True,  # its own process group: a timeout kills every child
        )
        try:
            _, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise PdfError(
                f"chromium did not print the report within {timeout:g} s "
                f"({size / 1e6:.1f} MB of HTML)"
            ) from None
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # helpers left behind by a finished print
        data = out.read_bytes() if out.is_file() else b""
        if proc.returncode != 0 or not data.startswith(b"%PDF"):
            said = err.decode("utf-8", "replace").strip().splitlines()[-3:]
            raise PdfError(
                f"chromium ({binary}) could not print the report (exit {proc.returncode}): "
                + (" / ".join(line[:200] for line in said) or "no message")
            )
        return data


def write_pdf(html: str, path: Path, timeout: float = DEFAULT_TIMEOUT_S) -> Path:
    """Print ``html`` to ``path``, atomically."""
    write_bytes(path, html_to_pdf(html, timeout))
    return path
