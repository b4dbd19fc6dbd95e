"""Importing pair banks, and raters' votes as judgments, from the formats people already have.

Every reader turns a file into pair records for :func:`pairs.bank.validate_records`
and reports problems as ``FILE:LINE: field: message`` (:class:`~pairs.errors.Problem`).
All problems in a file are collected before giving up, and an import is all or
nothing: :func:`read_bank` raises :class:`~pairs.errors.InputError` listing every
problem, :func:`check_bank` returns the valid pairs *and* the problems.
:func:`check_bank_file` says more: which problems belong to one row and which
to the whole file, so that the valid rows can be imported when the user asks
for it (``--skip-invalid``, :class:`~pairs.importers.checked.Checked`).

Formats (:data:`FORMATS`, one module each; ``fmt="auto"`` picks one, see
:func:`detect_format`):

===================  ==========================================================
format               what it reads
===================  ==========================================================
``jsonl``            the native bank: one pair per line, keys as in
                     :data:`pairs.bank.COLUMNS` (a JSON list of such objects is
                     read too)
``csv``              the same columns with a header row; ``tags`` as ``a;b``
                     or a JSON list; empty cells count as missing
``llmbar``           LLMBar: a JSON list of ``{input, output_1, output_2,
                     label}``; ``label`` 1 or 2 names the gold; tagged
                     ``adversarial`` when the file name says so
``chosen-rejected``  preference pairs ``{prompt, chosen, rejected, [id],
                     [subset]}`` (RewardBench, Hugging Face preference
                     datasets), or HH-RLHF rows with whole dialogues in
                     ``chosen`` / ``rejected``; JSONL or a list
``mt-bench``         MT-Bench human judgments, one expert vote per row; the
                     votes on one question, model pair and turn become one pair
``pandalm``          PandaLM's annotated rows ``{instruction, input, response1,
                     response2, annotator1..3}``; the annotators' majority is
                     the gold, their agreement its confidence
``arena``            Chatbot Arena battles: two conversations (or ``prompt``,
                     ``response_a``, ``response_b`` columns) and the winner
``label-studio``     Label Studio's JSON export of pairwise comparisons
``argilla``          Argilla's ``{fields, responses}`` preference records
===================  ==========================================================

A file in any other layout is read through a column mapping
(:class:`~pairs.importers.mapped.ColumnMap`, ``--map``) instead of a format.

Trap tags
---------
Only the native formats (``jsonl``, ``csv``) and a column mapping carry tags an
expert wrote. The pairs of every other format are tagged with the trap kinds
their texts show (:func:`pairs.traps.tag_traps`: ``length`` when one response
has 1.5 times the words of the other, ``polish`` when one is plain and the other
formatted), so that the feedback can name the trap; a tag the reader gives
(LLMBar's ``adversarial``) is kept.

The formats that hold each rater's vote (:data:`JUDGMENT_FORMATS`) give those
votes as judgments too (:func:`check_judgments_file`), on the pairs their bank
import makes, with the same ids.

Line numbers are physical lines of the file: for JSONL the record's line, for a
JSON list the line where the record's object starts, for CSV the line where the
record starts (the header is line 1), for MT-Bench the line of a pair's first vote.
A JSON list written with several records on a line (on one line, say) names each
record by its number in the list and the character where it starts instead
(``FILE: record 4 (character 812): field: message``), and its rows' ``line`` is
that character, so that each record stays apart.

Chosen/rejected sides
---------------------
A preference pair has no order, but a bank where gold is always A teaches raters
to pick A. The chosen response becomes A when the first byte of
``sha256(SIDE_SEED, prompt, chosen, rejected)`` (joined by ``\\x1f``, UTF-8) is
even, so about half the pairs have gold B and the same file always imports the
same way. MT-Bench pairs place their two models the same way (see
:func:`pairs.importers.mt_bench.read_mt_bench`). The other formats with votes
keep the sides the raters saw.

Modules
-------
``reading``            what every reader shares: the decoded file (:class:`Source`),
                       UTF-8 checks, JSON and CSV records with their lines, field checks
``votes``              several raters' votes on a pair: their gold, and as judgments
``checked``            a checked file: its valid rows, its problems, its rejects
``mapped``             the column mapping for any other table
``native``, ``csv``,   one reader per format
``llmbar``,
``chosen_rejected``,
``mt_bench``,
``pandalm``,
``arena``,
``label_studio``,
``argilla``
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from pairs.bank import COLUMNS, validate_records
from pairs.errors import InputError, Problem, shown
from pairs.files import csv_rows
from pairs.importers.arena import read_arena, read_arena_judgments
from pairs.importers.argilla import read_argilla, read_argilla_judgments
from pairs.importers.checked import REJECT_COLUMNS, Checked
from pairs.importers.chosen_rejected import read_chosen_rejected
from pairs.importers.csv import read_csv
from pairs.importers.label_studio import read_label_studio, read_label_studio_judgments
from pairs.importers.llmbar import read_llmbar
from pairs.importers.mapped import ColumnMap, read_mapped
from pairs.importers.mt_bench import MT_BENCH_CATEGORIES, read_mt_bench
from pairs.importers.native import read_native
from pairs.importers.pandalm import read_pandalm, read_pandalm_judgments
from pairs.importers.reading import SIDE_SEED, Progress, Record, Source, decode, first_record
from pairs.judgments import COLUMNS as JUDGMENT_COLUMNS
from pairs.judgments import judgment_row_problems, judgment_rows, normalize
from pairs.traps import tag_traps

__all__ = [
    "FORMATS",
    "JUDGMENT_FORMATS",
    "MT_BENCH_CATEGORIES",
    "REJECT_COLUMNS",
    "SIDE_SEED",
    "Checked",
    "ColumnMap",
    "Progress",
    "Reader",
    "check_bank",
    "check_bank_bytes",
    "check_bank_file",
    "check_judgments_file",
    "detect_format",
    "detect_judgments_format",
    "read_bank",
    "read_bank_bytes",
]

Reader = Callable[[Source], Iterable[Record]]
"""A format's reader: takes the decoded file and yields ``(line, record)`` in the native schema,
reporting what it cannot map on the :class:`~pairs.importers.reading.Source`."""

FORMATS: dict[str, Reader] = {
    "jsonl": read_native,
    "csv": read_csv,
    "llmbar": read_llmbar,
    "chosen-rejected": read_chosen_rejected,
    "mt-bench": read_mt_bench,
    "pandalm": read_pandalm,
    "arena": read_arena,
    "label-studio": read_label_studio,
    "argilla": read_argilla,
}
"""Format name -> reader (each in its own module of this package)."""

JUDGMENT_FORMATS: dict[str, Reader] = {
    "pandalm": read_pandalm_judgments,
    "arena": read_arena_judgments,
    "label-studio": read_label_studio_judgments,
    "argilla": read_argilla_judgments,
}
"""Format name -> reader of its raters' votes as rows of the judgments CSV (besides ``csv``, that CSV)."""

