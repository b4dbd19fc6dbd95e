"""Judgments in the CSV layout shared by the store, the statistics and the CLIs.

Columns: ``rater, pair_id, choice, confidence, left, answered_at, seconds``.
``rater``, ``pair_id`` and ``choice`` are required; the others may be missing
or empty. ``choice`` and ``left`` are ``A`` or ``B`` (the response by identity,
not by side); ``confidence`` is in [0.5, 1] (a percentage such as ``85`` is
refused rather than guessed at); ``answered_at`` is an ISO 8601 time;
``seconds`` is a non-negative number.

Validation collects every problem as ``FILE:LINE: field: message`` (the header
is line 1); a file with any problem is refused whole.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from pairs.errors import InputError, Problem

COLUMNS = ["rater", "pair_id", "choice", "confidence", "left", "answered_at", "seconds"]
REQUIRED = ["rater", "pair_id", "choice"]
MAX_PROBLEMS = 1000


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
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_filter=False)
    except (pd.errors.ParserError, csv.Error) as exc:
        raise InputError([Problem(file, None, "csv", f"not a readable CSV file ({exc})")]) from None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise InputError(
            [Problem(file, 1, c, "missing column (the header needs rater, pair_id, choice)") for c in missing]
        )
    lines = _record_lines(text, len(frame))
    problems = validate_judgments(frame, file, lines=lines, pair_ids=pair_ids)
    if problems:
        raise InputError(problems)
    return normalize(frame)


def validate_judgments(
    frame: pd.DataFrame,
    file: str,
    *,
    lines: np.ndarray | None = None,
    pair_ids: Iterable[str] | None = None,
) -> list[Problem]:
    """Every problem in a frame of judgments (strings as read from CSV), vectorized."""
    n = len(frame)
    if lines is None:
        lines = np.arange(2, n + 2)
    if n == 0:
        return [Problem(file, None, "judgments", "no judgments found")]
    checks: list[tuple[str, np.ndarray, pd.Series]] = []

    def col(name: str) -> pd.Series:
        if name in frame.columns:
            return frame[name].astype(str).str.strip()
        return pd.Series([""] * n, index=frame.index)

    rater, pair, choice = col("rater"), col("pair_id"), col("choice").str.upper()
    checks.append(("rater", (rater == "").to_numpy(), pd.Series("empty", index=frame.index)))
    checks.append(("pair_id", (pair == "").to_numpy(), pd.Series("empty", index=frame.index)))
    if pair_ids is not None:
        known = pd.Index(list(pair_ids))
        unknown = (pair != "") & ~pair.isin(known)
        checks.append(
            ("pair_id", unknown.to_numpy(), "unknown pair " + pair.map(repr) + " (not in the bank)")
        )
    bad_choice = ~choice.isin(["A", "B"])
    checks.append(("choice", bad_choice.to_numpy(), "must be A or B, got " + col("choice").map(repr)))

    left = col("left").str.upper()
    bad_left = (left != "") & ~left.isin(["A", "B"])
    checks.append(("left", bad_left.to_numpy(), "must be A, B or empty, got " + col("left").map(repr)))

    conf_text = col("confidence")
    conf = pd.to_numeric(conf_text, errors="coerce")
    not_number = (conf_text != "") & conf.isna()
    out_of_range = conf.notna() & ~conf.between(0.5, 1.0)
    conf_msg = np.where(
        not_number,
        "must be a number in [0.5, 1], got " + conf_text.map(repr),
        "must be in [0.5, 1] (a probability, not a percentage), got " + conf_text,
    )
    checks.append(
        ("confidence", (not_number | out_of_range).to_numpy(), pd.Series(conf_msg, index=frame.index))
    )

    secs_text = col("seconds")
    secs = pd.to_numeric(secs_text, errors="coerce")
    bad_secs = ((secs_text != "") & secs.isna()) | (secs < 0)
    checks.append(
        ("seconds", bad_secs.to_numpy(), "must be a number of seconds >= 0, got " + secs_text.map(repr))
    )

    at_text = col("answered_at")
    at = pd.to_datetime(at_text.where(at_text != ""), utc=True, errors="coerce", format="ISO8601")
    bad_at = ((at_text != "") & at.isna()).to_numpy()
    checks.append(("answered_at", bad_at, "not an ISO 8601 time: " + at_text.map(repr)))

    problems: list[tuple[int, int, Problem]] = []
    for order, (field, mask, message) in enumerate(checks):
        for i in np.flatnonzero(mask):
            msg = message if isinstance(message, str) else message.iloc[i]
            problems.append((int(lines[i]), order, Problem(file, int(lines[i]), field, str(msg))))
    problems.sort(key=lambda t: (t[0], t[1]))
    listed = [p for _, _, p in problems[:MAX_PROBLEMS]]
    if len(problems) > MAX_PROBLEMS:
        listed.append(
            Problem(file, None, "judgments", f"... and {len(problems) - MAX_PROBLEMS} more problems")
        )
    return listed


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


def _record_lines(text: str, n_records: int) -> np.ndarray:
    """File line on which each CSV record starts (header = line 1)."""
    physical = text.count("\n") + (0 if text.endswith("\n") else 1)
    if physical == n_records + 1:
        return np.arange(2, n_records + 2)
    # Quoted newlines or blank lines: walk the file with the csv module.
    starts = []
    reader = csv.reader(io.StringIO(text))
    previous_end = 0
    for i, row in enumerate(reader):
        start = previous_end + 1
        previous_end = reader.line_num
        if i == 0 or not row:
            continue
        starts.append(start)
    starts = starts[:n_records]
    starts += [starts[-1] if starts else 2] * (n_records - len(starts))
    return np.asarray(starts)
