"""The XLSX guard and the limits: every hostile workbook refused before openpyxl sees it."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from kape_itops.errors import ConfigError, Issue
from kape_itops.limits import Limits, shown
from kape_itops.xlsxguard import XlsxRefused, check_xlsx, column_number
from tests.hostile import xlsx_bombs

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("bomb", sorted(xlsx_bombs.BOMBS))
def test_every_bomb_is_refused_quickly_in_one_short_line(tmp_path: Path, bomb: str) -> None:
    path = xlsx_bombs.BOMBS[bomb](tmp_path)
    started = time.monotonic()
    with pytest.raises(XlsxRefused) as info:
        check_xlsx(path, Limits())
    assert time.monotonic() - started < 5
    message = str(info.value)
    assert message.startswith(f"{path.name}: ") and "\n" not in message and len(message) < 250


def test_shipped_workbooks_pass(tmp_path: Path) -> None:
    books = [p for p in REPO.rglob("*.xlsx") if ".venv" not in p.parts]
    assert len(books) > 10
    for path in [*books, xlsx_bombs.good(tmp_path, 500)]:
        check_xlsx(path, Limits())


def test_the_real_extent_counts_not_the_declared_dimension(tmp_path: Path) -> None:
    path = xlsx_bombs.good(tmp_path, 20)  # 21 rows x 3 columns
    check_xlsx(path, Limits(max_rows=21, max_cells=63))
    with pytest.raises(XlsxRefused, match="row 21, over the limit of 20 rows"):
        check_xlsx(path, Limits(max_rows=20))
    with pytest.raises(XlsxRefused, match="over the limit of 2 columns"):
        check_xlsx(path, Limits(max_columns=2))
    with pytest.raises(XlsxRefused, match="spans more than 40 cells"):
        check_xlsx(path, Limits(max_cells=40))


def test_total_unzipped_size_is_limited(tmp_path: Path) -> None:
    noise = os.urandom(1_500_000).hex()  # 3 MB that zips to 1.5 MB
    path = xlsx_bombs.workbook(
        tmp_path / "big.xlsx", strings=xlsx_bombs.shared_strings([*xlsx_bombs.STRINGS, noise])
    )
    check_xlsx(path, Limits(max_cell_chars=4_000_000))
    with pytest.raises(XlsxRefused, match=r"over the limit of 1 MiB .*ITOPS_MAX_UNZIPPED_MB"):
        check_xlsx(path, Limits(max_unzipped_mb=1, max_cell_chars=4_000_000))
    with pytest.raises(XlsxRefused, match=r"over the limit of 1 MiB .*ITOPS_MAX_FILE_MB"):
        check_xlsx(path, Limits(max_file_mb=1, max_cell_chars=4_000_000))


def test_a_file_replaced_after_a_check_is_checked_again(tmp_path: Path) -> None:
    path = xlsx_bombs.good(tmp_path)
    check_xlsx(path, Limits())
    bomb = xlsx_bombs.far_cell(tmp_path)
    os.replace(bomb, path)
    with pytest.raises(XlsxRefused, match="row 99,999,999"):
        check_xlsx(path, Limits())


def test_column_letters() -> None:
    assert [column_number(c) for c in ("A", "Z", "AA", "xfd")] == [1, 26, 27, 16384]


def test_limits_from_the_environment() -> None:
    assert Limits.from_env({}) == Limits()
    got = Limits.from_env({"ITOPS_MAX_ROWS": "250_000", "ITOPS_MAX_DEPTH": " 80 "})
    assert (got.max_rows, got.max_depth, got.max_columns) == (250_000, 80, 200)
    for bad in ("0", "-1", "many", "1.5"):
        with pytest.raises(ConfigError, match="ITOPS_MAX_CELLS must be a positive whole number"):
            Limits.from_env({"ITOPS_MAX_CELLS": bad})


def test_messages_quote_a_short_prefix() -> None:
    assert shown("x" * 1000) == repr("x" * 40) + "..."
    assert shown("short") == "'short'"
    issue = str(Issue("f.csv", 2, "notes", "y" * 10_000, "too long"))
    assert len(issue) < 120 and issue.endswith(
        "(value 'yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy...')"
    )
