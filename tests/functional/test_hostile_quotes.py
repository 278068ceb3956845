"""`itops quote score` on hostile quotations: exit 1, one located line, bounded memory and time."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.functional.quote_helpers import QUOTES, SPECS
from tests.hostile import quotes as hq
from tests.hostile import xlsx_bombs
from tests.hostile.bounded import run_itops

PEAK_MIB = 300
"""The interpreter, SQLAlchemy and the quotation modules take ~90 MiB; a refusal adds little."""
SECONDS = 30
LINE = 300

HEAVY = ("far_cell", "last_column", "wide_and_tall", "unclosed_cells", "long_text", "formula_price")
"""The quotations that once took gigabytes or minutes, and the formula case, end to end."""


def score(folder: Path) -> tuple[int, str, float, float]:
    run = run_itops(
        [
            "--db",
            f"sqlite:///{folder.parent / 'itops.db'}",
            "quote",
            "score",
            str(folder),
            "--spec",
            str(SPECS / "laptop.yaml"),
            "--rfq",
            str(QUOTES / "laptop" / "rfq.yaml"),
        ],
        timeout=120,
    )
    return run.code, run.stderr, run.peak_mib, run.seconds


def assert_refused(folder: Path, expected: str) -> None:
    code, err, peak, seconds = score(folder)
    lines = [x for x in err.splitlines() if x.strip() and not x.startswith("created database")]
    assert code == 1, err[-2000:]
    assert "Traceback" not in err and lines[0].startswith("error: "), err[-2000:]
    assert len(lines) <= 2 and all(len(x) <= LINE + len(str(folder)) for x in lines), err[-2000:]
    assert expected in lines[-1], err[-2000:]
    assert 0 < peak < PEAK_MIB, f"peak {peak:.0f} MiB"
    assert seconds < SECONDS, f"{seconds:.1f} s"


@pytest.mark.parametrize("case", HEAVY)
def test_hostile_quotation_is_refused_in_bounded_memory_and_time(tmp_path: Path, case: str) -> None:
    folder = tmp_path / "quotes"
    folder.mkdir()
    path, expected = hq.XLSX[case](folder)
    assert_refused(folder, f"{path.name}, {expected}" if expected.startswith("sheet") else expected)


@pytest.mark.parametrize("bomb", sorted(xlsx_bombs.BOMBS))
def test_workbook_bombs_sent_as_quotations_are_refused(tmp_path: Path, bomb: str) -> None:
    made = tmp_path / "made"
    made.mkdir()
    folder = tmp_path / "quotes"
    folder.mkdir()
    path = xlsx_bombs.BOMBS[bomb](made).rename(folder / f"{bomb}.xlsx")
    assert_refused(folder, path.name)
