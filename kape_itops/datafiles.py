"""The data folders (``inventory/``, ``probes/``, ``specs/``, ``quotes/``): local first, then shipped.

The defaults ship inside the package (``kape_itops/_data``, built from the repository's top-level
folders, the one source of truth). A local data folder, ``ITOPS_DATA`` or the current folder when it
holds one of those folders, overrides the shipped defaults file by file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from kape_itops.atomic import copy_file, output_folder
from kape_itops.errors import UsageError

__all__ = [
    "AREAS",
    "DataDir",
    "DataFolder",
    "as_data_dir",
    "copy_defaults",
    "data_folder",
    "shipped_root",
    "shipped_schema",
]

AREAS = ("inventory", "probes", "specs", "quotes")
"""The folders a data folder may hold."""

_SKIP_SUFFIXES = (".py", ".pyc")


def shipped_root() -> Path:
    """The defaults shipped inside the package (a real folder: wheels install unzipped)."""
    return Path(str(resources.files("kape_itops").joinpath("_data")))


def shipped_schema(area: str, name: str) -> Path:
    """A JSON Schema of the shipped defaults (schemas describe the format; users do not edit them)."""
    if area == "probes":
        return shipped_root() / "probes" / "schema" / name
    return shipped_root() / area / name


@dataclass(frozen=True, slots=True)
class DataDir:
    """One folder seen through its layers, first match wins (local before shipped)."""

    roots: tuple[Path, ...]

    def file(self, rel: str) -> Path:
        """The first layer's ``rel`` that exists (else the first layer's path, for messages)."""
        for root in self.roots:
            candidate = root / rel
            if candidate.is_file():
                return candidate
        return self.roots[0] / rel

    def files(self, sub: str, pattern: str) -> list[Path]:
        """Files matching ``pattern`` in ``sub`` of every layer, by name; a local file hides a
        shipped one of the same name. Sorted by name."""
        found: dict[str, Path] = {}
        for root in self.roots:
            folder = root / sub if sub else root
            if not folder.is_dir():
                continue
            for path in sorted(folder.glob(pattern)):
                if path.is_file():
                    found.setdefault(path.name, path)
        return [found[name] for name in sorted(found)]

    def where(self) -> str:
        """The layers, for messages."""
        return " then ".join(str(r) for r in self.roots)

    def sub(self, name: str) -> DataDir:
        """The same layers one folder down."""
        return DataDir(tuple(root / name for root in self.roots))


def as_data_dir(value: Path | DataDir) -> DataDir:
    """A folder given explicitly is taken alone; a :class:`DataDir` as it is."""
    return value if isinstance(value, DataDir) else DataDir((value,))


def _has_area(folder: Path) -> bool:
    return any((folder / area).is_dir() for area in AREAS)


@dataclass(frozen=True, slots=True)
class DataFolder:
    """The local data folder (or none) over the shipped defaults."""

    local: Path | None
    shipped: Path

    def area(self, name: str) -> DataDir:
        """One of :data:`AREAS`, local first."""
        roots = [self.shipped / name]
        if self.local is not None and self.local.resolve() != self.shipped.resolve():
            roots.insert(0, self.local / name)
        return DataDir(tuple(roots))

    def origin(self, rel: str) -> str:
        """``local`` or ``shipped``: where ``rel`` (``area/file``) is read from."""
        if self.local is not None and (self.local / rel).is_file():
            return "local"
        return "shipped"

    def describe(self) -> str:
        """One line for ``doctor``: which folders are read."""
        if self.local is None:
            return f"shipped defaults only ({self.shipped}); no local data folder"
        return f"{self.local.resolve()} over the shipped defaults ({self.shipped})"


def data_folder(data_dir: Path) -> DataFolder:
    """The data folder for settings' ``data_dir``: local when it holds one of :data:`AREAS`."""
    return DataFolder(local=data_dir if _has_area(data_dir) else None, shipped=shipped_root())


def _default_files() -> Iterator[tuple[Path, Path]]:
    root = shipped_root()
    for area in AREAS:
        for path in sorted((root / area).rglob("*")):
            if (
                path.is_file()
                and path.suffix not in _SKIP_SUFFIXES
                and "__pycache__" not in path.parts
            ):
                yield path, path.relative_to(root)


def copy_defaults(target: Path, *, overwrite: bool = False) -> tuple[list[Path], list[Path]]:
    """Copy the shipped defaults into ``target``; returns (written, kept as they were)."""
    if target.exists() and not target.is_dir():
        raise UsageError(f"{target}: exists and is not a folder")
    output_folder(target)
    written: list[Path] = []
    kept: list[Path] = []
    for source, rel in _default_files():
        dest = target / rel
        if dest.exists() and not overwrite:
            kept.append(rel)
            continue
        copy_file(source, dest, make_parents=True)  # the area folders are the tool's own
        written.append(rel)
    return written, kept
