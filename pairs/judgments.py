"""Judgments in the CSV layout shared by the store, the statistics and the CLIs.

Columns (:data:`COLUMNS`): ``rater, pair_id, choice, confidence, left, answered_at, seconds``.
``rater``, ``pair_id`` and ``choice`` are required; the others may be missing
or empty. ``choice`` and ``left`` are ``A`` or ``B`` (the response by identity,
not by side); ``choice`` may also be ``tie``, the answer "About equally good"
(its ``confidence`` is then how sure the rater was that the two are about equal),
while ``left`` names a side and never takes it; ``confidence`` is in [0.5, 1] (a percentage such as ``85`` is
refused rather than guessed at); ``answered_at`` is an ISO 8601 time in the
years 1 to 9999 (UTC); ``seconds`` is a non-negative number. An optional
column ``form`` (:data:`FORM_COLUMN`) says in which assessment form an answer
was given: ``pre``, ``post`` or ``retention``, or empty for an ordinary drill
answer (:data:`FORMS`); frames read from a file carry it only when the file
has it. A rater's name
and a pair id have at most :data:`MAX_NAME_CHARS` characters. Two rows of one
rater on one pair at the same ``answered_at`` must give the same answer (the
store keeps one).

A rater's name is read as :func:`pairs.names.normalize_name` writes it (NFKC,
whitespace collapsed), and refused with its line when it holds a control
character (``\x1b[31m``), a line break or an invisible character (U+200B,
bidirectional controls, ...). Two raters of one file whose names look alike
(:func:`pairs.names.name_skeletons`: ``alice`` and Cyrillic ``аlice``, or
``Ann`` and ``ann``) are refused too: one of them could pass for the other.

Validation collects every problem as ``FILE:LINE: field: message``, where LINE
is the physical line a record starts on (the header is line 1 unless blank
lines come first); a file with any problem is refused whole.

How a file is read: pandas' C parser reads it (:func:`pairs.files.csv_table`)
and every check runs on whole columns, as a mask of the rows that fail it.
Only when a mask is set, or when the C parser declines the file (a quoted
newline, a row longer than the header, ...), is the file read again row by
row with Python's ``csv`` module, which knows each record's line; messages
are then written for the failing rows only, the first :data:`MAX_PROBLEMS`
of them.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

try:  # pandas' own text columns use it when it is installed (it comes with streamlit)
    import pyarrow as pa
    import pyarrow.compute as pc
except ImportError:  # pragma: no cover - times are then parsed by pandas alone
    pa = pc = None

from pairs.errors import InputError, Problem, shown
from pairs.export import csv_text, neutralize_formula, spreadsheet_safe
from pairs.files import csv_header, csv_rows, csv_table
from pairs.names import describe_character, name_problem, name_skeletons, normalize_name

COLUMNS = ["rater", "pair_id", "choice", "confidence", "left", "answered_at", "seconds"]
"""The judgment columns, in the order every judgments CSV and frame has them."""
REQUIRED = ["rater", "pair_id", "choice"]
"""The columns a judgments CSV must have; the others may be left out."""
FORM_COLUMN = "form"
"""An optional column after :data:`COLUMNS`: the assessment stage an answer was given in."""
FORMS = ("", "pre", "post", "retention")
"""Values of :data:`FORM_COLUMN`: ``""`` an ordinary drill answer, else the assessment form's stage."""
_KNOWN = [*COLUMNS, FORM_COLUMN]  # every column read from a file
MAX_PROBLEMS = 1000
"""Problems listed at most; one more line says how many were left out."""
MAX_NAME_CHARS = 200
"""Longest rater name or pair id: the width of the store's ``raters.name`` and ``pairs.pair_id``."""