TAGGED_FORMATS = ("jsonl", "csv", "mapped")
"""The formats whose files carry tags; the pairs of the others get :func:`pairs.traps.tag_traps`."""

_TASK_KEYS = {"annotations", "predictions"}
_MT_BENCH_KEYS = {"conversation_a", "conversation_b", "model_a", "model_b", "winner"}
_ARENA_ONLY = {"tstamp", "anony", "language", "judge_hash", "winner_model_a", "winner_tie"}


def _is_arena(keys: set[str]) -> bool:
    """Chatbot Arena's keys: its own (``tstamp``, ``winner_model_a``, ...), or a winner
    with response columns and no gold. MT-Bench's rows have none of these."""
    if keys & _ARENA_ONLY:
        return True
    return "winner" in keys and "gold" not in keys and bool(keys & {"response_a", "response_b"})


_SIGNATURES: dict[str, Callable[[dict], bool]] = {
    "label-studio": lambda r: isinstance(r.get("data"), dict) and bool(r.keys() & _TASK_KEYS),
    "argilla": lambda r: isinstance(r.get("fields"), dict) and bool(r.keys() & {"responses", "suggestions"}),
    "pandalm": lambda r: {"response1", "response2"} <= r.keys() or "annotator1" in r,
    "arena": lambda r: _is_arena(set(r)),
    "jsonl": lambda r: bool(r.keys() & {"response_a", "response_b", "gold"}),
    "llmbar": lambda r: bool(r.keys() & {"output_1", "output_2"}),
    "mt-bench": lambda r: bool(r.keys() & _MT_BENCH_KEYS),
    "chosen-rejected": lambda r: bool(r.keys() & {"chosen", "rejected"}),
}
"""What marks a format's first record, checked in this order (see :func:`detect_format`)."""


