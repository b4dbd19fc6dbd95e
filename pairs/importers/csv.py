"""Banks in CSV, ``csv``: the native columns with a header row.

``tags`` is written ``a;b`` or as a JSON list; an empty cell counts as missing.
A record's line is the physical line it starts on (the header is line 1), so a
quoted newline inside a cell does not shift the lines after it.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator

from pairs.bank import COLUMNS, MAX_TEXT_CHARS, REQUIRED
from pairs.files import csv_header, csv_rows
from pairs.importers.reading import Record, Source


def read_csv(source: Source) -> Iterator[Record]:
    """Records of a bank in CSV with the native columns; a record's line is where it starts.

    Empty cells count as missing; columns the bank does not know are ignored.

    Parameters
    ----------
    source : Source
        The decoded file; what cannot be mapped is reported on it.

    Yields
    ------
    Record
        ``(line, record)`` with the record in the native bank schema.
    """
    csv.field_size_limit(max(csv.field_size_limit(), 4 * MAX_TEXT_CHARS))
    header: list[str] | None = None
    start = 0
    for line, row, read in csv_rows(source.text):
        span, start = (start, read), read
        if isinstance(row, csv.Error):  # an unclosed quote may hide the rows after it
            source.problem(line, "csv", f"not valid CSV ({row})", whole_file=True)
            continue
        source.advance(read)
        if header is None:
            header, repeated, missing = csv_header(row, COLUMNS, REQUIRED)
            for column in repeated:  # other columns are not read
                source.problem(line, column, "column appears more than once", whole_file=True)
            for column in missing:
                source.problem(line, column, "missing column", whole_file=True)
            source.missing_columns = set(missing)
            continue
        source.spans[line] = span
        if len(row) > len(header):
            source.problem(line, "csv", f"{len(row)} fields but the header has {len(header)}")
            continue
        yield line, {key: value for key, value in zip(header, row, strict=False) if key and value.strip()}
