"""What reading a file found: its valid rows, every problem, and what skipping bad rows would give.

An import is all or nothing by default: :meth:`Checked.all_rows` raises on any
problem. With ``--skip-invalid`` the user asks for the valid rows instead
(:meth:`Checked.valid_rows`), and every refused row goes to a rejects file
(:meth:`Checked.rejects`, columns :data:`REJECT_COLUMNS`). Some problems concern
the whole file and cannot be skipped: a file that is not UTF-8, a CSV header
missing a column or naming one twice, broken JSON list syntax (after which a
reader cannot tell where records start), an unknown mapped column, or a file
with no row at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pandas as pd

from pairs.errors import InputError, Problem
from pairs.importers.reading import Source

REJECT_COLUMNS = ["line", "field", "message", "raw"]
"""The rejects file's columns: the row's line, the field at fault, why, and the row as the file has it."""


@dataclass
class Checked:
    """A file read and checked: the rows understood, and every problem.

    Attributes
    ----------
    name : str
        The file's name, as problems show it.
    format : str
        The format read (a key of :data:`pairs.importers.FORMATS`, ``mapped``, or ``csv``).
    rows : DataFrame
        The valid rows (pairs, or judgments) with their ``line``.
    problems : list of Problem
        Every problem, in line order (whole-file problems first).
    whole_file : list of Problem
        Those of ``problems`` that skipping rows cannot get past.
    source : Source or None
        The decoded file (None when it could not be decoded), for the rejected rows' text.
    skipped : dict of str to int
        What the reader left out on purpose, by kind (``"tie votes"``): not problems.
    """

    name: str
    format: str
    rows: pd.DataFrame
    problems: list[Problem]
    whole_file: list[Problem] = field(default_factory=list)
    source: Source | None = None
    skipped: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        packed = {} if self.source is None else self.source.packed
        if not packed:
            return
        whole_file = set(self.whole_file)
        # a record of a JSON list on one line is named by its number and character, not "line 1"
        self.problems = [
            replace(p, record=packed[p.line], offset=p.line)
            if p.line in packed and p not in whole_file
            else p
            for p in self.problems
        ]

    @property
    def refused_lines(self) -> list[int]:
        """The lines of the rows that have a problem, in order.

        Returns
        -------
        list of int
            Each line once.
        """
        whole_file = set(self.whole_file)
        return sorted({p.line for p in self.problems if p.line is not None and p not in whole_file})

    def all_rows(self) -> pd.DataFrame:
        """The rows, when the file has no problem at all: an import's default, all or nothing.

        Returns
        -------
        DataFrame
            :attr:`rows`.

        Raises
        ------
        InputError
            With every problem, when there is any.
        """
        if self.problems:
            raise InputError(self.problems)
        return self.rows

    def valid_rows(self) -> pd.DataFrame:
        """The rows without a problem, skipping the refused ones (``--skip-invalid``).

        Returns
        -------
        DataFrame
            :attr:`rows` except any whose line has a problem.

        Raises
        ------
        InputError
            With the whole-file problems, when there are any; or with every
            problem when no row is left.
        """
        if self.whole_file:
            raise InputError(self.whole_file)
        kept = self.rows[~self.rows["line"].isin(self.refused_lines)]
        if kept.empty:
            left = Problem(self.name, None, "file", "no valid rows: every row was refused")
            raise InputError([*self.problems, left] if self.problems else [left])
        return kept

    def rejects(self) -> pd.DataFrame:
        """One row per problem of a refused row: :data:`REJECT_COLUMNS`.

        Returns
        -------
        DataFrame
            ``line``, ``field``, ``message`` and ``raw`` (the record's text as
            the file has it), in line order; whole-file problems are not listed.
        """
        whole_file = set(self.whole_file)
        listed = [p for p in self.problems if p.line is not None and p not in whole_file]
        source = self.source
        raw = source.raw if source is not None else (lambda line: "")
        return pd.DataFrame(
            [[_line_of(p, source), p.field, _message_of(p), raw(p.line)] for p in listed],
            columns=REJECT_COLUMNS,
        )


def _line_of(problem: Problem, source: Source | None) -> int | None:
    """The physical line of a problem's record (a packed JSON list's record is keyed by its character)."""
    if problem.record is None or source is None:
        return problem.line
    return source.text.count("\n", 0, problem.offset or 0) + 1


def _message_of(problem: Problem) -> str:
    """The message, after where the record is when its line does not tell it apart."""
    return problem.message if problem.record is None else f"{problem.where}: {problem.message}"
