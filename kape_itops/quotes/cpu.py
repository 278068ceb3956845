"""The shipped CPU table and the "i5/Ryzen 5 class or better, or equivalent" rule.

A quoted CPU is found by its model number ("Intel® Core™ i5-1235U", "Ryzen AI 7 350", "Apple
M2"); its approximate performance index (see specs/CPUS.md) is compared with the reference CPUs
the spec names, any one of which satisfies the rule. A CPU without a model number, or one missing
from the table, cannot be verified.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CPU_TABLE_FILE", "Cpu", "CpuMatch", "CpuTable", "CpuVerdict", "compare_cpu", "cpu_key"]

CPU_TABLE_FILE = "cpus.csv"


@dataclass(frozen=True, slots=True)
class Cpu:
    """One row of the CPU table."""

    model: str
    vendor: str
    cpu_class: str
    generation: str
    segment: str
    cores: int
    threads: int
    index: int
    source: str = ""
    """Where cores/threads come from and what the index is based on (specs/CPUS.md)."""


@dataclass(frozen=True, slots=True)
class CpuMatch:
    """The CPU found in a quoted text, or why none was."""

    cpu: Cpu | None
    key: str | None
    reason: str


_CLEAN = re.compile(r"®|™|\(r\)|\(tm\)|\bintel\b|\bamd\b|\bapple\b|\bprocessor\b|\bcpu\b|,", re.I)
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bultra\s*([579])\s*(\d{3})([a-z]{0,2})\b"), "ultra{0}-{1}{2}"),
    (re.compile(r"\b(i[3579])\s*[- ]?\s*(n?\d{3,5})([a-z]{0,2}\d?)\b"), "{0}-{1}{2}"),
    (re.compile(r"\bcore\s*([357])\s*(\d{3})([a-z]{0,2})\b"), "core{0}-{1}{2}"),
    (
        re.compile(r"\bryzen\s*ai\s*([3579])\s*(?:pro\s*)?(hx\s*)?(?:pro\s*)?(\d{3})\b"),
        "ryzenai{0}-{1}{2}",
    ),
    (re.compile(r"\bryzen\s*([3579])\s*(?:pro\s*)?(\d{4})([a-z]{0,2})\b"), "ryzen{0}-{1}{2}"),
    (re.compile(r"\bryzen\s*([3579])\s*(?:pro\s*)?(2[1-7]0)\b"), "ryzen{0}-{1}"),
    (re.compile(r"\bceleron\s*([a-z]?\d{4}[a-z]?)\b"), "celeron-{0}"),
    (re.compile(r"\bpentium\s*(?:silver|gold)?\s*([a-z]?\d{4}[a-z]?)\b"), "pentium-{0}"),
    (re.compile(r"\bathlon\s*(?:silver|gold)?\s*(\d{4}[a-z]{0,2})\b"), "athlon-{0}"),
    (re.compile(r"(?<![\w.])m([1-4])(?:\s+(pro|max))?\b"), "m{0}{1}"),
    (re.compile(r"(?<![\w-])(n\d{2,3})\b"), "{0}"),
)
_FAMILY_ONLY = re.compile(
    r"\b(core\s*i[3579]|i[3579]\b|core\s*[357]\b|ryzen\s*(?:ai\s*)?[3579]|core\s*ultra|celeron"
    r"|pentium|athlon|equivalent)\b",
    re.I,
)


def cpu_key(text: str) -> str | None:
    """The lookup key of the model named in ``text`` ("Core i5-1235U" -> "i5-1235u")."""
    low = _CLEAN.sub(" ", text.lower())
    low = " ".join(low.split())
    for pattern, shape in _PATTERNS:
        m = pattern.search(low)
        if m:
            groups = [(g or "").replace(" ", "") for g in m.groups()]
            if shape.startswith("m{0}") and groups[1]:
                groups[1] = " " + groups[1]
            return shape.format(*groups)
    return None


class CpuTable:
    """The CPU table, keyed by :func:`cpu_key`."""

    def __init__(self, cpus: list[Cpu], sha256: str = "") -> None:
        self.cpus = cpus
        self.sha256 = sha256
        """SHA-256 of the CSV the table was read from (for the audit record)."""
        self._by_key: dict[str, Cpu] = {}
        for cpu in cpus:
            key = cpu_key(cpu.model)
            if key is None:
                raise ValueError(f"CPU table: cannot derive a key from model '{cpu.model}'")
            if key in self._by_key:
                raise ValueError(f"CPU table: duplicate model '{cpu.model}'")
            self._by_key[key] = cpu

    @classmethod
    def load(cls, path: Path | None = None) -> CpuTable:
        """The CSV at ``path``, else ``specs/cpus.csv`` of the data folder (local over shipped)."""
        if path is None:
            from kape_itops.config import Settings
            from kape_itops.datafiles import data_folder

            path = data_folder(Settings().data_dir).area("specs").file(CPU_TABLE_FILE)
        data = path.read_bytes()
        text = data.decode("utf-8")
        rows = csv.DictReader(text.splitlines())
        return cls(
            [
                Cpu(
                    model=r["model"],
                    vendor=r["vendor"],
                    cpu_class=r["class"],
                    generation=r["generation"],
                    segment=r["segment"],
                    cores=int(r["cores"]),
                    threads=int(r["threads"]),
                    index=int(r["index"]),
                    source=r.get("source") or "",
                )
                for r in rows
            ],
            sha256=hashlib.sha256(data).hexdigest(),
        )

    def lookup(self, text: str) -> CpuMatch:
        """Find the CPU named in ``text``; an unnamed "equivalent" is not found, with the reason."""
        key = cpu_key(text)
        if key is None:
            if _FAMILY_ONLY.search(text):
                return CpuMatch(
                    None,
                    None,
                    f"'{text}' names no CPU model, so 'or equivalent' cannot be verified; "
                    "ask for the exact model",
                )
            return CpuMatch(None, None, f"'{text}' is not a recognised CPU model")
        cpu = self._by_key.get(key)
        if cpu is None:
            return CpuMatch(None, key, f"CPU model '{key}' is not in the CPU table; add it or ask")
        return CpuMatch(cpu, key, f"{cpu.model} (index {cpu.index})")


@dataclass(frozen=True, slots=True)
class CpuVerdict:
    """A quoted CPU against the spec's references: met or not, and the reference that decided."""

    ok: bool
    reference: Cpu
    reason: str


def compare_cpu(cpu: Cpu, references: Sequence[Cpu]) -> CpuVerdict:
    """``cpu`` against ``references``, any one of which satisfies the rule.

    A pass is decided by the most demanding reference met, a failure by the closest (least
    demanding) one; ties go to the reference listed first.
    """
    if not references:
        raise ValueError("compare_cpu needs at least one reference CPU")
    met = [r for r in references if cpu.index >= r.index]
    ok = bool(met)
    ref = max(met, key=lambda r: r.index) if ok else min(references, key=lambda r: r.index)
    reason = f"{cpu.model} index {cpu.index} {'>=' if ok else '<'} {ref.model} index {ref.index}"
    if len(references) > 1:
        names = ", ".join(r.model for r in references)
        reason += (
            f" (reference met; any one of {names} suffices)"
            if ok
            else f" (closest reference; meets none of {names})"
        )
    return CpuVerdict(ok, ref, reason)
