"""Judgments in the CSV layout shared by the store, the statistics and the CLIs.

Columns: ``rater, pair_id, choice, confidence, left, answered_at, seconds``.
``rater``, ``pair_id`` and ``choice`` are required; the others may be missing
or empty. ``choice`` and ``left`` are ``A`` or ``B`` (the response by identity,
not by side); ``confidence`` is in [0.5, 1] (a percentage such as ``85`` is
refused rather than guessed at); ``answered_at`` is an ISO 8601 time in the
years 1 to 9999 (UTC); ``seconds`` is a non-negative number. A rater's name
and a pair id have at most :data:`MAX_NAME_CHARS` characters. Two rows of one
rater on one pair at the same ``answered_at`` must give the same answer (the
store keeps one).

Validation collects every problem as ``FILE:LINE: field: message``, where LINE
is the physical line a record starts on (the header is line 1 unless blank
lines come first); a file with any problem is refused whole.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from pairs.errors import InputError, Problem, shown
from pairs.files import csv_header, csv_rows

COLUMNS = ["rater", "pair_id", "choice", "confidence", "left", "answered_at", "seconds"]
REQUIRED = ["rater", "pair_id", "choice"]
MAX_PROBLEMS = 1000
MAX_NAME_CHARS = 200
"""Longest rater name or pair id: the width of the store's ``raters.name`` and ``pairs.pair_id``."""


def read_judgments(path: str | Path, *, pair_ids: Iterable[str] | None = None) -> pd.DataFrame:
    """Read and validate a judgments CSV file.

    Parameters
    ----------
    path : path to the CSV file
    pair_ids : iterable of str, optional
        The bank's pair ids; when given, a judgment on any other pair is a problem.

    Returns
    -------
    DataFrame with the :data:`COLUMNS` (missing optional columns filled with NaN).

    Raises
    ------
    InputError
        With every problem found (at most :data:`MAX_PROBLEMS` listed).
    """
    path = Path(path)
    return parse_judgments(path.read_bytes(), str(path), pair_ids=pair_ids)