def read_judgments(path: str | Path, *, pair_ids: Iterable[str] | None = None) -> pd.DataFrame:
    """Read and validate a judgments CSV file.

    Parameters
    ----------
    path : str or Path
        The CSV file; its name as given appears in problem messages.
    pair_ids : iterable of str, optional
        The bank's pair ids; when given, a judgment on any other pair is a problem.

    Returns
    -------
    DataFrame
        The :data:`COLUMNS`, typed as by :func:`normalize` (missing optional
        columns filled with NaN).

    Raises
    ------
    InputError
        With every problem found (at most :data:`MAX_PROBLEMS` listed).
    OSError
        When the file cannot be read.
    """
    path = Path(path)
    return parse_judgments(path.read_bytes(), str(path), pair_ids=pair_ids)


def parse_judgments(data: bytes, file: str, *, pair_ids: Iterable[str] | None = None) -> pd.DataFrame:
    """Read and validate the bytes of a judgments CSV file named ``file``.

    Parameters
    ----------
    data : bytes
        The file's content (UTF-8; a byte-order mark is dropped).
    file : str
        The file's name, used in problem messages.
    pair_ids : iterable of str, optional
        The bank's pair ids; when given, a judgment on any other pair is a problem.

    Returns
    -------
    DataFrame
        As :func:`read_judgments`.

    Raises
    ------
    InputError
        With every problem found (at most :data:`MAX_PROBLEMS` listed).

    Examples
    --------
    >>> parse_judgments(b"rater,pair_id,choice\\nann,p1,b\\n", "j.csv")[["rater", "choice"]].values.tolist()
    [['ann', 'B']]
    >>> parse_judgments(b"rater,pair_id,choice\\nann,p1,b\\nbob,p1,C\\n", "j.csv")
    Traceback (most recent call last):
    ...
    pairs.errors.InputError: j.csv:3: choice: must be A, B or tie, got 'C'
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            [Problem(file, line, "encoding", f"not UTF-8 (byte 0x{data[exc.start]:02x})")]
        ) from None
    if not text or text.isspace():
        raise InputError([Problem(file, None, "file", "empty: no header and no judgments")])
    if pair_ids is not None and not isinstance(pair_ids, (pd.Index, pd.Series, np.ndarray, list, tuple)):
        pair_ids = list(pair_ids)  # read twice when the fast reading finds a problem
    fast = _fast_frame(data)
    if fast is not None:
        fields = _Fields(fast)
        if not any(check.mask.any() for check in _checks(fields, pair_ids=pair_ids)):
            return fields.normalized()
    frame, lines, header_problems, problems = _read_csv(text, file)
    found: list = []
    total = 0
    if not header_problems and (len(frame) or not problems):  # rows to check, or none at all
        found, total = _find_problems(frame, file, lines=lines, pair_ids=pair_ids)
    listed = sorted(header_problems + problems + found, key=lambda p: (p.line is None, p.line or 0))
    total += len(header_problems) + len(problems)
    if total:
        raise InputError(_capped(listed, total, file))
    return normalize(frame)


def _fast_frame(data: bytes) -> pd.DataFrame | None:
    """The known columns of a CSV file as read by pandas' C parser, or None when the row-by-row
    reader must read it (see :func:`pairs.files.csv_table`) or its header has a problem."""
    table = csv_table(data)
    if table is None:
        return None
    cells, rows = table
    header, repeated, missing = csv_header(cells, _KNOWN, REQUIRED)
    if repeated or missing:
        return None
    return pd.DataFrame({c: rows[header.index(c)] for c in _KNOWN if c in header})


def _read_csv(text: str, file: str) -> tuple[pd.DataFrame, np.ndarray, list[Problem], list[Problem]]:
    """The known columns of a CSV text as strings, each record's first line, and the problems
    of its header and of its rows.

    Blank rows are skipped; a row with more cells than the header, or one the
    CSV reader cannot parse (an unclosed quote), is a problem; missing cells at
    the end of a row are empty.
    """
    header: list[str] | None = None
    rows: list[list[str]] = []
    lines: list[int] = []
    header_problems: list[Problem] = []
    problems: list[Problem] = []
    for line, row, _ in csv_rows(text):
        if isinstance(row, csv.Error):
            problems.append(Problem(file, line, "csv", f"not valid CSV ({row})"))
        elif header is None:
            header, repeated, missing = csv_header(row, _KNOWN, REQUIRED)
            header_problems += [Problem(file, line, c, "column appears more than once") for c in repeated]
            needs = f"missing column (the header needs {', '.join(REQUIRED)})"
            header_problems += [Problem(file, line, c, needs) for c in missing]
        elif len(row) > len(header):
            problems.append(Problem(file, line, "csv", f"{len(row)} fields but the header has {len(header)}"))
        else:
            rows.append(row)
            lines.append(line)
    if header is None and not problems:  # only blank rows
        header_problems.append(Problem(file, None, "file", "empty: no header and no judgments"))
    header = header or []
    where = {c: header.index(c) for c in _KNOWN if c in header}
    frame = pd.DataFrame(
        {c: [row[i] if i < len(row) else "" for row in rows] for c, i in where.items()},
        columns=list(where),
        dtype=str,
    )
    return frame, np.asarray(lines, dtype=int), header_problems, problems


def validate_judgments(
    frame: pd.DataFrame,
    file: str,
    *,
    lines: np.ndarray | None = None,
    pair_ids: Iterable[str] | None = None,
) -> list[Problem]:
    """Every problem in a frame of judgments (strings as read from CSV), found with whole-column masks.

    Parameters
    ----------
    frame : DataFrame
        Some of the :data:`COLUMNS`, as text.
    file : str
        The file name for the messages.
    lines : array of int, optional
        Each row's line in the file (default: 2, 3, ..., as under a one-line header).
    pair_ids : iterable of str, optional
        The bank's pair ids; when given, a judgment on any other pair is a problem.

    Returns
    -------
    list of Problem
        In line order, at most :data:`MAX_PROBLEMS`, then one saying how many more there are.

    Examples
    --------
    >>> frame = pd.DataFrame({"rater": ["ann", ""], "pair_id": ["p1", "p1"], "choice": ["A", "X"]})
    >>> [str(p) for p in validate_judgments(frame, "j.csv")]
    ['j.csv:3: rater: empty', "j.csv:3: choice: must be A, B or tie, got 'X'"]
    """
    found, total = _find_problems(frame, file, lines=lines, pair_ids=pair_ids)
    return _capped(found, total, file)


def judgment_rows(text: str, file: str) -> tuple[pd.DataFrame, np.ndarray, list[Problem], list[Problem]]:
    """The rows of a judgments CSV text, as read before they are checked.

    Parameters
    ----------
    text : str
        The decoded file.
    file : str
        The file's name, for the problems.

    Returns
    -------
    frame : DataFrame
        The known :data:`COLUMNS` the header names, as text (blank rows left out).
    lines : array of int
        Each row's first line.
    header_problems : list of Problem
        A required column missing or a column named twice (or no header at all).
    row_problems : list of Problem
        Rows that are not valid CSV or have more cells than the header (not in ``frame``).
    """
    return _read_csv(text, file)


def judgment_row_problems(
    frame: pd.DataFrame,
    file: str,
    *,
    lines: np.ndarray | None = None,
    pair_ids: Iterable[str] | None = None,
) -> tuple[np.ndarray, list[Problem]]:
    """Which rows of a frame of judgments break a rule, and every problem (none left out).

    Unlike :func:`validate_judgments`, every row of a rater whose name looks
    like another's is marked, so that leaving out the marked rows leaves none of theirs.

    Parameters
    ----------
    frame : DataFrame
        Some of the :data:`COLUMNS`, as text.
    file : str
        The file name for the messages.
    lines : array of int, optional
        Each row's line in the file (default: 2, 3, ...).
    pair_ids : iterable of str, optional
        The bank's pair ids; when given, a judgment on any other pair is a problem.

    Returns
    -------
    bad : array of bool
        True for each row (by position) with a problem.
    problems : list of Problem
        In line order; ``no judgments found`` when ``frame`` is empty.

    Examples
    --------
    >>> frame = pd.DataFrame({"rater": ["ann", "bob"], "pair_id": ["p1", "p1"], "choice": ["A", "X"]})
    >>> bad, problems = judgment_row_problems(frame, "j.csv")
    >>> bad.tolist(), [str(p) for p in problems]
    ([False, True], ["j.csv:3: choice: must be A, B or tie, got 'X'"])
    """
    if len(frame) == 0:
        return np.zeros(0, dtype=bool), [Problem(file, None, "judgments", "no judgments found")]
    lines = np.arange(2, len(frame) + 2) if lines is None else np.asarray(lines)
    checks = _checks(_Fields(frame), pair_ids=pair_ids, lines=lines, every_lookalike_row=True)
    masks = np.vstack([check.mask for check in checks])
    bad = np.asarray(masks.any(axis=0), dtype=bool)
    problems = [
        Problem(file, int(lines[row]), checks[k].field, checks[k].message(int(row)))
        for row in np.flatnonzero(bad)
        for k in np.flatnonzero(masks[:, row])
    ]
    return bad, problems


def _capped(problems: list[Problem], total: int, file: str) -> list[Problem]:
    """The first :data:`MAX_PROBLEMS` of ``problems`` and, when ``total`` is more, how many more."""
    if total <= MAX_PROBLEMS:
        return problems
    more = Problem(file, None, "judgments", f"... and {total - MAX_PROBLEMS} more problems")
    return problems[:MAX_PROBLEMS] + [more]


@dataclass(frozen=True)
class _Check:
    """One rule: the rows that break it, and how to word the problem for one of them."""

    field: str
    mask: np.ndarray
    """True for each row (by position) that breaks the rule."""
    message: Callable[[int], str]
    """The message for the row at a position where ``mask`` is True."""


class _Fields:
    """The columns of a frame of judgments as trimmed text and as values, each computed once."""

    def __init__(self, frame: pd.DataFrame):
        self.n = len(frame)
        self.index = pd.RangeIndex(self.n)
        self.text = {c: self._trimmed(frame, c) for c in COLUMNS}
        self.has_form = FORM_COLUMN in frame.columns
        form = frame[FORM_COLUMN].fillna("") if self.has_form else pd.Series([""] * self.n, dtype=str)
        self.form_text = form.astype(str).str.strip().set_axis(self.index)
        self.form = self.form_text.str.lower()
        self.raters = _Raters(self.text["rater"])
        self.rater = self.raters.normalized()
        upper = self.text["choice"].str.upper()
        self.choice = upper.mask(upper == "TIE", "tie")  # written as the store and statistics write it
        self.left = self.text["left"].str.upper()
        self.confidence = _numbers(self.text["confidence"])
        self.seconds = _numbers(self.text["seconds"])
        self.answered_at = _times(self.text["answered_at"])

    def _trimmed(self, frame: pd.DataFrame, column: str) -> pd.Series:
        if column not in frame.columns:
            return pd.Series([""] * self.n, index=self.index, dtype=str)
        return frame[column].astype(str).str.strip().set_axis(self.index)

    def normalized(self) -> pd.DataFrame:
        """The typed frame :func:`normalize` returns."""
        typed = pd.DataFrame(
            {
                "rater": self.rater,
                "pair_id": self.text["pair_id"],
                "choice": self.choice,
                "confidence": self.confidence,
                "left": self.left.where(_is_a_or_b(self.left), None),
                "answered_at": self.answered_at,
                "seconds": self.seconds,
            },
            index=self.index,
        )
        if self.has_form:
            typed[FORM_COLUMN] = self.form
        return typed


class _Raters:
    """The raters' names of a frame, each distinct name checked and normalized once.

    ``codes`` numbers each row's name as given (trimmed); the lists are per
    distinct name, in the order the names first appear.
    """

    def __init__(self, text: pd.Series):
        self.text = text
        codes, uniques = pd.factorize(text)
        self.codes = np.asarray(codes)
        self.given = list(uniques)
        self.first_row = np.unique(self.codes, return_index=True)[1]  # codes count from 0
        self.problem: list[str | None] = [name_problem(name) if name else None for name in self.given]
        self.names = [
            normalize_name(name) if name and problem is None else name
            for name, problem in zip(self.given, self.problem, strict=True)
        ]
        self.lookalike_of = self._lookalikes()

    def _lookalikes(self) -> list[int | None]:
        """For each distinct name, the first name of another spelling with its skeleton, or None.

        Names given in two ways that normalize alike (``alice`` and the
        full-width ``ａｌｉｃｅ``) are one name, not look-alikes.
        """
        first_spelling: dict[str, int] = {}
        first_of_skeleton: tuple[dict[str, int], dict[str, int]] = ({}, {})
        lookalike_of: list[int | None] = [None] * len(self.names)
        for code, (name, problem) in enumerate(zip(self.names, self.problem, strict=True)):
            if not name or problem is not None:
                continue
            if name in first_spelling:  # the same name, given another way
                lookalike_of[code] = lookalike_of[first_spelling[name]]
                continue
            first_spelling[name] = code
            firsts = [
                seen.setdefault(key, code)
                for seen, key in zip(first_of_skeleton, name_skeletons(name), strict=True)
            ]
            others = [other for other in firsts if other != code]
            if others:
                lookalike_of[code] = min(others)
        return lookalike_of

    def normalized(self) -> pd.Series:
        """Each row's name as :func:`pairs.names.normalize_name` gives it (as given when it refuses it)."""
        if self.names == self.given:
            return self.text
        names = np.asarray(self.names, dtype=object)
        return pd.Series(names[self.codes], index=self.text.index, dtype=self.text.dtype)

    def row_mask(self, per_name: list[bool]) -> np.ndarray:
        """The rows whose name has ``per_name`` True."""
        if not any(per_name):
            return np.zeros(len(self.codes), dtype=bool)
        return np.asarray(per_name, dtype=bool)[self.codes]

    def first_rows_mask(self, per_name: list[bool]) -> np.ndarray:
        """The first row of each name that has ``per_name`` True."""
        mask = np.zeros(len(self.codes), dtype=bool)
        flagged = [code for code, flag in enumerate(per_name) if flag]
        mask[self.first_row[flagged]] = True
        return mask


