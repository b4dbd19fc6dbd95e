"""Problems found in input files, reported as ``FILE:LINE: field: message``.

Every importer and validator in PairCal collects *all* problems in a file
before it gives up, so a user can fix a bank in one pass. An import with any
problem imports nothing.
"""

from __future__ import annotations

import reprlib
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One problem in an input file.

    ``line`` is 1-based; it is ``None`` for problems that concern the whole file
    (for example "no pairs"). A record of a JSON list that shares its line with
    other records (a list written on one line) is named by ``record``, its
    number in the list from 1, and ``offset``, the character where it starts
    (from 1); its ``line`` is then that character too, which tells the records
    apart, and the problem reads ``FILE: record N (character C): field: message``.

    Examples
    --------
    >>> str(Problem("bank.jsonl", 3, "gold", "missing"))
    'bank.jsonl:3: gold: missing'
    >>> str(Problem("bank.json", 812, "gold", "missing", record=4, offset=812))
    'bank.json: record 4 (character 812): gold: missing'
    """

    file: str
    line: int | None
    field: str
    message: str
    record: int | None = None
    offset: int | None = None

    @property
    def where(self) -> str:
        """Where the problem is, for a table: ``line 3``, ``record 4 (character 812)``, or empty."""
        if self.record is not None:
            return record_place(self.record, self.offset)
        return "" if self.line is None else f"line {self.line}"

    def __str__(self) -> str:
        if self.record is not None:
            return f"{self.file}: {self.where}: {self.field}: {self.message}"
        line = "" if self.line is None else str(self.line)
        return f"{self.file}:{line}: {self.field}: {self.message}"


def record_place(record: int, offset: int | None) -> str:
    """``record N (character C)``: a record of a JSON list written with several records on a line.

    Parameters
    ----------
    record : int
        Its number in the list, from 1.
    offset : int or None
        The character where it starts in the file, from 1.

    Returns
    -------
    str
    """
    return f"record {record} (character {offset})"


class InputError(ValueError):
    """Raised when an input file has one or more problems.

    ``problems`` lists every problem found; ``str(error)`` has one per line.
    """

    def __init__(self, problems: Iterable[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def _short_repr() -> reprlib.Repr:
    r = reprlib.Repr()
    r.maxstring = r.maxother = r.maxlong = 60
    r.maxlevel, r.maxlist, r.maxdict = 2, 4, 4
    return r


_SHORT_REPR = _short_repr()


def shown(value: object) -> str:
    """``repr(value)`` shortened to about 60 characters, for quoting input in a message.

    A message stays on one short line whatever the file holds (a 5 MB string,
    a list nested a thousand deep).

    Parameters
    ----------
    value : object
        What the file held.

    Returns
    -------
    str
        Its ``repr``, cut in the middle to about 60 characters, nested values to 2 levels.

    Examples
    --------
    >>> shown("tie")
    "'tie'"
    >>> shown("x" * 100)
    "'xxxxxxxxxxxxxxxxxxxxxxxxxxx...xxxxxxxxxxxxxxxxxxxxxxxxxxxx'"
    >>> shown([[[["deep"]]]])
    '[[[...]]]'
    """
    return _SHORT_REPR.repr(value)


def raise_if_any(problems: list[Problem]) -> None:
    """Raise :class:`InputError` when ``problems`` is not empty.

    Parameters
    ----------
    problems : list of Problem
        Every problem found in a file.

    Raises
    ------
    InputError
        With ``problems``, when there is any.
    """
    if problems:
        raise InputError(problems)
