"""Procurement for people who never see YAML: an RFQ made from a form, the blank vendor form,
uploaded quotation forms kept in the database, evaluations (with another method or weights to
see the effect) and award decisions, every step in the audit trail.

Scoring is the CLI's (:func:`kape_itops.quotes.service.score` on the stored files written to a
private temporary folder); a recorded evaluation keeps its audit record like ``quote score``.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from kape_itops.config import Settings
from kape_itops.datafiles import data_folder
from kape_itops.domain.evaluations import StoredEvaluation
from kape_itops.domain.procurement import (
    Decision,
    QuotationFile,
    RfqRecord,
    RfqSummary,
)
from kape_itops.errors import DataError, Issue, UsageError, ValidationFailed
from kape_itops.limits import Limits
from kape_itops.quotes.audit import sha256_bytes
from kape_itops.quotes.cpu import CpuTable
from kape_itops.quotes.evaluate import Options
from kape_itops.quotes.procurement_views import Effect, RfqView, SpecChoice, TrailEntry, trail_of
from kape_itops.quotes.rfq import METHODS, load_rfq, parse_weights
from kape_itops.quotes.rfq_form import RfqProblems, form_rfq, rfq_yaml
from kape_itops.quotes.service import Evaluations, Scored, ScoreInputs, score
from kape_itops.quotes.spec import Spec, load_spec
from kape_itops.quotes.template import write_form
from kape_itops.quotes.uploads import (
    MAX_FILES,
    Uploaded,
    UploadRefused,
    check_upload,
    safe_filename,
    vendor_key,
)
from kape_itops.store.db import Store
from kape_itops.store.procurement_repo import ProcurementRepo, Stamp

__all__ = [
    "Effect",
    "Procurement",
    "RfqProblems",
    "RfqView",
    "SpecChoice",
    "TrailEntry",
    "UploadRefused",
    "Uploaded",
]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Procurement:
    """RFQs in ``store``; every write is attributed to ``actor`` through ``source``."""

    def __init__(
        self,
        store: Store,
        actor: str,
        *,
        source: str = "api",
        data_dir: Path | None = None,
        limits: Limits | None = None,
        clock: Callable[[], dt.datetime] = _now,
    ) -> None:
        self.store = store
        self.actor = actor
        self.source = source
        self.specs_dir = data_folder(data_dir or Settings().data_dir).area("specs")
        self.limits = limits or Limits.from_env()
        self.clock = clock
        self._cpus: CpuTable | None = None

    @property
    def cpus(self) -> CpuTable:
        """The CPU table (loaded once)."""
        if self._cpus is None:
            self._cpus = CpuTable.load()
        return self._cpus

    def _stamp(self, what: str) -> Stamp:
        return Stamp(self.actor, self.clock(), f"{self.source}: {what}")

    # -- specs and RFQs ----------------------------------------------------------------------
    def specs(self) -> list[SpecChoice]:
        """The specs of the data folder (local over shipped), by id; unusable ones left out."""
        out = []
        for path in self.specs_dir.files("", "*.yaml"):
            try:
                spec = load_spec(path, self.cpus)
            except DataError:
                continue
            out.append(SpecChoice(spec.id, spec.version, spec.title))
        return out

    def create_rfq(self, values: Mapping[str, str], lines: Sequence[Mapping[str, str]]) -> int:
        """A new RFQ from form values (``FIELDS``) and lines (``LINE_FIELDS``); its id.

        :class:`RfqProblems` names every problem by field, all at once; nothing is stored."""
        extra: list[Issue] = []
        spec_id = str(values.get("spec", "")).strip()
        spec_path = self.specs_dir.file(f"{spec_id}.yaml") if spec_id else None
        if spec_path is not None and ("/" in spec_id or not spec_path.is_file()):
            extra.append(Issue("spec", None, None, spec_id, "no such spec"))
            spec_path = None
        try:
            rfq, data = form_rfq(values, lines)
        except RfqProblems as exc:
            raise RfqProblems(extra + exc.issues) from None
        if extra or spec_path is None:
            raise RfqProblems(extra)
        spec_text = spec_path.read_text("utf-8")
        spec = load_spec(spec_path, self.cpus)
        text = rfq_yaml(data)
        stamp = self._stamp("RFQ form")
        record = RfqRecord(
            id=0,
            rfq=rfq.id,
            title=rfq.title,
            spec_id=spec.id,
            spec_version=spec.version,
            currency=rfq.currency,
            submission_deadline=rfq.submission_deadline,
            created_at=stamp.at,
            created_by=self.actor,
            rfq_yaml=text,
            rfq_sha256=sha256_bytes(text.encode("utf-8")),
            spec_yaml=spec_text,
            spec_sha256=sha256_bytes(spec_text.encode("utf-8")),
        )
        try:
            with self.store.write() as s:
                return ProcurementRepo(s).add_rfq(record, stamp)
        except UsageError as exc:
            raise RfqProblems([Issue("rfq", None, None, rfq.id, str(exc))]) from None

    def rfqs(self, page: int = 1, per_page: int = 50) -> tuple[list[RfqSummary], int]:
        """One page of RFQs, newest first, and the number of pages."""
        with self.store.session() as s:
            repo = ProcurementRepo(s)
            total = repo.count()
            pages = max(1, -(-total // per_page))
            page = min(max(page, 1), pages)
            return repo.summaries(per_page, (page - 1) * per_page), pages

    def rfq(self, rfq_id: int) -> RfqView:
        """One RFQ with everything kept about it (NotFoundError)."""
        with self.store.session() as s:
            repo = ProcurementRepo(s)
            record = repo.rfq(rfq_id)
            files = repo.files(rfq_id)
            evaluations = repo.evaluations(rfq_id)
            decisions = repo.decisions(rfq_id)
        with self._folder(record, ()) as inputs:
            rfq = load_rfq(inputs.rfq)
        return RfqView(record, rfq, tuple(files), tuple(evaluations), tuple(decisions))

    def _spec(self, record: RfqRecord, folder: Path) -> Spec:
        path = folder / f"{record.spec_id}.yaml"
        path.write_text(record.spec_yaml, "utf-8")
        return load_spec(path, self.cpus)

    @contextmanager
    def _folder(
        self, record: RfqRecord, files: Sequence[tuple[str, bytes]]
    ) -> Iterator[ScoreInputs]:
        """The RFQ, its spec and ``files`` written to a private temporary folder."""
        with tempfile.TemporaryDirectory(prefix="itops-rfq-") as tmp:
            folder = Path(tmp)
            rfq_path = folder / "rfq.yaml"
            rfq_path.write_text(record.rfq_yaml, "utf-8")
            spec_path = folder / f"{record.spec_id}.yaml"
            spec_path.write_text(record.spec_yaml, "utf-8")
            quotes = folder / "quotations"
            quotes.mkdir()
            paths = []
            for name, content in files:
                (quotes / name).write_bytes(content)
                paths.append(quotes / name)
            yield ScoreInputs(rfq_path, spec_path, tuple(paths))

    # -- forms -------------------------------------------------------------------------------
    def blank_form(self, rfq_id: int, lang: str = "en") -> tuple[str, bytes]:
        """(file name, XLSX bytes) of the RFQ's blank vendor form; ``lang`` "en" or "en+km"."""
        view = self.rfq(rfq_id)
        with tempfile.TemporaryDirectory(prefix="itops-form-") as tmp:
            spec = self._spec(view.record, Path(tmp))
            out = Path(tmp) / "form.xlsx"
            write_form(spec, out, view.rfq, lang)
            content = out.read_bytes()
        name = safe_filename(f"{view.record.rfq}-quotation-form.xlsx").replace(" ", "_")
        return name, content

    def quotation_file(self, rfq_id: int, file_id: int) -> tuple[str, bytes]:
        """(file name, bytes) of one uploaded form, as it was uploaded."""
        view = self.rfq(rfq_id)
        found = next((f for f in view.files if f.id == file_id), None)
        if found is None:
            from kape_itops.errors import NotFoundError

            raise NotFoundError(f"no quotation file {file_id} for this RFQ")
        with self.store.session() as s:
            return found.filename, ProcurementRepo(s).content([file_id])[file_id]

    def upload(self, rfq_id: int, files: Sequence[tuple[str, bytes]]) -> list[Uploaded]:
        """Keep vendors' filled forms ((file name, bytes) each): all or none.

        Each is checked within the limits (size, a hostile workbook) and read by the quotation
        readers; :class:`UploadRefused` lists every problem of every file and nothing is stored.
        A form of a vendor who has one already replaces it (the old one stays in the trail)."""
        view = self.rfq(rfq_id)
        if not files:
            raise UploadRefused([Issue("upload", None, None, None, "choose at least one file")])
        if len(files) > MAX_FILES:
            raise UploadRefused(
                [Issue("upload", None, None, None, f"at most {MAX_FILES} files at once")]
            )
        issues: list[Issue] = []
        read: list[tuple[str, bytes, str]] = []
        for raw_name, content in files:
            name = safe_filename(raw_name)
            found = check_upload(name or raw_name[:60], content, self.limits)
            if isinstance(found, str):
                read.append((name, content, found))
            else:
                issues.extend(found)
        keys = [vendor_key(v) for _, _, v in read]
        for (name, _, vendor), key in zip(read, keys, strict=True):
            if keys.count(key) > 1:
                issues.append(
                    Issue(
                        name,
                        None,
                        None,
                        vendor,
                        "two files of this upload are "
                        "from the same vendor; upload one form per vendor",
                    )
                )
        if issues:
            raise UploadRefused(issues, "quotation forms refused, nothing stored")
        return self._store_files(view, read)

    def _store_files(self, view: RfqView, read: list[tuple[str, bytes, str]]) -> list[Uploaded]:
        out = []
        with self.store.write() as s:
            repo = ProcurementRepo(s)
            current = [f for f in repo.files(view.record.id) if f.replaced_by is None]
            for name, content, vendor in read:
                key = vendor_key(vendor)
                old = next((f for f in current if f.vendor_key == key), None)
                taken = {f.filename.lower() for f in current if f.vendor_key != key}
                unique, n = name, 2
                while unique.lower() in taken:
                    stem, dot, suffix = name.rpartition(".")
                    unique, n = f"{stem}-{n}{dot}{suffix}", n + 1
                sha = sha256_bytes(content)
                f = QuotationFile(
                    0,
                    view.record.id,
                    vendor,
                    key,
                    unique,
                    len(content),
                    sha,
                    self.clock(),
                    self.actor,
                )
                stamp = self._stamp(f"quotation upload {unique}")
                fid = repo.add_file(f, content, view.record.rfq, stamp)
                current = [c for c in current if c.vendor_key != key]
                current.append(
                    QuotationFile(
                        fid,
                        view.record.id,
                        vendor,
                        key,
                        unique,
                        len(content),
                        sha,
                        stamp.at,
                        self.actor,
                    )
                )
                out.append(Uploaded(fid, unique, vendor, sha, old.filename if old else ""))
        return out

    # -- evaluation and decision -------------------------------------------------------------
    def options(self, method: str | None, weights: str | None) -> Options:
        """Evaluation options from text ("" keeps the RFQ's); UsageError naming the field."""
        m = (method or "").strip() or None
        if m is not None and m not in METHODS:
            raise UsageError(f"method '{m}' is not one of {', '.join(METHODS)}")
        w = (weights or "").strip()
        return Options(method=m, weights=parse_weights(w) if w else None)

    def evaluate(self, rfq_id: int, options: Options | None = None) -> Scored:
        """Score the current forms (nothing recorded); DataError when there are none."""
        view = self.rfq(rfq_id)
        if not view.current:
            raise DataError("no quotation uploaded yet: upload the vendors' filled forms first")
        with self.store.session() as s:
            content = ProcurementRepo(s).content([f.id for f in view.current])
        files = [(f.filename, content[f.id]) for f in view.current]
        with self._folder(view.record, files) as inputs:
            try:
                return score(inputs, options or Options(), self.actor, self.cpus)
            except DataError as exc:
                raise _without(exc, str(inputs.rfq.parent) + "/") from None

    def effect(self, rfq_id: int, options: Options) -> Effect:
        """The RFQ's evaluation and, when ``options`` change anything, the changed one."""
        base = self.evaluate(rfq_id)
        changed = None
        if options.method or options.weights:
            other = self.evaluate(rfq_id, options)
            if other.sha256 != base.sha256:
                changed = other
        return Effect(base, changed)

    def record(self, rfq_id: int, options: Options | None = None) -> int:
        """Score and keep the evaluation with its audit record (as ``quote score``); its id."""
        scored = self.evaluate(rfq_id, options)
        ev = scored.evaluation
        weights = f" {ev.weights[0]}:{ev.weights[1]}" if ev.weights else ""
        evaluation_id = Evaluations(self.store).add(scored, self.actor)
        with self.store.write() as s:
            ProcurementRepo(s).link_evaluation(
                rfq_id, evaluation_id, ev.rfq, self._stamp("evaluation"), f"{ev.method}{weights}"
            )
        return evaluation_id

    def recorded(self, rfq_id: int, evaluation_id: int) -> StoredEvaluation:
        """A recorded evaluation of this RFQ, with its audit record (NotFoundError)."""
        with self.store.session() as s:
            return ProcurementRepo(s).evaluation(rfq_id, evaluation_id)

    def decide(self, rfq_id: int, evaluation_id: int, lot: str, quote: str, comment: str) -> int:
        """Record the award of ``lot`` to the offer ``quote`` ("" for no award) on a recorded
        evaluation; a comment is required unless it is the evaluation's own award."""
        view = self.rfq(rfq_id)
        stored = self.recorded(rfq_id, evaluation_id)
        result = json.loads(stored.result_json)
        lots = {str(x["lot"]): x for x in result.get("lots", [])}
        if lot not in lots:
            raise UsageError(f"lot '{lot}' is not in evaluation {evaluation_id}")
        offers = {str(o["quote"]): o for o in lots[lot].get("offers", [])}
        comment = comment.strip()
        vendor = ""
        if quote:
            if quote not in offers:
                raise UsageError(f"'{quote}' made no offer for lot {lot}")
            if offers[quote].get("rank") is None:
                raise UsageError(f"'{quote}' is not ranked for lot {lot}: it cannot be awarded")
            vendor = str(offers[quote]["vendor"])
        if quote != (lots[lot].get("award") or "") and not comment:
            raise UsageError("a decision that differs from the evaluation's award needs a comment")
        d = Decision(
            0, rfq_id, evaluation_id, lot, vendor, quote, comment, self.clock(), self.actor
        )
        with self.store.write() as s:
            return ProcurementRepo(s).add_decision(d, view.record.rfq, self._stamp("decision"))

    def trail(self, rfq_id: int) -> list[TrailEntry]:
        """Everything done on the RFQ, oldest first."""
        return trail_of(self.rfq(rfq_id))


def _without(exc: DataError, prefix: str) -> DataError:
    """The error with the temporary folder taken out of its file names."""
    if isinstance(exc, ValidationFailed):
        issues = [
            Issue(
                i.file.replace(prefix, "").removeprefix("quotations/"),
                i.row,
                i.column,
                i.value,
                i.reason,
                i.severity,
            )
            for i in exc.issues
        ]
        return ValidationFailed(issues, str(exc).replace(prefix, "").rsplit(":", 1)[0])
    return DataError(str(exc).replace(prefix + "quotations/", "").replace(prefix, ""))
