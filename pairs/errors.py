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
    (for example "no pairs").
    """

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        line = "" if self.line is None else str(self.line)
        return f"{self.file}:{line}: {self.field}: {self.message}"


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
