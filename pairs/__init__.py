"""PairCal's file formats: banks of response pairs, judgments CSV files, and what a bank's text shows.

Formats only: no statistics (``calibration/``), no SQL (``storage/``), no user
interface. Everything reports bad input as ``FILE:LINE: field: message``
(:class:`Problem`, raised together as :class:`InputError`).

=================  ===============================================================
module             what it holds
=================  ===============================================================
``bank``           what a pair is (:data:`PAIR_COLUMNS`), its validation, content-hash ids
``importers``      banks from jsonl, csv, LLMBar, chosen/rejected and MT-Bench files,
                   one module per format
``judgments``      the judgments CSV (:data:`JUDGMENT_COLUMNS`): read, check, write
``export``         every table written or shown: no cell a spreadsheet would run
``names``          names: one written form, look-alikes (skeletons), safe display
``features``       text features of responses and pairs: length, Markdown polish
``balance``        how balanced a bank is (shorter or plainer answer gold, traps)
``probes``         counterfactual probes: a pair again with one response restyled
``forms``          parallel assessment forms: matched splits, their balance, counterbalanced order
``traps``          trap tags read off the texts of pairs imported without tags
``markdown``       pair text and names as HTML that loads nothing from elsewhere
``files``          CSV rows with their lines, atomic writes
``errors``         :class:`Problem` and :class:`InputError`
=================  ===============================================================
"""

from pairs.balance import balance_problems, bank_stats
from pairs.bank import COLUMNS as PAIR_COLUMNS
from pairs.bank import (
    GOLD_VALUES,
    KNOWN_TAGS,
    PROBE_COLUMNS,
    PROBE_KINDS,
    STARTER_BANK_NAME,
    STARTER_BANK_PATH,
    bank_to_records,
    build_bank,
    content_id,
    validate_records,
)
from pairs.errors import InputError, Problem
from pairs.export import csv_text, formula_like, neutralize_formula, spreadsheet_safe, write_csv
from pairs.features import pair_features, response_features
from pairs.files import atomic_write
from pairs.forms import balance_summary, form_balance, form_order, split_forms
from pairs.importers import FORMATS, check_bank, check_bank_bytes, detect_format, read_bank, read_bank_bytes
from pairs.judgments import COLUMNS as JUDGMENT_COLUMNS
from pairs.judgments import parse_judgments, read_judgments, validate_judgments
from pairs.judgments import to_csv as judgments_to_csv
from pairs.markdown import escape_markdown, markdown_to_html
from pairs.names import lookalike, name_problem, name_skeleton, normalize_name, printable
from pairs.probes import derive_probes
from pairs.traps import style_traps, tag_traps

__all__ = [
    "FORMATS",
    "GOLD_VALUES",
    "JUDGMENT_COLUMNS",
    "KNOWN_TAGS",
    "PAIR_COLUMNS",
    "PROBE_COLUMNS",
    "PROBE_KINDS",
    "STARTER_BANK_NAME",
    "STARTER_BANK_PATH",
    "InputError",
    "Problem",
    "atomic_write",
    "balance_problems",
    "bank_stats",
    "balance_summary",
    "bank_to_records",
    "build_bank",
    "check_bank",
    "check_bank_bytes",
    "content_id",
    "csv_text",
    "derive_probes",
    "detect_format",
    "escape_markdown",
    "form_balance",
    "form_order",
    "formula_like",
    "judgments_to_csv",
    "lookalike",
    "markdown_to_html",
    "name_problem",
    "name_skeleton",
    "neutralize_formula",
    "normalize_name",
    "pair_features",
    "parse_judgments",
    "printable",
    "read_bank",
    "read_bank_bytes",
    "read_judgments",
    "response_features",
    "split_forms",
    "spreadsheet_safe",
    "style_traps",
    "tag_traps",
    "validate_judgments",
    "validate_records",
    "write_csv",
]
