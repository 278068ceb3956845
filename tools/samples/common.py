"""What the sample generators share: the repository's folders and their YAML data files."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from kape_itops.yamlsafe import load_yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


def load_data(name: str) -> Any:
    """A data file of the generators (``tools/samples/<name>``), read like any data file."""
    return load_yaml(HERE / name)


def target(default: Path, argv: list[str] | None = None) -> Path:
    """The output folder: the first command-line argument, else ``default``."""
    args = sys.argv[1:] if argv is None else argv
    return Path(args[0]) if args else default
