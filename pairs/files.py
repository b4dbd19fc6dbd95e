"""Files: CSV rows with the lines they start on, and writes that never leave half a file behind.

Two CSV readers give the same cells: :func:`csv_rows`, Python's strict ``csv``
module row by row with each row's physical line, and :func:`csv_table`, pandas'
C parser, many times faster, which declines (returns None) whenever it might
read a file differently. Read with :func:`csv_table` first, and with
:func:`csv_rows` when it declines or when problems must be reported by line.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd

_QUOTE = ord('"')
_ENDS_FIELD = np.array([ord(","), ord("\n"), ord("\r")], dtype=np.uint8)


def csv_rows(text: str) -> Iterator[tuple[int, list[str] | csv.Error, int]]:
    r"""The rows of CSV ``text`` that are not blank: ``(line, cells, characters read so far)``.

    ``line`` is the physical line a row starts on (1-based), so a quoted
    newline inside a cell does not shift the rows after it. A row the reader
    cannot parse (an unclosed quote, a field over ``csv.field_size_limit()``)
    comes as its ``csv.Error`` in place of the cells, and reading goes on after it.

    Parameters
    ----------
    text : str
        The decoded file.

    Yields
    ------
    line : int
        The physical line the row starts on.
    cells : list of str or csv.Error
        The row's cells, or why it could not be read.
    read : int
        Characters of ``text`` read so far (for progress).

    Examples
    --------
    >>> [(line, cells) for line, cells, _ in csv_rows('a,b\n\n"x\ny",z\n')]
    [(1, ['a', 'b']), (3, ['x\ny', 'z'])]
    """
    stream = io.StringIO(text, newline="")
    reader = csv.reader(stream, strict=True)
    start = 1
    while True:
        try:
            row: list[str] | csv.Error = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            row = error
        line, start = start, reader.line_num + 1
        if isinstance(row, csv.Error) or any(cell.strip() for cell in row):
            yield line, row, stream.tell()


def csv_table(data: bytes) -> tuple[list[str], pd.DataFrame] | None:
    r"""The first row and the other rows of CSV ``data``, read by pandas' C parser, or None.

    When not None, the cells are exactly those :func:`csv_rows` gives for the
    text of ``data`` (UTF-8, one byte-order mark dropped): the header is the
    first row that is not blank, blank rows are dropped, and a row shorter
    than the header is padded with empty cells. The frame's columns are
    numbered like the header's cells, all of pandas' ``str`` dtype, and its
    index counts the rows kept from 0.

    None means "read it with :func:`csv_rows`": the C parser might not agree
    with the strict ``csv`` module, or the file has a problem that must be
    reported by line. That is when ``data`` is not UTF-8; holds a NUL, a
    second byte-order mark, or a carriage return not followed by a line feed
    (after which the C parser can drop a cell); has a quote that does not
    open, close or double a quote inside a quoted field; a row longer than
    the first; a blank row before the header; a cell over
    ``csv.field_size_limit()``; or no row after the header.

    Parameters
    ----------
    data : bytes
        The file's content.

    Returns
    -------
    header : list of str
        The header's cells, as they are.
    rows : DataFrame
        The other rows, cells as text.
    Or None, when the file must be read with :func:`csv_rows`.

    Examples
    --------
    >>> header, rows = csv_table(b'id,text\n\n7,"a, ""b""\nc"\n8\n')
    >>> header, rows.to_dict("list")
    (['id', 'text'], {0: ['7', '8'], 1: ['a, "b"\nc', '']})
    >>> csv_table(b'id,text\n7,"a" b\n') is None  # strict CSV refuses text after a closing quote
    True
    """
    body = data.removeprefix(codecs.BOM_UTF8)
    if body.startswith(codecs.BOM_UTF8) or b"\x00" in body or not _plain_quotes(body):
        return None
    # the C parser can drop a cell after a lone CR
    if b"\r" in body and body.count(b"\r") != body.count(b"\r\n"):
        return None
    try:
        # header=None keeps the header's names in the data, so pandas infers no column as a
        # number; low_memory=False infers once for the whole file, not chunk by chunk; and with
        # keep_default_na=False no text (NA, nan, "") becomes missing.
        table = pd.read_csv(
            io.BytesIO(body),
            header=None,
            engine="c",
            encoding="utf-8",
            keep_default_na=False,
            low_memory=False,
        )
    except (ValueError, OverflowError):  # rows longer than the first, bad UTF-8, no rows at all
        return None
    if not all(pd.api.types.is_string_dtype(table[c]) for c in table):
        return None
    if len(body) > csv.field_size_limit() and max(table[c].str.len().max() for c in table) > (
        csv.field_size_limit()
    ):
        return None
    blank = np.array(table[0].str.strip() == "", dtype=bool)
    if blank[0]:  # maybe a blank row of commas, which set the width instead of the header
        return None
    if blank.any():
        candidates = np.flatnonzero(blank)
        cells = table.iloc[candidates]
        blank[candidates] = np.logical_and.reduce([(cells[c].str.strip() == "").to_numpy() for c in cells])
        table = table[~blank]
    if len(table) < 2:
        return None
    rows = table.iloc[1:].reset_index(drop=True)
    return [str(cell) for cell in table.iloc[0]], rows


def _plain_quotes(data: bytes) -> bool:
    """True when every ``"`` in ``data`` opens a field, closes one (before a comma, a line end or
    the end), or doubles a quote inside one: the quoting on which pandas' C parser and the
    strict ``csv`` module agree.

    Counting quotes from the start, quotes 0, 2, 4, ... open and 1, 3, 5, ... close; a doubled
    quote ``""`` inside a field is a close right before an open. ASCII bytes never occur inside
    a multi-byte UTF-8 character, so the bytes can be scanned as they are.

    >>> [_plain_quotes(x) for x in (b'a,"b ""c"" d",e', b'"",x', b'a"b,c', b'"a" ,b', b'"a,b')]
    [True, True, False, False, False]
    """
    if b'"' not in data:
        return True
    buf = np.frombuffer(data, dtype=np.uint8)
    quotes = np.flatnonzero(buf == _QUOTE)
    if len(quotes) % 2:
        return False
    opens, closes = quotes[0::2], quotes[1::2]
    doubled = opens[1:] == closes[:-1] + 1  # quote k closes right before quote k + 1 opens
    starts_field = (opens == 0) | np.isin(buf[np.maximum(opens - 1, 0)], _ENDS_FIELD)
    starts_field[1:] |= doubled
    after = closes + 1
    ends_field = (after == len(buf)) | np.isin(buf[np.minimum(after, len(buf) - 1)], _ENDS_FIELD)
    ends_field[:-1] |= doubled
    return bool(starts_field.all() and ends_field.all())


def csv_header(
    cells: list[str], columns: Iterable[str], required: Iterable[str]
) -> tuple[list[str], list[str], list[str]]:
    """A header row's column names (trimmed, lower case), the known ``columns`` it names more than
    once, and the ``required`` ones it lacks, each in the order given.

    Parameters
    ----------
    cells : list of str
        The header row.
    columns : iterable of str
        The columns the format knows.
    required : iterable of str
        The columns it must have.

    Returns
    -------
    header : list of str
        The names, trimmed and in lower case, one per cell.
    repeated : list of str
        Known columns named more than once.
    missing : list of str
        Required columns not named.

    Examples
    --------
    >>> csv_header([" Prompt", "GOLD", "gold", "note"], ["prompt", "gold", "id"], ["prompt", "id"])
    (['prompt', 'gold', 'gold', 'note'], ['gold'], ['id'])
    """
    header = [cell.strip().lower() for cell in cells]
    counts = Counter(header)
    return header, [c for c in columns if counts[c] > 1], [c for c in required if not counts[c]]


def atomic_write(path: str | os.PathLike, chunks: Iterable[str]) -> None:
    """Write ``chunks`` to ``path`` through a temporary file beside it, fsync, then rename.

    On any error (including one raised while producing ``chunks``) the temporary
    file is removed and ``path`` is left as it was.

    Parameters
    ----------
    path : str or path-like
        The file to write (replaced whole when it exists).
    chunks : iterable of str
        The text, in pieces, written as UTF-8 with line ends as they are.
    """
    path = Path(path)
    handle = tempfile.NamedTemporaryFile(
        "w",
        encoding="utf-8",
        newline="",
        dir=path.parent,
        prefix=f".{path.name}.",
        suffix=".tmp",
        delete=False,
    )
    try:
        with handle:
            for chunk in chunks:
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(handle.name, 0o666 & ~umask)
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
