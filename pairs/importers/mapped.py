"""Any other table of pairs, read through a column mapping (``--map``) instead of a format.

A CSV file with a header, a JSON list or JSON Lines whose records name their
fields in their own way: :class:`ColumnMap` says which of the file's columns
holds each bank column (``prompt=instruction,response_a=output_1``), and, when
the file does not write gold as ``A``, ``B``, ``tie``, which of its values
means which (``A=1,B=2,tie=0``). A bank column the mapping does not name is read
from the file's column of the same name, when there is one.

A mapped column the file does not have is a problem of the whole file, listing
the columns it has. Problems of a record name the file's column
(``output_1: empty``), not the bank's.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pairs.bank import COLUMNS, GOLD_VALUES, REQUIRED
from pairs.errors import shown
from pairs.importers.reading import Record, Source, is_object, table_records


@dataclass(frozen=True)
class ColumnMap:
    """Which column of a file holds each bank column, and what its gold values mean.

    Attributes
    ----------
    columns : dict of str to str
        Bank column (a key of :data:`pairs.bank.COLUMNS`) -> the file's column.
    gold_values : dict of str to str
        The file's gold value (as text) -> ``"A"``, ``"B"`` or ``"tie"``; empty
        when the file writes gold as the bank does.
    """

    columns: dict[str, str] = field(default_factory=dict)
    gold_values: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, columns: str | None, gold_values: str | None = None) -> ColumnMap:
        """A mapping from the command line's ``--map`` and ``--gold-values`` texts.

        Parameters
        ----------
        columns : str or None
            ``BANK=FILE`` items separated by commas, e.g.
            ``"prompt=instruction,response_a=output_1,response_b=output_2,gold=label"``.
        gold_values : str or None
            ``GOLD=VALUE`` items separated by commas, e.g. ``"A=1,B=2,tie=0"``;
            a gold may be named more than once (``tie=0,tie=3``).

        Returns
        -------
        ColumnMap

        Raises
        ------
        ValueError
            When an item is not ``NAME=NAME``, names a bank column that does not
            exist or twice, or a gold other than A, B and tie; or when a file
            value is given two golds.

        Examples
        --------
        >>> ColumnMap.parse("prompt=instruction, gold=label", "A=1,B=2,tie=0").gold_values
        {'1': 'A', '2': 'B', '0': 'tie'}
        >>> ColumnMap.parse("question=q")
        Traceback (most recent call last):
        ...
        ValueError: --map: 'question' is not a bank column (one of id, prompt, response_a, response_b, gold, \
rationale, tags, domain, source, gold_confidence, probe, probe_of, styled).
        """
        mapped: dict[str, str] = {}
        for bank_column, file_column in _items(columns or "", "--map"):
            if bank_column not in COLUMNS:
                raise ValueError(
                    f"--map: {bank_column!r} is not a bank column (one of {', '.join(COLUMNS)})."
                )
            if bank_column in mapped:
                raise ValueError(f"--map: {bank_column!r} is mapped twice.")
            mapped[bank_column] = file_column
        values: dict[str, str] = {}
        for gold, value in _items(gold_values or "", "--gold-values"):
            canonical = {g.lower(): g for g in GOLD_VALUES}.get(gold.lower())
            if canonical is None:
                raise ValueError(f"--gold-values: {gold!r} is not a gold (A, B or tie).")
            if values.get(value, canonical) != canonical:
                both = f"{values[value]} and {canonical}"
                raise ValueError(f"--gold-values: {value!r} is given as both {both}.")
            values[value] = canonical
        return cls(mapped, values)

    def file_column(self, bank_column: str) -> str:
        """The file's column read for ``bank_column`` (itself when not mapped).

        Parameters
        ----------
        bank_column : str
            A bank column.

        Returns
        -------
        str
            The file's column name.
        """
        return self.columns.get(bank_column, bank_column)


def _items(text: str, option: str) -> list[tuple[str, str]]:
    items = []
    for item in text.split(","):
        if not item.strip():
            continue
        left, equals, right = item.partition("=")
        if not equals or not left.strip() or not right.strip():
            raise ValueError(f"{option}: {item.strip()!r} is not NAME=NAME.")
        items.append((left.strip(), right.strip()))
    return items


def read_mapped(source: Source, column_map: ColumnMap) -> Iterator[Record]:
    """Records of a CSV or JSON table read through ``column_map``.

    Parameters
    ----------
    source : Source
        The decoded file; what cannot be mapped is reported on it.
    column_map : ColumnMap
        Which columns to read, and what the gold values mean.

    Yields
    ------
    Record
        ``(line, record)`` with the record in the native bank schema.
    """
    records = list(table_records(source))
    if source.header is not None:
        present = [name for name in source.header if name]
    else:
        keys = (key for _, record in records if isinstance(record, dict) for key in record)
        present = list(dict.fromkeys(keys))
    if not _columns_found(source, column_map, present):
        return
    for line, record in records:
        if not is_object(source, line, record):
            continue
        named = {bank: column_map.file_column(bank) for bank in COLUMNS}
        out = {bank: record[column] for bank, column in named.items() if column in record}
        if column_map.gold_values and "gold" in out:
            gold = column_map.gold_values.get(_value_text(out["gold"]))
            if gold is None:
                expected = ", ".join(repr(v) for v in column_map.gold_values)
                message = f"must be one of {expected} (--gold-values), got {shown(out['gold'])}"
                source.problem(line, column_map.file_column("gold"), message)
                continue
            out["gold"] = gold
        yield line, out


def _columns_found(source: Source, column_map: ColumnMap, present: list[str]) -> bool:
    """Whether every mapped column is in the file and every required one is found; else report it."""
    where = 1 if source.header is not None else None
    ok = True
    has = f"the file's columns: {', '.join(shown(name) for name in present[:20]) or 'none'}"
    for bank_column, file_column in column_map.columns.items():
        if file_column not in present:
            message = f"no column {file_column!r} in the file (mapped to {bank_column}); {has}"
            source.problem(where, file_column, message, whole_file=True)
            ok = False
    for bank_column in REQUIRED:
        if bank_column not in column_map.columns and bank_column not in present and present:
            message = f"missing: no column {bank_column!r}; map one with --map {bank_column}=COLUMN ({has})"
            source.problem(where, bank_column, message, whole_file=True)
            ok = False
    return ok


def _value_text(value: Any) -> str:
    """A gold value as the text ``--gold-values`` names: ``1``, ``1.0`` and ``"1"`` are all ``1``."""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    return value.strip() if isinstance(value, str) else str(value)