def read_bank(
    path: str | os.PathLike, fmt: str = "auto", *, columns: ColumnMap | None = None
) -> pd.DataFrame:
    """Import a bank file; all or nothing.

    Parameters
    ----------
    path : str or path-like
        The file; its name as given appears in problem messages.
    fmt : str
        ``"auto"`` or a key of :data:`FORMATS`.
    columns : ColumnMap, optional
        Read the file's own columns through this mapping instead of a format
        (``fmt`` must then be ``"auto"``).

    Returns
    -------
    DataFrame
        Columns :data:`pairs.bank.COLUMNS` plus ``line``; ``attrs["format"]``
        names the format read.

    Raises
    ------
    InputError
        Listing every problem in the file, when there is any.
    OSError
        When the file cannot be read (missing, a directory, no permission).
    ValueError
        When ``fmt`` is not a known format.
    """
    bank, problems = check_bank(path, fmt, columns=columns)
    if problems:
        raise InputError(problems)
    return bank


def check_bank(
    path: str | os.PathLike, fmt: str = "auto", *, columns: ColumnMap | None = None
) -> tuple[pd.DataFrame, list[Problem]]:
    """Read a bank file and return its valid pairs and every problem found.

    Parameters
    ----------
    path : str or path-like
        The file; its name as given appears in problem messages.
    fmt : str
        ``"auto"`` or a key of :data:`FORMATS`.
    columns : ColumnMap, optional
        As for :func:`read_bank`.

    Returns
    -------
    bank : DataFrame
        The pairs that are valid, as :func:`read_bank` returns them. When
        ``problems`` is not empty the file must not be imported: the pairs
        only help show what was understood.
    problems : list of Problem
        Every problem found, in line order (whole-file problems first).

    Raises
    ------
    OSError
        When the file cannot be read.
    ValueError
        When ``fmt`` is not a known format.
    """
    data = Path(path).read_bytes()
    checked = check_bank_file(data, os.fspath(path), fmt, columns=columns)
    return checked.rows, checked.problems


def read_bank_bytes(
    data: bytes,
    name: str,
    fmt: str = "auto",
    progress: Progress | None = None,
    *,
    columns: ColumnMap | None = None,
) -> pd.DataFrame:
    """Import a bank from bytes, such as a file uploaded to the app; all or nothing.

    Parameters
    ----------
    data : bytes
        The file's content.
    name : str
        The file's name, used in problem messages, for auto-detection and for
        LLMBar's ``adversarial`` tag.
    fmt : str
        ``"auto"`` or a key of :data:`FORMATS`.
    progress : callable, optional
        Called as ``progress(done, total)`` about every 1% of the file, in
        characters of the decoded text, and once with ``done == total`` at the end.
    columns : ColumnMap, optional
        As for :func:`read_bank`.

    Returns
    -------
    DataFrame
        As :func:`read_bank`.

    Raises
    ------
    InputError
        Listing every problem, when there is any.

    Examples
    --------
    >>> data = b'{"prompt": "Say hi", "response_a": "hi", "response_b": "hello", "gold": "A"}\\n'
    >>> read_bank_bytes(data, "tiny.jsonl")[["id", "gold", "line"]].to_dict("records")
    [{'id': 'p-46f874c67015', 'gold': 'A', 'line': 1}]
    >>> read_bank_bytes(b'{"prompt": "Say hi", "gold": "C"}\\n', "tiny.jsonl")
    Traceback (most recent call last):
    ...
    pairs.errors.InputError: tiny.jsonl:1: response_a: missing
    tiny.jsonl:1: response_b: missing
    tiny.jsonl:1: gold: must be A, B or tie, got 'C'
    """
    return check_bank_file(data, name, fmt, progress, columns=columns).all_rows()


