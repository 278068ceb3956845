"""The sample generators in tools/samples rebuild the shipped samples from their data files.

``python -m tools.samples.quotes OUT`` writes every quotes/ folder from tools/samples/rfqs/*.yaml;
every file must come out as shipped (an XLSX part by part: only its creation time differs).
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
QUOTES = REPO / "quotes"
TIMESTAMPS = "docProps/core.xml"


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist() if n != TIMESTAMPS}


def test_quote_generator_reproduces_every_shipped_sample(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tools.samples.quotes", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    made = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    data = sorted(p.stem for p in (REPO / "tools" / "samples" / "rfqs").glob("*.yaml"))
    assert sorted({p.parts[0] for p in made}) == data
    shipped = {
        p.relative_to(QUOTES)
        for folder in data
        for p in (QUOTES / folder).rglob("*")
        if p.is_file() and p.name != "README.md"
    }
    assert set(made) == shipped
    for rel in made:
        new, old = tmp_path / rel, QUOTES / rel
        if rel.suffix == ".xlsx":
            assert _parts(new) == _parts(old), rel
        else:
            assert new.read_bytes() == old.read_bytes(), rel
