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
``features``       text features of responses and pairs: length, Markdown polish
``balance``        how balanced a bank is (shorter or plainer answer gold, traps)
``markdown``       Markdown shown as written, images never fetched
``files``          CSV rows with their lines, atomic writes
``errors``         :class:`Problem` and :class:`InputError`
=================  ===============================================================
"""

from pairs.balance import balance_problems, bank_stats
from pairs.bank import COLUMNS as PAIR_COLUMNS
from pairs.bank import (
    GOLD_VALUES,
    KNOWN_TAGS,
    STARTER_BANK_NAME,
    STARTER_BANK_PATH,
    bank_to_records,
    build_bank,
    content_id,
    validate_records,
)
from pairs.errors import InputError, Problem
from pairs.features import pair_features, response_features
from pairs.files import atomic_write
from pairs.importers import FORMATS, check_bank, check_bank_bytes, detect_format, read_bank, read_bank_bytes
from pairs.judgments import COLUMNS as JUDGMENT_COLUMNS
from pairs.judgments import (
    neutralize_formula,
    parse_judgments,
    read_judgments,
    spreadsheet_safe,
    validate_judgments,
)
from pairs.judgments import to_csv as judgments_to_csv
from pairs.markdown import escape_markdown, safe_markdown

__all__ = [
    "FORMATS",
    "GOLD_VALUES",
    "JUDGMENT_COLUMNS",
    "KNOWN_TAGS",
    "PAIR_COLUMNS",
    "STARTER_BANK_NAME",
    "STARTER_BANK_PATH",
    "InputError",
    "Problem",
    "atomic_write",
    "balance_problems",
    "bank_stats",
    "bank_to_records",
    "build_bank",
    "check_bank",
    "check_bank_bytes",
    "content_id",
    "detect_format",
    "escape_markdown",
    "judgments_to_csv",
    "neutralize_formula",
    "pair_features",
    "parse_judgments",
    "read_bank",
    "read_bank_bytes",
    "read_judgments",
    "response_features",
    "safe_markdown",
    "spreadsheet_safe",
    "validate_judgments",
    "validate_records",
]
