"""Scoring as one call: find the inputs, read them, evaluate, audit, store.

This is the I/O shell around the pure :func:`kape_itops.quotes.evaluate.evaluate`; the CLI and
tests call it.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from kape_itops.datafiles import DataDir, data_folder
from kape_itops.domain.evaluations import StoredEvaluation
from kape_itops.errors import DataError, Issue, UsageError, ValidationFailed
from kape_itops.quotes.audit import build_audit, sha256_bytes
from kape_itops.quotes.cpu import CpuTable
from kape_itops.quotes.evaluate import Options, evaluate, parameters
from kape_itops.quotes.readers import Quotation, read_quotation
from kape_itops.quotes.report import canonical_json
from kape_itops.quotes.result import Evaluation
from kape_itops.quotes.rfq import load_rfq
from kape_itops.quotes.spec import load_spec
from kape_itops.store.db import Store

__all__ = [
    "Evaluations",
    "ScoreInputs",
    "Scored",
    "find_spec",
    "history",
    "resolve_inputs",
    "score",
    "show",
    "store_result",
]

QUOTE_SUFFIXES = (".xlsx", ".xlsm", ".csv")


@dataclass(frozen=True, slots=True)
class ScoreInputs:
    """The files one evaluation reads."""

    rfq: Path
    spec: Path
    quotations: tuple[Path, ...]


@dataclass(frozen=True, slots=True)
class Scored:
    """An evaluation with its canonical JSON and hash."""

    evaluation: Evaluation
    json: str
    sha256: str
    inputs: ScoreInputs


def _quote_files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in QUOTE_SUFFIXES and not p.name.startswith(("~$", "."))
    )


def find_spec(value: str | Path, specs: DataDir) -> Path:
    """A spec by path (``specs/laptop.yaml``) or by id (``laptop``) in the data folder's specs."""
    path = Path(value)
    if path.is_file():
        return path
    text = str(value)
    if "/" not in text and "\\" not in text and not text.endswith((".yaml", ".yml")):
        found = specs.file(f"{text}.yaml")
        if found.is_file():
            return found
        known = ", ".join(p.stem for p in specs.files("", "*.yaml"))
        raise UsageError(f"no spec with id '{text}' in {specs.where()} (have: {known})")
    raise UsageError(f"{text}: no such spec file")


def resolve_inputs(
    paths: Sequence[Path], spec: Path | str | None, rfq: Path | None, data_dir: Path
) -> ScoreInputs:
    """An RFQ folder (rfq.yaml + quotations) or quotation files; the spec from --spec (a path or
    an id) or the RFQ's spec id, looked up next to the RFQ folder, then in the data folder."""
    specs = data_folder(data_dir).area("specs")
    if not paths:
        raise UsageError("give an RFQ folder or quotation files")
    files: list[Path] = []
    folder: Path | None = None
    for p in paths:
        if p.is_dir():
            folder = folder or p
            files.extend(_quote_files(p))
        elif p.is_file():
            files.append(p)
        else:
            raise UsageError(f"{p}: no such file or folder")
    if not files:
        raise UsageError(f"no quotation files (.xlsx, .csv) in {', '.join(map(str, paths))}")
    if rfq is None:
        base = folder or files[0].parent
        for candidate in (base / "rfq.yaml", base.parent / "rfq.yaml"):
            if candidate.is_file():
                rfq = candidate
                break
        else:
            raise UsageError(f"no rfq.yaml in {base} or {base.parent}; give --rfq FILE")
    if spec is None:
        spec_id = load_rfq(rfq).spec
        name = f"{spec_id}.yaml"
        beside = rfq.resolve().parent.parent.parent / "specs" / name
        local, shipped = specs.roots[:-1], specs.roots[-1:]
        candidates = [r / name for r in local] + [beside] + [r / name for r in shipped]
        spec = next((c for c in candidates if c.is_file()), specs.file(name))
        if not spec.is_file():
            raise UsageError(
                f"spec '{spec_id}' not found in {specs.where()}; give --spec FILE or an id"
            )
    else:
        spec = find_spec(spec, specs)
    names = [f.name for f in files]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise UsageError(f"two quotation files share a name: {', '.join(dupes)}")
    return ScoreInputs(rfq, spec, tuple(files))


