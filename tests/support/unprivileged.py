"""Run ``itops`` as an unprivileged user (nobody/nogroup), wherever the checkout lives (root only).

A checkout in a folder other users cannot enter (``mktemp -d``, ``/root/kape-itops``), its venv,
and an interpreter under ``/root`` (pyenv) are all out of reach for ``nobody``. The session stages
whatever ``nobody`` cannot read into a fresh 0755 folder: the interpreter (binary, ``libpython``,
standard library), the installed dependencies and the package. Files are hard-linked where the
filesystem allows (instant), copied otherwise. Parts ``nobody`` can already read run in place.
Before any test uses it the staged runtime is checked: same Python version, package importable.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import pytest

import kape_itops

__all__ = [
    "DROP",
    "Unprivileged",
    "library_folders",
    "nobody_can_read",
    "stage_tree",
    "unprivileged_runtime",
]

DROP = ("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups")
"""Become nobody/nogroup with no supplementary groups and no capabilities."""

_STDLIB_SKIP = frozenset(
    {"site-packages", "dist-packages", "test", "idlelib", "tkinter", "turtledemo", "ensurepip"}
)
"""Parts of the standard library a command-line run never imports (skipped when staging)."""


def nobody_can_read(path: Path) -> bool:
    """Whether nobody/nogroup can read ``path`` (and enter it, for a folder), asked as nobody."""
    flags = ["-r", str(path), "-a", "-x", str(path)] if path.is_dir() else ["-r", str(path)]
    return subprocess.run([*DROP, "test", *flags], timeout=30).returncode == 0


def library_folders() -> list[Path]:
    """Folders on ``sys.path`` holding installed distributions (site-packages, .pth additions)."""
    found = {Path(str(dist.locate_file(""))).resolve() for dist in metadata.distributions()}
    folders: list[Path] = []
    for entry in sys.path:
        folder = Path(entry or ".").resolve()
        if folder in found and folder not in folders:
            folders.append(folder)
    return folders


def _place(src: Path, dst: Path) -> None:
    """Hard-link ``src`` at ``dst`` if others may read it, else copy it readable for all."""
    mode = src.stat().st_mode
    if mode & stat.S_IROTH:
        try:
            os.link(src, dst)
            return
        except OSError:
            pass
    shutil.copy2(src, dst)  # keeps the time stamp: cached bytecode stays valid
    dst.chmod(0o755 if mode & stat.S_IXUSR else 0o644)


def stage_tree(src: Path, dst: Path, skip: frozenset[str] = frozenset()) -> None:
    """Stage the tree ``src`` at ``dst`` (symbolic links followed, folders in ``skip`` left out)."""
    seen: set[Path] = set()
    for top, dirs, files in os.walk(src, followlinks=True):
        real = Path(top).resolve()
        if real in seen:  # a link loop
            dirs[:] = []
            continue
        seen.add(real)
        dirs[:] = [d for d in dirs if d not in skip]
        target = dst / Path(top).relative_to(src)
        target.mkdir(parents=True, exist_ok=True)
        for name in files:
            path = Path(top, name)
            if path.is_file():  # not a dangling link, socket or fifo
                _place(path.resolve(), target / name)


class Unprivileged:
    """An interpreter and ``PYTHONPATH`` with which nobody/nogroup runs this checkout's package."""

    def __init__(self, root: Path, package: Path | None = None) -> None:
        """Stage what nobody cannot read under ``root`` (a new empty folder) and check the result.

        ``package`` is the ``kape_itops`` folder to run (default: the one this session imported).
        """
        self.root = root
        self.env = dict(os.environ)
        self.python = self._interpreter()
        package = package or Path(kape_itops.__file__).resolve().parent
        paths = [self.readable(package.parent, only=package.name)]
        paths += [self.readable(p) for p in library_folders() if p != package.parent]
        self.env["PYTHONPATH"] = os.pathsep.join(str(p) for p in paths)
        self.env["PYTHONNOUSERSITE"] = "1"
        for top, _, _ in os.walk(root):  # every folder made here, whatever the umask
            Path(top).chmod(0o755)
        self.package = paths[0] / package.name
        """The package folder nobody imports (``package`` itself or its staged copy)."""
        self._check()

    def readable(self, path: Path, only: str | None = None) -> Path:
        """``path`` itself if nobody can read it, else a staged copy (only its entry ``only``)."""
        if nobody_can_read(path) and (only is None or nobody_can_read(path / only)):
            return path
        staged = Path(tempfile.mkdtemp(prefix="tree-", dir=self.root))
        if only:
            stage_tree(path / only, staged / only)
        else:
            stage_tree(path, staged)
        return staged

    def _interpreter(self) -> str:
        """The running Python if nobody can run it, else a staged copy of its installation."""
        exe = Path(getattr(sys, "_base_executable", sys.executable)).resolve()
        stdlib = Path(sysconfig.get_path("stdlib"))
        lib = None
        if sysconfig.get_config_var("Py_ENABLE_SHARED"):
            lib = Path(sysconfig.get_config_var("LIBDIR"), sysconfig.get_config_var("INSTSONAME"))
        needed = [exe, stdlib / "os.py", *([lib] if lib else [])]
        if all(nobody_can_read(p) for p in needed):
            return str(exe)
        prefix = Path(sys.base_prefix)
        home = self.root / "python"
        staged_exe = home / exe.relative_to(prefix)
        staged_exe.parent.mkdir(parents=True)
        _place(exe, staged_exe)
        stage_tree(stdlib, home / stdlib.relative_to(prefix), _STDLIB_SKIP)
        if lib:
            libdir = home / "libpython"
            libdir.mkdir()
            _place(lib.resolve(), libdir / lib.name)
            old = self.env.get("LD_LIBRARY_PATH")
            self.env["LD_LIBRARY_PATH"] = os.pathsep.join([str(libdir), *([old] if old else [])])
        return str(staged_exe)

    def _check(self) -> None:
        """Fail the session early unless nobody runs this Python and imports ``self.package``."""
        code = "import sys, kape_itops; print(sys.version); print(kape_itops.__file__)"
        proc = self.run("-c", code, module=False)
        version, _, where = proc.stdout.strip().partition("\n")
        if proc.returncode != 0 or version != sys.version or Path(where).parent != self.package:
            raise RuntimeError(
                f"the unprivileged runtime under {self.root} does not work: Python "
                f"{version or '?'} (expected {sys.version}), imported {where or '-'} "
                f"(expected {self.package}/__init__.py) {proc.stderr}"
            )

    def command(self, *args: str, module: bool = True) -> list[str]:
        """The command running ``itops args`` (or ``python args``) as nobody/nogroup."""
        return [*DROP, self.python, *(["-m", "kape_itops"] if module else []), *args]

    def run(
        self,
        *args: str,
        cwd: Path = Path("/"),
        env: dict[str, str] | None = None,
        ns: str | None = None,
        timeout: float = 120,
        module: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``itops args`` as nobody in ``cwd`` (inside network namespace ``ns`` if given)."""
        cmd = self.command(*args, module=module)
        if ns:
            cmd = ["ip", "netns", "exec", ns, *cmd]
        return subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=cwd,
            env={**self.env, **(env or {})},
        )


def unprivileged_runtime() -> Iterator[Unprivileged]:
    """Body of the session fixture: skip unless root with ``setpriv``; remove the stage after."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to drop to an unprivileged user")
    root = Path(tempfile.mkdtemp(prefix="itops-nobody-"))
    try:
        yield Unprivileged(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