def check_bank_bytes(
    data: bytes,
    name: str,
    fmt: str = "auto",
    progress: Progress | None = None,
    *,
    columns: ColumnMap | None = None,
) -> tuple[pd.DataFrame, list[Problem]]:
    """Like :func:`read_bank_bytes` but return ``(pairs, problems)`` instead of raising.

    Parameters
    ----------
    data : bytes
        The file's content.
    name : str
        The file's name (problem messages, auto-detection, LLMBar's ``adversarial`` tag).
    fmt : str
        ``"auto"`` or a key of :data:`FORMATS`.
    progress : callable, optional
        As for :func:`read_bank_bytes`.
    columns : ColumnMap, optional
        As for :func:`read_bank`.

    Returns
    -------
    bank : DataFrame
        The valid pairs, with ``attrs["format"]`` naming the format read.
    problems : list of Problem
        Every problem found; the file is fit to import only when it is empty.

    Raises
    ------
    ValueError
        When ``fmt`` is not a known format.

    Examples
    --------
    >>> bank, problems = check_bank_bytes(b'{"prompt": "q", "chosen": "a", "rejected": "a"}', "x.jsonl")
    >>> len(bank), [str(p) for p in problems]
    (0, ['x.jsonl:1: rejected: the same response as chosen'])
    """
    checked = check_bank_file(data, name, fmt, progress, columns=columns)
    return checked.rows, checked.problems


def check_bank_file(
    data: bytes,
    name: str,
    fmt: str = "auto",
    progress: Progress | None = None,
    *,
    columns: ColumnMap | None = None,
) -> Checked:
    """Read a bank from bytes and say what was found: valid pairs, problems, and which concern the whole file.

    Parameters
    ----------
    data : bytes
        The file's content.
    name : str
        The file's name (problem messages, auto-detection, LLMBar's ``adversarial`` tag).
    fmt : str
        ``"auto"`` or a key of :data:`FORMATS`.
    progress : callable, optional
        As for :func:`read_bank_bytes`.
    columns : ColumnMap, optional
        Read the file's own columns through this mapping (format ``mapped``)
        instead of a format; ``fmt`` must then be ``"auto"``.

    Returns
    -------
    Checked
        ``rows`` the valid pairs (``attrs["format"]`` names the format read);
        :meth:`~pairs.importers.checked.Checked.all_rows` for an import that is
        all or nothing, :meth:`~pairs.importers.checked.Checked.valid_rows` to
        skip the refused rows.

    Raises
    ------
    ValueError
        When ``fmt`` is not a known format, or is given with ``columns``.

    Examples
    --------
    >>> data = b'{"prompt": "q", "response_a": "a", "response_b": "b", "gold": "A"}\\n{"prompt": ""}\\n'
    >>> checked = check_bank_file(data, "x.jsonl")
    >>> len(checked.rows), checked.refused_lines, len(checked.valid_rows())
    (1, [2], 1)
    """
    if fmt != "auto" and fmt not in FORMATS:
        raise ValueError(f"fmt must be 'auto' or one of {sorted(FORMATS)}, got {fmt!r}.")
    if columns is not None and fmt != "auto":
        raise ValueError(f"a column mapping reads the file's own columns: fmt must be 'auto', got {fmt!r}.")
    text, problems = decode(data, name)
    if text is None or not text.strip():
        if text is not None:
            problems = [Problem(name, None, "file", "empty: no pairs")]
        return Checked(name, fmt, _no_pairs(), problems, list(problems))
    reader: Reader
    if columns is not None:
        fmt, reader = "mapped", partial(read_mapped, column_map=columns)
    else:
        if fmt == "auto":
            detected, why = detect_format(text, name)
            if detected is None:
                problems.append(Problem(name, None, "format", why))
                return Checked(name, fmt, _no_pairs(), problems, list(problems))
            fmt = detected
        reader = FORMATS[fmt]
    source = Source(name, text, progress)
    bank, found = validate_records(reader(source), name)
    if fmt not in TAGGED_FORMATS:
        bank = tag_traps(bank)
    source.finish()
    if source.problems or problems:
        found = [p for p in found if (p.field, p.message) != ("pairs", "no pairs found")]
    found = [p for p in found if not (p.field in source.missing_columns and p.message == "missing")]
    if columns is not None:  # name the file's columns, which the user knows
        found = [replace(p, field=columns.file_column(p.field)) for p in found]
    whole_file = [*problems, *(p for p in source.problems if p in source.whole_file)]
    whole_file += [p for p in found if p.line is None]
    problems = sorted(problems + source.problems + found, key=_line_order)
    bank.attrs["format"] = fmt
    return Checked(name, fmt, bank, problems, whole_file, source, dict(source.skipped))