def parse_judgments(data: bytes, file: str, *, pair_ids: Iterable[str] | None = None) -> pd.DataFrame:
    """Like :func:`read_judgments`, from the bytes of a file named ``file``."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            [Problem(file, line, "encoding", f"not UTF-8 (byte 0x{data[exc.start]:02x})")]
        ) from None
    if not text.strip():
        raise InputError([Problem(file, None, "file", "empty: no header and no judgments")])
    frame, lines, header_problems, problems = _read_csv(text, file)
    if not header_problems and (len(frame) or not problems):  # rows to check, or none at all
        problems += _problems(frame, file, lines=lines, pair_ids=pair_ids)
    problems = sorted(header_problems + problems, key=lambda p: (p.line is None, p.line or 0))
    if problems:
        raise InputError(_capped(problems, file))
    return normalize(frame)


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
            header, repeated, missing = csv_header(row, COLUMNS, REQUIRED)
            header_problems += [Problem(file, line, c, "column appears more than once") for c in repeated]
            needs = "missing column (the header needs rater, pair_id, choice)"
            header_problems += [Problem(file, line, c, needs) for c in missing]
        elif len(row) > len(header):
            problems.append(Problem(file, line, "csv", f"{len(row)} fields but the header has {len(header)}"))
        else:
            rows.append(row)
            lines.append(line)
    if header is None and not problems:  # only blank rows
        header_problems.append(Problem(file, None, "file", "empty: no header and no judgments"))
    header = header or []
    where = {c: header.index(c) for c in COLUMNS if c in header}
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
    """Every problem in a frame of judgments (strings as read from CSV), vectorized.

    At most :data:`MAX_PROBLEMS` are listed, then one saying how many more there are.
    """
    return _capped(_problems(frame, file, lines=lines, pair_ids=pair_ids), file)


def _capped(problems: list[Problem], file: str) -> list[Problem]:
    if len(problems) <= MAX_PROBLEMS:
        return problems
    more = Problem(file, None, "judgments", f"... and {len(problems) - MAX_PROBLEMS} more problems")
    return problems[:MAX_PROBLEMS] + [more]


def _problems(
    frame: pd.DataFrame,
    file: str,
    *,
    lines: np.ndarray | None = None,
    pair_ids: Iterable[str] | None = None,
) -> list[Problem]:
    n = len(frame)
    if lines is None:
        lines = np.arange(2, n + 2)
    if n == 0:
        return [Problem(file, None, "judgments", "no judgments found")]
    checks: list[tuple[str, np.ndarray, pd.Series | str]] = []

    def col(name: str) -> pd.Series:
        if name in frame.columns:
            return frame[name].astype(str).str.strip()
        return pd.Series([""] * n, index=frame.index)

    rater, pair, choice = col("rater"), col("pair_id"), col("choice").str.upper()
    checks.append(("rater", (rater == "").to_numpy(), "empty"))
    checks.append(("pair_id", (pair == "").to_numpy(), "empty"))
    for field, name in (("rater", rater), ("pair_id", pair)):  # what the store's columns hold
        too_long = (name.str.len() > MAX_NAME_CHARS).to_numpy()
        checks.append((field, too_long, f"longer than {MAX_NAME_CHARS} characters"))
        has_nul = name.str.contains("\x00", regex=False).to_numpy()
        checks.append((field, has_nul, "contains a NUL character (\\u0000)"))
    if pair_ids is not None:
        known = pd.Index(list(pair_ids))
        unknown = (pair != "") & ~pair.isin(known)
        checks.append(
            ("pair_id", unknown.to_numpy(), "unknown pair " + pair.map(shown) + " (not in the bank)")
        )
    bad_choice = ~choice.isin(["A", "B"])
    checks.append(("choice", bad_choice.to_numpy(), "must be A or B, got " + col("choice").map(shown)))

    left = col("left").str.upper()
    bad_left = (left != "") & ~left.isin(["A", "B"])
    checks.append(("left", bad_left.to_numpy(), "must be A, B or empty, got " + col("left").map(shown)))

    conf_text = col("confidence")
    conf = pd.to_numeric(conf_text, errors="coerce")
    not_number = (conf_text != "") & conf.isna()
    out_of_range = conf.notna() & ~conf.between(0.5, 1.0)
    conf_msg = np.where(
        not_number,
        "must be a number in [0.5, 1], got " + conf_text.map(shown),
        "must be in [0.5, 1] (a probability, not a percentage), got " + conf_text.str.slice(0, 60),
    )
    checks.append(
        ("confidence", (not_number | out_of_range).to_numpy(), pd.Series(conf_msg, index=frame.index))
    )

    secs_text = col("seconds")
    secs = pd.to_numeric(secs_text, errors="coerce")
    bad_secs = ((secs_text != "") & secs.isna()) | (secs < 0) | np.isinf(secs)
    checks.append(
        ("seconds", bad_secs.to_numpy(), "must be a number of seconds >= 0, got " + secs_text.map(shown))
    )

    at_text = col("answered_at")
    at = pd.to_datetime(at_text.where(at_text != ""), utc=True, errors="coerce", format="ISO8601")
    bad_at = ((at_text != "") & at.isna()).to_numpy()
    checks.append(("answered_at", bad_at, "not an ISO 8601 time: " + at_text.map(shown)))
    # pandas reads years such as 0 or -2026, which Python's datetime (and so the store) cannot hold
    bad_year = (at.notna() & ~at.dt.year.between(1, 9999)).to_numpy()
    checks.append(("answered_at", bad_year, "must be in the years 1 to 9999, got " + at_text.map(shown)))

    # The store keeps one answer per rater, pair and answered_at (to the microsecond):
    # a second, different answer would be dropped without a word.
    when = at.dt.floor("us")
    timed = (when.notna() & (rater != "") & (pair != "")).to_numpy()
    if timed.any():
        # numbers as text through numpy: pandas' str dtype would keep NaN missing, and NaN != NaN
        conf_str, secs_str = (
            pd.Series(x.to_numpy(float).astype(str), index=frame.index) for x in (conf, secs)
        )
        answer = (choice + "|" + conf_str + "|" + left + "|" + secs_str)[timed]
        keys = [rater[timed], pair[timed], when[timed]]
        first_answer = answer.groupby(keys, sort=False).transform("first")
        first_line = pd.Series(lines, index=frame.index)[timed].groupby(keys, sort=False).transform("first")
        conflict = np.zeros(n, dtype=bool)
        conflict[timed] = (answer != first_answer).to_numpy()
        message = "a different answer than line " + first_line.astype(str) + " for this rater, pair and time"
        checks.append(("answered_at", conflict, message.reindex(frame.index, fill_value="")))

    problems: list[tuple[int, int, Problem]] = []
    for order, (field, mask, message) in enumerate(checks):
        for i in np.flatnonzero(mask):
            msg = message if isinstance(message, str) else message.iloc[i]
            problems.append((int(lines[i]), order, Problem(file, int(lines[i]), field, str(msg))))
    problems.sort(key=lambda t: (t[0], t[1]))
    return [p for _, _, p in problems]


def normalize(frame: pd.DataFrame) -> pd.DataFrame:
    """Typed judgments in :data:`COLUMNS` order from validated strings."""
    n = len(frame)
    out = pd.DataFrame(index=range(n))

    def get(column: str) -> pd.Series:
        if column not in frame:
            return pd.Series([""] * n)
        return frame[column].astype(str).str.strip().reset_index(drop=True)

    out["rater"] = get("rater")
    out["pair_id"] = get("pair_id")
    out["choice"] = get("choice").str.upper()
    out["confidence"] = pd.to_numeric(get("confidence"), errors="coerce")
    left = get("left").str.upper()
    out["left"] = left.where(left.isin(["A", "B"]), None)
    at = get("answered_at")
    out["answered_at"] = pd.to_datetime(at.where(at != ""), utc=True, errors="coerce", format="ISO8601")
    out["seconds"] = pd.to_numeric(get("seconds"), errors="coerce")
    return out


def to_csv(frame: pd.DataFrame) -> str:
    """Judgments as CSV text in the shared layout (times in ISO 8601 UTC)."""
    out = frame.reindex(columns=COLUMNS).copy()
    at = pd.to_datetime(out["answered_at"], utc=True, errors="coerce")
    out["answered_at"] = at.dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ").where(at.notna(), "")
    out["rater"] = out["rater"].map(neutralize_formula)
    return out.to_csv(index=False, lineterminator="\n")


def neutralize_formula(value):
    """Prefix a cell that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``) with ``'``."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with :func:`neutralize_formula` applied to every text cell (numbers untouched).

    For tables shown in the app: Streamlit's table toolbar offers "Download as
    CSV" and writes cells as they are, so a rater named ``=HYPERLINK(...)``
    would become a live formula in the lead's spreadsheet.

    >>> spreadsheet_safe(pd.DataFrame({"rater": ["=1+1", "ann"], "n": [-3, 4]})).to_dict("list")
    {'rater': ["'=1+1", 'ann'], 'n': [-3, 4]}
    """
    text = [c for c in frame.columns if frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c])]
    return frame.assign(**{str(c): frame[c].map(neutralize_formula) for c in text}) if text else frame
