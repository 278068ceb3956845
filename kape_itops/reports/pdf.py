"""The health report as PDF: the self-contained HTML printed by headless Chromium (A4).

Chromium runs as a child with a private, throw-away profile, no extensions, no background
services and every host name resolving to nothing (the page needs no network: its CSS, charts
and the Khmer font are inside it). The page size comes from the report's ``@page { size: A4 }``.
A print that takes longer than the timeout is killed, the whole process group by its id.
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

__all__ = ["DEFAULT_TIMEOUT_S", "PdfError", "chromium", "html_to_pdf", "write_pdf"]

DEFAULT_TIMEOUT_S = 90.0
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


def html_to_pdf(html: str, timeout: float = DEFAULT_TIMEOUT_S) -> bytes:
    """Print ``html`` (a self-contained page) to PDF bytes with headless Chromium."""
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
            raise PdfError(f"chromium did not print the report within {timeout:g} s") from None
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