def check_judgments_file(
    data: bytes, name: str, fmt: str = "auto", *, pair_ids: Iterable[str] | None = None
) -> Checked:
    """Read judgments from bytes: a judgments CSV, or the raters' votes of a :data:`JUDGMENT_FORMATS` file.

    Parameters
    ----------
    data : bytes
        The file's content.
    name : str
        The file's name, for problem messages and auto-detection.
    fmt : str
        ``"auto"`` (see :func:`detect_judgments_format`), ``"csv"`` (the judgments
        CSV, :mod:`pairs.judgments`) or a key of :data:`JUDGMENT_FORMATS`.
    pair_ids : iterable of str, optional
        The bank's pair ids; when given, a judgment on any other pair is a problem.

    Returns
    -------
    Checked
        ``rows`` the valid judgments, typed as :func:`pairs.judgments.normalize`
        gives them, with their ``line`` (a tie vote is the answer ``tie``);
        ``skipped`` counts the votes that do not count (``"repeat votes"``).

    Raises
    ------
    ValueError
        When ``fmt`` is not ``"auto"``, ``"csv"`` or a key of :data:`JUDGMENT_FORMATS`.

    Examples
    --------
    >>> row = b'{"instruction": "Hi?", "response1": "Hello.", "response2": "Go away.", '
    >>> row += b'"annotator1": 1, "annotator2": 1, "annotator3": 0}\\n'
    >>> checked = check_judgments_file(row, "votes.jsonl")
    >>> checked.format, checked.rows[["rater", "choice"]].values.tolist(), checked.skipped
    ('pandalm', [['annotator1', 'A'], ['annotator2', 'A'], ['annotator3', 'tie']], {})
    """
    if fmt not in ("auto", "csv", *JUDGMENT_FORMATS):
        raise ValueError(f"fmt must be 'auto', 'csv' or one of {sorted(JUDGMENT_FORMATS)}, got {fmt!r}.")
    if pair_ids is not None and not isinstance(pair_ids, (pd.Index, pd.Series, np.ndarray, list, tuple)):
        pair_ids = list(pair_ids)
    text, problems = decode(data, name)
    if text is None or not text.strip():
        if text is not None:
            problems = [Problem(name, None, "file", "empty: no judgments")]
        return Checked(name, fmt, _no_judgments(), problems, list(problems))
    if fmt == "auto":
        detected, why = detect_judgments_format(text, name)
        if detected is None:
            problems.append(Problem(name, None, "format", why))
            return Checked(name, fmt, _no_judgments(), problems, list(problems))
        fmt = detected
    source = Source(name, text)
    if fmt == "csv":
        frame, lines, header_problems, row_problems = judgment_rows(text, name)
        source.spans = _csv_spans(text)
        found = header_problems + row_problems
        unreadable = [p for p in row_problems if p.message.startswith("not valid CSV")]  # may hide rows
        whole_file = problems + header_problems + unreadable
        if header_problems:
            listed = sorted(problems + found, key=_line_order)
            return Checked(name, fmt, _no_judgments(), listed, whole_file, source)
    else:
        records = sorted(JUDGMENT_FORMATS[fmt](source), key=lambda record: record[0] or 0)
        cells = {column: [str(row.get(column, "")) for _, row in records] for column in JUDGMENT_COLUMNS}
        frame = pd.DataFrame(cells, columns=JUDGMENT_COLUMNS, dtype=str)
        lines = np.asarray([line for line, _ in records], dtype=int)
        found = list(source.problems)
        whole_file = problems + [p for p in source.problems if p in source.whole_file]
    bad, row_problems = judgment_row_problems(frame, name, lines=lines, pair_ids=pair_ids)
    if found and not len(frame):
        row_problems = []  # "no judgments found" says nothing more
    elif source.skipped and not len(frame):
        skipped = ", ".join(f"{n} {what}" for what, n in sorted(source.skipped.items()))
        row_problems = [
            Problem(name, None, "judgments", f"no judgments found: every vote was skipped ({skipped})")
        ]
    whole_file += [p for p in row_problems if p.line is None]
    rows = normalize(frame[~bad]).assign(line=lines[~bad])
    problems = sorted(problems + found + row_problems, key=_line_order)
    return Checked(name, fmt, rows, problems, whole_file, source, dict(source.skipped))


