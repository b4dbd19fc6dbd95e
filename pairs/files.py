"""Files: CSV rows with the lines they start on, and writes that never leave half a file behind."""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path


def csv_rows(text: str) -> Iterator[tuple[int, list[str] | csv.Error, int]]:
    r"""The rows of CSV ``text`` that are not blank: ``(line, cells, characters read so far)``.

    ``line`` is the physical line a row starts on (1-based), so a quoted
    newline inside a cell does not shift the rows after it. A row the reader
    cannot parse (an unclosed quote, a field over ``csv.field_size_limit()``)
    comes as its ``csv.Error`` in place of the cells, and reading goes on after it.

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


def csv_header(
    cells: list[str], columns: Iterable[str], required: Iterable[str]
) -> tuple[list[str], list[str], list[str]]:
    """A header row's column names (trimmed, lower case), the known ``columns`` it names more than
    once, and the ``required`` ones it lacks, each in the order given.

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
