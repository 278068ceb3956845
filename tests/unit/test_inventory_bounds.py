"""``max_rows`` counts data rows: a file of exactly that many devices (plus its header) passes."""

from __future__ import annotations

import pytest

from kape_itops.errors import ValidationFailed
from kape_itops.inventory.bounds import bounded
from kape_itops.limits import Limits


def _rows(n: int) -> list[tuple[int, list[str]]]:
    return [(i, ["x"]) for i in range(1, n + 1)]


def test_header_plus_max_rows_data_rows_pass() -> None:
    limits = Limits(max_rows=3)
    assert len(list(bounded(iter(_rows(4)), "f.csv", limits, str))) == 4


def test_one_data_row_more_is_refused_naming_the_row() -> None:
    limits = Limits(max_rows=3)
    with pytest.raises(ValidationFailed) as err:
        list(bounded(iter(_rows(5)), "f.csv", limits, str))
    (issue,) = err.value.issues
    assert issue.row == 5 and "more than 3 rows" in issue.reason