def detect_format(text: str, name: str) -> tuple[str | None, str]:
    """Guess a file's format from its name and its first record.

    The rule, in order:

    1. A name ending in ``.csv`` is ``csv``, unless its header names a
       ``winner`` (or ``winner_model_a``) and no ``gold``: then ``arena``.
    2. Otherwise the first record decides: the first element of a JSON list, or
       the first line of a JSONL file that parses as JSON. The first of these
       that fits names the format: ``data`` (an object) with ``annotations`` or
       ``predictions`` -> ``label-studio``; ``fields`` (an object) with
       ``responses`` or ``suggestions`` -> ``argilla``; ``response1`` and
       ``response2``, or ``annotator1`` -> ``pandalm``; one of Chatbot Arena's
       own keys (``tstamp``, ``anony``, ``language``, ``judge_hash``,
       ``winner_model_a``, ``winner_tie``), or ``winner`` with ``response_a`` or
       ``response_b`` and no ``gold`` -> ``arena``; ``response_a`` /
       ``response_b`` / ``gold`` -> ``jsonl``; ``output_1`` / ``output_2`` ->
       ``llmbar``; ``conversation_a`` / ``conversation_b`` / ``model_a`` /
       ``model_b`` / ``winner`` -> ``mt-bench``; ``chosen`` / ``rejected`` ->
       ``chosen-rejected``. (A battle file without Chatbot Arena's own keys
       reads as ``mt-bench``; name it with ``--from arena``.)
    3. Text that does not start like JSON but whose first line is a CSV header
       is ``arena`` as in rule 1, or ``csv`` when it names ``prompt`` or ``response_a``.
    4. When no record can be parsed, a name ending in ``.jsonl`` or ``.ndjson``
       is ``jsonl`` (its reader then reports each bad line).

    Parameters
    ----------
    text : str
        The decoded file.
    name : str
        The file's name.

    Returns
    -------
    fmt : str or None
        The format, or None when none fits.
    reason : str
        Why none fits (empty when ``fmt`` is found).

    Examples
    --------
    >>> detect_format('[{"input": "q", "output_1": "a", "output_2": "b", "label": 1}]', "x.json")
    ('llmbar', '')
    >>> detect_format('{"prompt": "q", "chosen": "a", "rejected": "b"}', "x.jsonl")
    ('chosen-rejected', '')
    >>> fmt, reason = detect_format('{"question": "q"}', "x.jsonl")
    >>> print(fmt, reason)  # doctest: +NORMALIZE_WHITESPACE
    None not a known format: the first record (line 1) has the keys ['question'];
    expected the keys of one of label-studio, argilla, pandalm, arena, jsonl, llmbar,
    mt-bench, chosen-rejected (or map its columns with --map)
    """
    suffix = Path(name).suffix.lower()
    if suffix == ".csv":
        return ("arena" if _arena_header(text) else "csv"), ""
    first, error = first_record(text)
    if first is not None:
        line, record = first
        if not isinstance(record, dict):
            return None, f"not a known format: the first record (line {line}) is not a JSON object"
        for fmt, fits in _SIGNATURES.items():
            if fits(record):
                return fmt, ""
        return None, (
            f"not a known format: the first record (line {line}) has the keys "
            f"[{', '.join(shown(key) for key in sorted(record)[:12])}]; "
            f"expected the keys of one of {', '.join(_SIGNATURES)} (or map its columns with --map)"
        )
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl", ""
    stripped = text.lstrip()
    if not stripped.startswith(("[", "{")):
        if _arena_header(stripped):
            return "arena", ""
        if set(_header(stripped)) & {"prompt", "response_a"}:
            return "csv", ""
        return None, "not a known format: neither JSON nor a CSV file with a header naming prompt"
    return None, f"cannot tell the format: {error}"


