"""The native bank format, ``jsonl``: one pair per line with the keys of :data:`pairs.bank.COLUMNS`.

A JSON list of such objects is read too. Records go to validation as they are.
"""

from __future__ import annotations

from collections.abc import Iterator

from pairs.importers.reading import Record, Source, json_records


def read_native(source: Source) -> Iterator[Record]:
    """The records of a native bank, which already have the bank's keys.

    Parameters
    ----------
    source : Source
        The decoded file; what cannot be mapped is reported on it.

    Yields
    ------
    Record
        ``(line, record)`` with the record in the native bank schema.
    """
    return json_records(source)
