"""One racing editor for the concurrency tests: edits one device until a deadline.

``python -m tests.support.edit_race URL TAG MODE NAME SECONDS`` prints one JSON line with how
many commands succeeded, by kind, and the errors met. Modes:

- ``notes``: ``Inventory.set(tag, notes=<NAME>-<n>)``, a new value every time;
- ``retire``: alternately ``retire`` (appends to the notes, sets the status) and
  ``set status=deployed``;
- ``cli``: the same as ``notes`` through a real ``python -m kape_itops inventory set`` process.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from collections import Counter

from kape_itops.errors import ItopsError
from kape_itops.inventory.service import Inventory
from kape_itops.store.db import Store


def _cli(url: str, tag: str, value: str, name: str) -> bool:
    cmd = [sys.executable, "-m", "kape_itops", "--db", url, "--actor", name]
    done = subprocess.run(
        [*cmd, "inventory", "set", tag, f"notes={value}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip()[-300:])
    return True


def main(url: str, tag: str, mode: str, name: str, seconds: float) -> dict[str, object]:
    """Edit until the deadline; returns the counts of successful commands and the errors."""
    store = Store(url)
    inv = Inventory(store, name)
    ok: Counter[str] = Counter()
    errors: list[str] = []
    deadline = time.monotonic() + seconds
    n = 0
    rng = random.Random(name)
    while time.monotonic() < deadline and len(errors) < 20:
        n += 1
        try:
            if mode == "notes":
                inv.set(tag, {"notes": f"{name}-{n}"})
                ok["notes"] += 1
            elif mode == "cli":
                _cli(url, tag, f"{name}-{n}", name)
                ok["notes"] += 1
            elif n % 2:
                inv.retire(tag, f"{name}-{n}")
                ok["retire"] += 1
            else:
                inv.set(tag, {"status": "deployed"})
                ok["status"] += 1
        except (ItopsError, RuntimeError) as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
        time.sleep(rng.uniform(0, 0.02))  # as people do: SQLite's busy wait is not fair
    store.dispose()
    return {"ok": dict(ok), "errors": errors}


if __name__ == "__main__":
    url_, tag_, mode_, name_, seconds_ = sys.argv[1:6]
    print(json.dumps(main(url_, tag_, mode_, name_, float(seconds_))))