def _is_a_or_b(text: pd.Series) -> pd.Series:
    """``text.isin(["A", "B"])``, as two comparisons (several times faster on pandas' str dtype)."""
    return (text == "A") | (text == "B")


def _times(text: pd.Series) -> pd.Series:
    """``pd.to_datetime`` of the non-empty texts (UTC, ISO 8601, NaT where unreadable or empty).

    Arrow's parser reads a column of times in the common forms many times
    faster than pandas. It reads a form or refuses it, and where it reads a
    time it gives the same instant as pandas (tests/test_judgments.py checks
    this); when it refuses any text of the column, pandas reads the whole column.
    """
    given = np.array(text != "", dtype=bool)
    if pc is not None and given.any():
        try:
            read = pc.cast(pa.array(text[given]), pa.timestamp("us", "UTC"))
        except (pa.ArrowException, ValueError, OverflowError):  # a form Arrow does not read
            pass
        else:
            instants = np.full(len(text), np.datetime64("NaT"), dtype="datetime64[us]")
            instants[given] = read.to_numpy(zero_copy_only=False)
            return pd.Series(instants, index=text.index).dt.tz_localize("UTC")
    return pd.to_datetime(text.where(given), utc=True, errors="coerce", format="ISO8601")


def _numbers(text: pd.Series) -> np.ndarray:
    """``pd.to_numeric(text, errors="coerce")`` as floats, converting each distinct text once."""
    codes, uniques = pd.factorize(text, use_na_sentinel=False)
    values = pd.to_numeric(pd.Series(uniques, dtype=object), errors="coerce").to_numpy(dtype=float)
    return values[codes] if len(codes) else np.array([], dtype=float)


