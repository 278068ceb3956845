"""Limits every inventory reader enforces: file size, rows, columns, cell length, nesting.

Each refusal is a :class:`~kape_itops.errors.ValidationFailed` with one located issue that
names the limit and the ``ITOPS_MAX_*`` variable raising it (see :mod:`kape_itops.limits`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from kape_itops.errors import Issue, ValidationFailed
from kape_itops.limits import SHOWN_CHARS, Limits


def reject(
    label: str, row: int | None, reason: str, column: str | None = None, value: str | None = None
) -> ValidationFailed:
    """A one-issue refusal of a whole table (``value`` cut to a short prefix)."""
    if value is not None and len(value) > SHOWN_CHARS:
        value = value[:SHOWN_CHARS] + "..."
    return ValidationFailed([Issue(label, row, column, value, reason)], f"{label} cannot be read")


def check_size(path: Path, label: str, limits: Limits) -> None:
    """Refuse a file over ``max_file_mb`` before reading any of it."""
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise reject(
            label,
            None,
            f"the file is {size / 2**20:,.1f} MiB, over the limit of {limits.max_file_mb} MiB "
            "(raise it with ITOPS_MAX_FILE_MB)",
        )


def bounded(
    records: Iterator[tuple[int, list[str]]],
    label: str,
    limits: Limits,
    column_name: Callable[[int], str],
) -> Iterator[tuple[int, list[str]]]:
    """Pass rows through, refusing the table at the first row, width or cell over a limit.

    ``max_rows`` counts data rows: the header row comes on top of it.
    """
    for count, (row, cells) in enumerate(records, 1):
        if count > limits.max_rows + 1:
            raise reject(
                label,
                row,
                f"more than {limits.max_rows:,} rows (raise the limit with ITOPS_MAX_ROWS)",
            )
        if len(cells) > limits.max_columns:
            raise reject(
                label,
                row,
                f"{len(cells):,} columns, over the limit of {limits.max_columns} "
                "(raise it with ITOPS_MAX_COLUMNS)",
            )
        for i, cell in enumerate(cells):
            if len(cell) > limits.max_cell_chars:
                raise reject(
                    label,
                    row,
                    f"the cell holds {len(cell):,} characters, over the limit of "
                    f"{limits.max_cell_chars:,} (raise it with ITOPS_MAX_CELL_CHARS)",
                    f"column {column_name(i)}",
                    cell,
                )
        yield row, cells


def too_deep(label: str, limits: Limits) -> ValidationFailed:
    """The refusal of a document nested deeper than ``max_depth``."""
    return reject(
        label,
        None,
        f"nested deeper than {limits.max_depth} levels (raise the limit with ITOPS_MAX_DEPTH)",
    )


def json_depth(data: object, limit: int) -> int:
    """The nesting depth of parsed JSON, counted without recursion; stops past ``limit``."""
    deepest = 0
    stack: list[tuple[object, int]] = [(data, 1)]
    while stack:
        item, depth = stack.pop()
        if not isinstance(item, dict | list):
            continue
        deepest = max(deepest, depth)
        if deepest > limit:
            break
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children)
    return deepest