def detect_judgments_format(text: str, name: str) -> tuple[str | None, str]:
    """Guess the format of a file of judgments: the judgments CSV, or a file of raters' votes.

    A CSV file (by its name, or a first line naming ``rater``) is ``csv``, the
    judgments layout of :mod:`pairs.judgments`; any other file is what
    :func:`detect_format` says, when that format holds raters' votes
    (:data:`JUDGMENT_FORMATS`).

    Parameters
    ----------
    text : str
        The decoded file.
    name : str
        The file's name.

    Returns
    -------
    fmt : str or None
        ``"csv"`` or a key of :data:`JUDGMENT_FORMATS`; None when neither fits.
    reason : str
        Why none fits (empty when ``fmt`` is found).

    Examples
    --------
    >>> detect_judgments_format("rater,pair_id,choice\\nann,p1,A\\n", "j.txt")
    ('csv', '')
    >>> fmt, why = detect_judgments_format('[{"input": "q", "output_1": "a", "label": 1}]', "x.json")
    >>> print(why)  # doctest: +NORMALIZE_WHITESPACE
    llmbar files name no rater: judgments come from a judgments CSV or a file of raters'
    votes (pandalm, arena, label-studio, argilla)
    """
    if "rater" in _header(text.lstrip()):
        return "csv", ""
    fmt, why = detect_format(text, name)
    if fmt in JUDGMENT_FORMATS or fmt is None:
        return fmt, why
    if fmt == "csv":
        return "csv", ""
    formats = ", ".join(JUDGMENT_FORMATS)
    why = f"{fmt} files name no rater: judgments come from a judgments CSV or a file of raters' votes"
    return None, f"{why} ({formats})"


def _header(text: str) -> list[str]:
    """The cells of a CSV text's first line, trimmed and in lower case (crudely: split at commas)."""
    return [cell.strip().strip('"').lower() for cell in text.split("\n", 1)[0].split(",")]


def _arena_header(text: str) -> bool:
    header = set(_header(text.lstrip()))
    return "winner_model_a" in header or ("winner" in header and "gold" not in header)


def _csv_spans(text: str) -> dict[int, tuple[int, int]]:
    """Where each CSV row starts and ends in ``text``, by the line it starts on."""
    spans = {}
    start = 0
    for line, _, read in csv_rows(text):
        spans[line], start = (start, read), read
    return spans


def _line_order(problem: Problem) -> tuple[bool, int]:
    return problem.line is not None, problem.line or 0


def _no_pairs() -> pd.DataFrame:
    """An empty bank: the frame returned with the problems when nothing could be read."""
    return pd.DataFrame(columns=COLUMNS + ["line"])


def _no_judgments() -> pd.DataFrame:
    """No judgments: the frame returned with the problems when nothing could be read."""
    return pd.DataFrame(columns=JUDGMENT_COLUMNS + ["line"])