def _checks(
    fields: _Fields,
    *,
    pair_ids: Iterable[str] | None,
    lines: np.ndarray | None = None,
    every_lookalike_row: bool = False,
) -> list[_Check]:
    """Every rule a judgment must follow, in the order a row's problems are listed.

    The masks are whole-column operations; the messages are functions, called
    only for the rows that are reported. ``lines`` (each row's line in the
    file) is needed only to word a conflict between two rows. A rater whose
    name looks like another's is reported on their first row, or on every row
    with ``every_lookalike_row`` (when the rows with problems are left out).
    """
    text = fields.text
    rater, pair, choice, left = text["rater"], text["pair_id"], fields.choice, fields.left
    conf, secs, at = fields.confidence, fields.seconds, fields.answered_at

    def quoting(column: pd.Series, template: str) -> Callable[[int], str]:
        return lambda i: template.format(shown(column.iat[i]))

    def mask(values) -> np.ndarray:
        return np.asarray(values, dtype=bool)

    def fixed(message: str) -> Callable[[int], str]:
        return lambda i: message

    raters = fields.raters
    too_long = f"longer than {MAX_NAME_CHARS} characters"  # what the store's columns hold
    checks = [_Check("rater", mask(rater == ""), fixed("empty"))]
    long_names = [len(name) > MAX_NAME_CHARS for name in raters.names]
    checks.append(_Check("rater", raters.row_mask(long_names), fixed(too_long)))
    bad_names = [problem is not None for problem in raters.problem]
    checks.append(_Check("rater", raters.row_mask(bad_names), lambda i: str(raters.problem[raters.codes[i]])))
    line_of = lines if lines is not None else np.arange(fields.n) + 2  # row i is line i + 2

    def lookalike_message(i: int) -> str:
        mine, theirs = raters.names[raters.codes[i]], raters.lookalike_of[raters.codes[i]]
        assert theirs is not None
        other = raters.names[theirs]
        differs = next((ch for ch in mine if ch not in other), mine[0])
        return (
            f"looks like rater {shown(other)} of line {line_of[raters.first_row[theirs]]} but is written "
            f"differently ({describe_character(differs)}): names a reader could confuse are refused"
        )

    lookalikes = [theirs is not None for theirs in raters.lookalike_of]
    lookalike_rows = raters.row_mask if every_lookalike_row else raters.first_rows_mask
    checks.append(_Check("rater", lookalike_rows(lookalikes), lookalike_message))
    checks.append(_Check("pair_id", mask(pair == ""), fixed("empty")))
    checks.append(_Check("pair_id", mask(pair.str.len() > MAX_NAME_CHARS), fixed(too_long)))
    nul = "contains a NUL character (\\u0000)"
    checks.append(_Check("pair_id", mask(pair.str.contains("\x00", regex=False)), fixed(nul)))
    if pair_ids is not None:
        unknown = (pair != "") & ~pair.isin(pd.Index(list(pair_ids)))
        checks.append(_Check("pair_id", mask(unknown), quoting(pair, "unknown pair {} (not in the bank)")))
    checks.append(
        _Check(
            "choice",
            mask(~_is_a_or_b(choice) & (choice != "tie")),
            quoting(text["choice"], "must be A, B or tie, got {}"),
        )
    )
    bad_left = (left != "") & ~_is_a_or_b(left)
    checks.append(_Check("left", mask(bad_left), quoting(text["left"], "must be A, B or empty, got {}")))

    conf_text = text["confidence"]
    not_number = mask(conf_text != "") & np.isnan(conf)
    with np.errstate(invalid="ignore"):
        out_of_range = ~np.isnan(conf) & ~((conf >= 0.5) & (conf <= 1.0))

    def conf_message(i: int) -> str:
        if not_number[i]:
            return f"must be a number in [0.5, 1], got {shown(conf_text.iat[i])}"
        return f"must be in [0.5, 1] (a probability, not a percentage), got {conf_text.iat[i][:60]}"

    checks.append(_Check("confidence", not_number | out_of_range, conf_message))

    form = fields.form
    bad_form = ~form.isin(FORMS).to_numpy(dtype=bool)
    form_rule = "must be pre, post, retention or empty (a drill answer), got {}"
    checks.append(_Check(FORM_COLUMN, bad_form, quoting(fields.form_text, form_rule)))

    secs_text = text["seconds"]
    with np.errstate(invalid="ignore"):
        bad_secs = (mask(secs_text != "") & np.isnan(secs)) | (secs < 0) | np.isinf(secs)
    checks.append(_Check("seconds", bad_secs, quoting(secs_text, "must be a number of seconds >= 0, got {}")))

    at_text = text["answered_at"]
    bad_at = mask(at_text != "") & mask(at.isna())
    checks.append(_Check("answered_at", bad_at, quoting(at_text, "not an ISO 8601 time: {}")))
    # pandas reads years such as 0 or -2026, which Python's datetime (and so the store) cannot hold
    bad_year = mask(at.notna() & ~at.dt.year.between(1, 9999))
    checks.append(_Check("answered_at", bad_year, quoting(at_text, "must be in the years 1 to 9999, got {}")))

    # The store keeps one answer per rater, pair and answered_at (to the microsecond):
    # a second, different answer would be dropped without a word.
    conflict, first_row = _conflicts(fields)

    firsts = first_row if first_row is not None else np.empty(0, dtype=np.int64)

    def conflict_message(i: int) -> str:
        return f"a different answer than line {line_of[firsts[i]]} for this rater, pair and time"

    checks.append(_Check("answered_at", conflict, conflict_message))
    return checks