def read_all(files: Sequence[Path]) -> list[Quotation]:
    """Read every quotation; every file's problems are reported together."""
    out: list[Quotation] = []
    issues: list[Issue] = []
    errors: list[str] = []
    for f in files:
        try:
            out.append(read_quotation(f))
        except ValidationFailed as exc:
            issues.extend(exc.issues)
        except DataError as exc:
            errors.append(str(exc))
    if errors and not issues:
        raise DataError("; ".join(errors))
    if issues or errors:
        issues += [
            Issue(e.split(":", 1)[0], None, None, None, e.split(":", 1)[-1].strip()) for e in errors
        ]
        raise ValidationFailed(issues, "quotations rejected")
    return out


@contextmanager
def _bulk() -> Iterator[None]:
    """Pause the cyclic garbage collector: scoring creates many small acyclic objects, and
    repeated full collections over them cost more than the scoring itself."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def score(
    inputs: ScoreInputs,
    options: Options,
    evaluator: str,
    cpus: CpuTable | None = None,
) -> Scored:
    """Read, evaluate and audit; raises before anything is stored."""
    with _bulk():
        return _score(inputs, options, evaluator, cpus)


def _score(
    inputs: ScoreInputs,
    options: Options,
    evaluator: str,
    cpus: CpuTable | None,
) -> Scored:
    table = cpus or CpuTable.load()
    spec = load_spec(inputs.spec, table)
    rfq = load_rfq(inputs.rfq)
    quotes = read_all(inputs.quotations)
    prm = parameters(rfq, quotes, options)
    audit = build_audit(
        rfq_file=inputs.rfq,
        spec_file=inputs.spec,
        spec_id=spec.id,
        spec_version=spec.version,
        quotation_files=list(inputs.quotations),
        evaluator=evaluator,
        method=prm.method,
        weights=prm.weights if prm.method == "qcbs" else None,
        rate=str(prm.rate) if prm.rate else None,
        vat=f"{prm.vat_rate}% VAT-{rfq.vat_basis}",
        arithmetic=prm.arithmetic,
        evaluation_date=prm.evaluation_date,
        cpu_table_sha256=table.sha256,
        rate_source=(prm.rate.source or None) if prm.rate else None,
        blank_mandatory=rfq.blank_mandatory,
    )
    ev = evaluate(spec, rfq, quotes, table, options, audit)
    text = canonical_json(ev)
    return Scored(ev, text, sha256_bytes(text.encode("utf-8")), inputs)


def store_result(store: Store, scored: Scored, evaluator: str) -> int:
    """Keep the evaluation in the database; returns its id."""
    from kape_itops.store.evaluation_repo import EvaluationRepo

    ev = scored.evaluation
    with store.write() as s:
        return EvaluationRepo(s).add(
            created_at=dt.datetime.now(dt.UTC),
            evaluator=evaluator,
            rfq=ev.rfq,
            spec_id=ev.spec_id,
            spec_version=ev.spec_version,
            method=ev.method,
            inputs=dict(ev.audit),
            result_json=scored.json,
            result_sha256=scored.sha256,
            tool_version=str(ev.audit.get("tool_version", "")),
        )


def history(store: Store, limit: int = 100) -> list[StoredEvaluation]:
    """Stored evaluations, newest first."""
    from kape_itops.store.evaluation_repo import EvaluationRepo

    with store.session() as s:
        return EvaluationRepo(s).list(limit)


def show(store: Store, evaluation_id: int) -> StoredEvaluation:
    """One stored evaluation (NotFoundError if absent)."""
    from kape_itops.store.evaluation_repo import EvaluationRepo

    with store.session() as s:
        return EvaluationRepo(s).get(evaluation_id)


class Evaluations:
    """The evaluations stored in ``store``, for front ends (one transaction per call)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def add(self, scored: Scored, evaluator: str) -> int:
        """Keep an evaluation; returns its id."""
        return store_result(self.store, scored, evaluator)

    def newest(self, limit: int = 100) -> list[StoredEvaluation]:
        """Stored evaluations, newest first."""
        return history(self.store, limit)

    def get(self, evaluation_id: int) -> StoredEvaluation:
        """One stored evaluation (NotFoundError if absent)."""
        return show(self.store, evaluation_id)
