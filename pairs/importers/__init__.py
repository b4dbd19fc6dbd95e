"""Importing pair banks from the formats people already have.

Every reader turns a file into pair records for :func:`pairs.bank.validate_records`
and reports problems as ``FILE:LINE: field: message`` (:class:`~pairs.errors.Problem`).
All problems in a file are collected before giving up, and an import is all or
nothing: :func:`read_bank` raises :class:`~pairs.errors.InputError` listing every
problem, :func:`check_bank` returns the valid pairs *and* the problems.

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
                     [subset]}`` (RewardBench), or HH-RLHF rows with whole
                     dialogues in ``chosen`` / ``rejected``; JSONL or a list
``mt-bench``         MT-Bench human judgments, one expert vote per row; the
                     votes on one question, model pair and turn become one pair
===================  ==========================================================

Line numbers are physical lines of the file: for JSONL the record's line, for a
JSON list the line where the record's object starts, for CSV the line where the
record starts (the header is line 1), for MT-Bench the line of a pair's first vote.

Chosen/rejected sides
---------------------
A preference pair has no order, but a bank where gold is always A teaches raters
to pick A. The chosen response becomes A when the first byte of
``sha256(SIDE_SEED, prompt, chosen, rejected)`` (joined by ``\\x1f``, UTF-8) is
even, so about half the pairs have gold B and the same file always imports the
same way. MT-Bench pairs place their two models the same way (see
:func:`pairs.importers.mt_bench.read_mt_bench`).

Modules
-------
``reading``            what every reader shares: the decoded file (:class:`Source`),
                       UTF-8 checks, JSON records with their lines, field checks
``native``, ``csv``,   one reader per format
``llmbar``,
``chosen_rejected``,
``mt_bench``
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

import pandas as pd

from pairs.bank import COLUMNS, validate_records
from pairs.errors import InputError, Problem, shown
from pairs.importers.chosen_rejected import read_chosen_rejected
from pairs.importers.csv import read_csv
from pairs.importers.llmbar import read_llmbar
from pairs.importers.mt_bench import MT_BENCH_CATEGORIES, read_mt_bench
from pairs.importers.native import read_native
from pairs.importers.reading import SIDE_SEED, Progress, Record, Source, decode, first_record

__all__ = [
    "FORMATS",
    "MT_BENCH_CATEGORIES",
    "SIDE_SEED",
    "Progress",
    "Reader",
    "check_bank",
    "check_bank_bytes",
    "detect_format",
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
}
"""Format name -> reader (each in its own module of this package)."""

_SIGNATURES: dict[str, set[str]] = {
    "jsonl": {"response_a", "response_b", "gold"},
    "llmbar": {"output_1", "output_2"},
    "mt-bench": {"conversation_a", "conversation_b", "model_a", "model_b", "winner"},
    "chosen-rejected": {"chosen", "rejected"},
}
"""Keys that mark a format's first record, checked in this order (see :func:`detect_format`)."""


def read_bank(path: str | os.PathLike, fmt: str = "auto") -> pd.DataFrame:
    """Import a bank file; all or nothing.

    Parameters
    ----------
    path : str or path-like
        The file; its name as given appears in problem messages.
    fmt : str
        ``"auto"`` or a key of :data:`FORMATS`.

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
    bank, problems = check_bank(path, fmt)
    if problems:
        raise InputError(problems)
    return bank


def check_bank(path: str | os.PathLike, fmt: str = "auto") -> tuple[pd.DataFrame, list[Problem]]:
    """Read a bank file and return its valid pairs and every problem found.

    Parameters
    ----------
    path : str or path-like
        The file; its name as given appears in problem messages.
    fmt : str
        ``"auto"`` or a key of :data:`FORMATS`.

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
    return check_bank_bytes(data, os.fspath(path), fmt)


def read_bank_bytes(
    data: bytes, name: str, fmt: str = "auto", progress: Progress | None = None
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
        Called as ``progress(done, total)`` about every 1 % of the file, in
        characters of the decoded text, and once with ``done == total`` at the end.

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
    bank, problems = check_bank_bytes(data, name, fmt, progress)
    if problems:
        raise InputError(problems)
    return bank


def check_bank_bytes(
    data: bytes, name: str, fmt: str = "auto", progress: Progress | None = None
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
    if fmt != "auto" and fmt not in FORMATS:
        raise ValueError(f"fmt must be 'auto' or one of {sorted(FORMATS)}, got {fmt!r}.")
    text, problems = decode(data, name)
    if text is None:
        return _no_pairs(), problems
    if not text.strip():
        return _no_pairs(), [Problem(name, None, "file", "empty: no pairs")]
    if fmt == "auto":
        detected, why = detect_format(text, name)
        if detected is None:
            return _no_pairs(), problems + [Problem(name, None, "format", why)]
        fmt = detected
    source = Source(name, text, progress)
    bank, found = validate_records(FORMATS[fmt](source), name)
    source.finish()
    if source.problems or problems:
        found = [p for p in found if (p.field, p.message) != ("pairs", "no pairs found")]
    found = [p for p in found if not (p.field in source.missing_columns and p.message == "missing")]
    problems = sorted(problems + source.problems + found, key=lambda p: (p.line is not None, p.line or 0))
    bank.attrs["format"] = fmt
    return bank, problems


def detect_format(text: str, name: str) -> tuple[str | None, str]:
    """Guess a file's format from its name and its first record.

    The rule, in order:

    1. A name ending in ``.csv`` is ``csv``.
    2. Otherwise the first record decides: the first element of a JSON list, or
       the first line of a JSONL file that parses as JSON. The first of these
       key sets it shares a key with names the format: ``response_a`` /
       ``response_b`` / ``gold`` -> ``jsonl``; ``output_1`` / ``output_2`` -> ``llmbar``;
       ``conversation_a`` / ``conversation_b`` / ``model_a`` / ``model_b`` /
       ``winner`` -> ``mt-bench``; ``chosen`` / ``rejected`` -> ``chosen-rejected``.
    3. Text that does not start like JSON but whose first line is a CSV header
       naming ``prompt`` or ``response_a`` is ``csv``.
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
    expected the keys of one of jsonl, llmbar, mt-bench, chosen-rejected
    """
    suffix = Path(name).suffix.lower()
    if suffix == ".csv":
        return "csv", ""
    first, error = first_record(text)
    if first is not None:
        line, record = first
        if not isinstance(record, dict):
            return None, f"not a known format: the first record (line {line}) is not a JSON object"
        for fmt, keys in _SIGNATURES.items():
            if keys & record.keys():
                return fmt, ""
        return None, (
            f"not a known format: the first record (line {line}) has the keys "
            f"[{', '.join(shown(key) for key in sorted(record)[:12])}]; "
            f"expected the keys of one of {', '.join(_SIGNATURES)}"
        )
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl", ""
    stripped = text.lstrip()
    if not stripped.startswith(("[", "{")):
        header = {c.strip().lower() for c in stripped.split("\n", 1)[0].split(",")}
        if header & {"prompt", "response_a"}:
            return "csv", ""
        return None, "not a known format: neither JSON nor a CSV file with a header naming prompt"
    return None, f"cannot tell the format: {error}"


def _no_pairs() -> pd.DataFrame:
    """An empty bank: the frame returned with the problems when nothing could be read."""
    return pd.DataFrame(columns=COLUMNS + ["line"])