def _conflicts(fields: _Fields) -> tuple[np.ndarray, np.ndarray]:
    """Rows whose rater, pair and time (to the microsecond) come earlier with a different answer,
    and for each such row the position of the first row with its rater, pair and time.

    Only rows that share their time with another row can conflict; a real file
    has few or none, so only those are grouped.
    """
    n = fields.n
    conflict = np.zeros(n, dtype=bool)
    first_row = np.full(n, -1, dtype=np.int64)
    rater, pair = fields.rater, fields.text["pair_id"]
    when = fields.answered_at.dt.floor("us")
    timed = np.flatnonzero(np.array(when.notna() & (rater != "") & (pair != ""), dtype=bool))
    rows = timed[when.iloc[timed].duplicated(keep=False).to_numpy()]
    if not len(rows):
        return conflict, first_row
    keys = [rater.iloc[rows], pair.iloc[rows], when.iloc[rows]]
    # numbers as text through numpy: pandas' str dtype would keep NaN missing, and NaN != NaN
    parts = [
        fields.choice.iloc[rows].to_numpy(dtype=object),
        fields.confidence[rows].astype(str).astype(object),
        fields.left.iloc[rows].to_numpy(dtype=object),
        fields.seconds[rows].astype(str).astype(object),
    ]
    answer = pd.Series(parts[0] + "|" + parts[1] + "|" + parts[2] + "|" + parts[3], index=keys[0].index)
    conflict[rows] = (answer != answer.groupby(keys, sort=False).transform("first")).to_numpy()
    position = pd.Series(rows, index=keys[0].index)
    first_row[rows] = position.groupby(keys, sort=False).transform("first").to_numpy()
    return conflict, first_row


