"""Run ``itops`` in a child process and measure it: exit code, output, peak memory, time.

The child's address space is capped (``RLIMIT_AS``) so a regression fails the test instead of
eating the shared machine's memory; its peak resident size comes from its own
``VmHWM`` (the high-water mark of its own address space, fresh at exec). ``ru_maxrss`` is not
used: Linux carries the parent's resident size across fork and exec into it, so a child of a
large test process would report the parent's size.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

MARK = "@@maxrss_kib="
_CHILD = f"""
import runpy, sys
def _hwm():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0
code = 0
try:
    sys.argv = ["itops", *sys.argv[1:]]
    runpy.run_module("kape_itops", run_name="__main__")
except SystemExit as exc:
    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
finally:
    sys.stdout.flush()
    print("{MARK}%d" % _hwm(), file=sys.stderr)
sys.exit(code)
"""


@dataclass(frozen=True, slots=True)
class Bounded:
    """What the child did."""

    code: int
    stdout: str
    stderr: str
    peak_mib: float
    seconds: float


def run_itops(
    args: Sequence[str],
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
    memory_mib: int = 2048,
) -> Bounded:
    """``itops ARGS`` in a fresh interpreter, address space capped at ``memory_mib``."""

    def cap() -> None:
        limit = memory_mib * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        preexec_fn=cap,
        check=False,
    )
    seconds = time.monotonic() - started
    lines = proc.stderr.splitlines()
    peak = next((int(x[len(MARK) :]) for x in reversed(lines) if x.startswith(MARK)), -1)
    stderr = "\n".join(x for x in lines if not x.startswith(MARK))
    return Bounded(proc.returncode, proc.stdout, stderr, peak / 1024, seconds)
