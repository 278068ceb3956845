"""Quotation scoring: spec templates, quotation readers, units, evaluation, reports, audit.

The pure core is :func:`evaluate`; :mod:`kape_itops.quotes.service` adds file handling and
storage for the CLI (``itops quote …``, ``itops spec check``).
"""

from kape_itops.quotes.comparison import compare
from kape_itops.quotes.cpu import CpuTable
from kape_itops.quotes.evaluate import Options, evaluate
from kape_itops.quotes.readers import Quotation, read_quotation
from kape_itops.quotes.report import canonical_json
from kape_itops.quotes.report_files import write_report
from kape_itops.quotes.report_html import render_html
from kape_itops.quotes.report_md import render_markdown
from kape_itops.quotes.result import Evaluation
from kape_itops.quotes.rfq import Rfq, load_rfq, parse_rate, parse_weights
from kape_itops.quotes.spec import Spec, check_spec_paths, load_spec
from kape_itops.quotes.template import write_form
from kape_itops.quotes.units import Quantity, UnitError, parse_quantity

__all__ = [
    "CpuTable",
    "Evaluation",
    "Options",
    "Quantity",
    "Quotation",
    "Rfq",
    "Spec",
    "UnitError",
    "canonical_json",
    "check_spec_paths",
    "compare",
    "evaluate",
    "load_rfq",
    "load_spec",
    "parse_quantity",
    "parse_rate",
    "parse_weights",
    "read_quotation",
    "render_html",
    "render_markdown",
    "write_form",
    "write_report",
]