def _find_problems(
    frame: pd.DataFrame,
    file: str,
    *,
    lines: np.ndarray | None = None,
    pair_ids: Iterable[str] | None = None,
    limit: int = MAX_PROBLEMS,
) -> tuple[list[Problem], int]:
    """The first ``limit`` problems of a frame of judgments, in line order, and how many there are."""
    n = len(frame)
    if n == 0:
        return [Problem(file, None, "judgments", "no judgments found")], 1
    lines = np.arange(2, n + 2) if lines is None else np.asarray(lines)
    checks = _checks(_Fields(frame), pair_ids=pair_ids, lines=lines)
    masks = np.vstack([check.mask for check in checks])
    total = int(masks.sum())
    problems: list[Problem] = []
    for row in np.flatnonzero(masks.any(axis=0)):
        for k in np.flatnonzero(masks[:, row]):
            problems.append(Problem(file, int(lines[row]), checks[k].field, checks[k].message(int(row))))
            if len(problems) == limit:
                return problems, total
    return problems, total


def normalize(frame: pd.DataFrame) -> pd.DataFrame:
    """Typed judgments in :data:`COLUMNS` order from validated strings.

    Parameters
    ----------
    frame : DataFrame
        Some of the :data:`COLUMNS`, as text that passes :func:`validate_judgments`.

    Returns
    -------
    DataFrame
        ``rater``, ``pair_id`` (trimmed text), ``choice`` (``A``, ``B`` or ``tie``),
        ``confidence`` (float or NaN), ``left`` (``A``, ``B`` or missing),
        ``answered_at`` (UTC timestamp or NaT), ``seconds`` (float or NaN),
        and ``form`` (lower case, ``""`` for a drill answer) when ``frame`` has it,
        indexed from 0.

    Examples
    --------
    >>> typed = normalize(pd.DataFrame({"rater": [" ann "], "pair_id": ["p1"], "choice": ["b"]}))
    >>> typed[["rater", "pair_id", "choice"]].values.tolist(), typed["confidence"].isna().all()
    ([['ann', 'p1', 'B']], np.True_)
    """
    return _Fields(frame).normalized()


