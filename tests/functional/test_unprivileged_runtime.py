"""The unprivileged runtime of the tests does not depend on where the checkout lives."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import kape_itops
from tests.support.unprivileged import Unprivileged, nobody_can_read, stage_tree


def test_a_checkout_nobody_can_enter_still_runs_as_nobody(unprivileged: Unprivileged) -> None:
    private = Path(tempfile.mkdtemp(prefix="itops-private-checkout-"))  # 0700, like mktemp -d
    stage = Path(tempfile.mkdtemp(prefix="itops-nobody-"))
    try:
        stage_tree(Path(kape_itops.__file__).parent, private / "kape_itops")
        assert not nobody_can_read(private / "kape_itops")
        runtime = Unprivileged(stage, package=private / "kape_itops")
        assert runtime.package.is_relative_to(stage)
        proc = runtime.run("doctor", "--json")
        assert proc.stdout and json.loads(proc.stdout)["checks"], proc.stderr
        assert nobody_can_read(Path(runtime.python))
    finally:
        shutil.rmtree(private, ignore_errors=True)
        shutil.rmtree(stage, ignore_errors=True)