def to_csv(frame: pd.DataFrame, leading: Sequence[str] = ()) -> str:
    """Judgments as CSV text in the shared layout, safe to open in a spreadsheet.

    Parameters
    ----------
    frame : DataFrame
        Judgments with (some of) the :data:`COLUMNS`; missing ones are written
        empty and others are left out, except :data:`FORM_COLUMN`, written last
        when ``frame`` has it.
    leading : sequence of str, default ()
        Columns of ``frame`` written before :data:`COLUMNS` (e.g. ``bank``,
        for judgments on several banks).

    Returns
    -------
    str
        A header of :data:`COLUMNS` and one line per judgment; times in ISO 8601
        UTC with microseconds. Written by :func:`pairs.export.csv_text`, so no
        text cell (rater, pair id, ...) starts like a formula a spreadsheet would run.

    Examples
    --------
    >>> print(to_csv(pd.DataFrame({"rater": ["=1+1"], "pair_id": ["@p"], "choice": ["A"]})), end="")
    rater,pair_id,choice,confidence,left,answered_at,seconds
    '=1+1,'@p,A,,,,
    """
    extra = [FORM_COLUMN] if FORM_COLUMN in frame.columns else []  # written only when present
    out = frame.reindex(columns=[*leading, *COLUMNS, *extra]).copy()
    at = pd.to_datetime(out["answered_at"], utc=True, errors="coerce")
    out["answered_at"] = at.dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ").where(at.notna(), "")
    return csv_text(out)


__all__ = [
    "COLUMNS",
    "FORMS",
    "FORM_COLUMN",
    "MAX_NAME_CHARS",
    "MAX_PROBLEMS",
    "REQUIRED",
    "judgment_row_problems",
    "judgment_rows",
    "neutralize_formula",  # kept here for the callers of pairs.judgments; defined in pairs.export
    "normalize",
    "parse_judgments",
    "read_judgments",
    "spreadsheet_safe",  # likewise
    "to_csv",
    "validate_judgments",
]
