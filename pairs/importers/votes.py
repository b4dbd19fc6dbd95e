"""Several raters' votes on one pair: the gold they give, and the judgments they are.

PandaLM, Chatbot Arena, Label Studio and Argilla files hold each rater's
choice on a pair rather than one expert gold. Their readers turn each record
into a :class:`VotedPair` (the pair in the native schema, without gold, and its
:class:`Vote` list) and hand these to one of two functions:

* :func:`bank_records` makes the bank. Records on the same pair (the same id,
  or the same texts when the file gives no id) pool their votes. The gold is
  what more than half of the votes say, and a tie when the majority says tie
  or there is no majority (:func:`gold_of`); ``gold_confidence`` is the share
  of the votes that agree with the gold.
* :func:`judgment_records` makes the judgments CSV's rows: one per vote for A
  or B, the rater named as the file names them. A tie vote cannot be a
  judgment (a judgment picks one response): it is skipped and counted, and so
  is a rater's second vote on a pair (a judgment is a rater's first answer).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from pairs.bank import content_id, validate_records
from pairs.importers.reading import Record, Source

CHOICES = ("A", "B", "tie")
"""What a vote can say: response_a is better, response_b is better, or neither."""


@dataclass(frozen=True)
class Vote:
    """One rater's choice on a pair, as a file gives it.

    Attributes
    ----------
    line : int or None
        The line of the record holding the vote.
    rater : str or None
        Who voted, as the file names them (None when it does not).
    choice : str
        ``"A"``, ``"B"`` or ``"tie"``.
    expert : bool
        True for a reviewer's answer that decides the gold over the others'
        (Label Studio's ``ground_truth``).
    left : str
        ``"A"`` when the rater saw response_a on the left, ``""`` when unknown.
    answered_at : str
        When the vote was given, ISO 8601, or ``""``.
    seconds : float or None
        How long the rater took.
    """

    line: int | None
    rater: str | None
    choice: str
    expert: bool = False
    left: str = ""
    answered_at: str = ""
    seconds: float | None = None


@dataclass
class VotedPair:
    """A pair read from a file, without gold, and the votes on it.

    Attributes
    ----------
    line : int or None
        The line of the record the pair comes from.
    record : dict
        The pair in the native schema: ``prompt``, ``response_a``,
        ``response_b``, and optionally ``id``, ``source``, ``domain``, ``tags``.
    votes : list of Vote
        Every vote on it in the record.
    """

    line: int | None
    record: dict[str, Any]
    votes: list[Vote] = field(default_factory=list)


def gold_of(choices: Sequence[str]) -> tuple[str, float]:
    """The gold that votes give, and the share of the votes that agree with it.

    The gold is the choice of more than half of the votes; with no such
    majority it is a tie. The share is clipped to [0.5, 1], the range of
    ``gold_confidence`` (a coin flip is the least certain a gold can be), and is
    NaN for a single vote, which shows no agreement.

    Parameters
    ----------
    choices : sequence of str
        At least one vote, each ``"A"``, ``"B"`` or ``"tie"``.

    Returns
    -------
    gold : str
        ``"A"``, ``"B"`` or ``"tie"``.
    confidence : float
        ``count(gold) / len(choices)`` clipped to [0.5, 1], or NaN for one vote.

    Raises
    ------
    ValueError
        When there is no vote.

    Examples
    --------
    >>> gold_of(["B", "B", "A"])
    ('B', 0.6666666666666666)
    >>> gold_of(["A", "B", "tie"])  # no majority: a tie that only a third agree with
    ('tie', 0.5)
    >>> gold_of(["A"])
    ('A', nan)
    """
    if not choices:
        raise ValueError("choices is empty: a gold needs at least one vote.")
    counts = Counter(choices)
    total = len(choices)
    gold = next((choice for choice in CHOICES if 2 * counts[choice] > total), "tie")
    if total == 1:
        return gold, math.nan
    return gold, min(1.0, max(0.5, counts[gold] / total))


def pair_id(record: dict[str, Any]) -> str:
    """The id the bank gives a pair record: its own ``id``, else a hash of its texts.

    Parameters
    ----------
    record : dict
        A pair in the native schema with text ``prompt``, ``response_a`` and ``response_b``.

    Returns
    -------
    str
        As :func:`pairs.bank.validate_records` assigns it.

    Examples
    --------
    >>> pair_id({"prompt": "Say hi", "response_a": "hi", "response_b": "hello"})
    'p-46f874c67015'
    >>> pair_id({"id": 7, "prompt": "Say hi", "response_a": "hi", "response_b": "hello"})
    '7'
    """
    given = record.get("id")
    if isinstance(given, (str, int)) and not isinstance(given, bool) and str(given).strip():
        return str(given).strip()
    return content_id(record["prompt"], record["response_a"], record["response_b"])


def pooled(source: Source, pairs: Iterable[VotedPair], *, id_field: str = "id") -> dict[str, VotedPair]:
    """The pairs by id, each with the votes of every record on it, in the order first read.

    A record with the id of an earlier one but other texts is reported (on
    ``id_field``, the field the file gives the id in) and left out.

    Parameters
    ----------
    source : Source
        The file, where problems are reported.
    pairs : iterable of VotedPair
        The records read.
    id_field : str
        The file's name for the field the id comes from.

    Returns
    -------
    dict of str to VotedPair
        Keyed by :func:`pair_id`; each keeps its first record's line.
    """
    out: dict[str, VotedPair] = {}
    for pair in pairs:
        key = pair_id(pair.record)
        first = out.get(key)
        if first is None:
            out[key] = VotedPair(pair.line, pair.record, list(pair.votes))
        elif _texts(first.record) != _texts(pair.record):
            source.problem(
                pair.line, id_field, f"{key!r} is on {source.where(first.line)} too, with other texts"
            )
        else:
            first.votes.extend(pair.votes)
    return out


def _texts(record: dict[str, Any]) -> tuple[str, str, str]:
    return record["prompt"], record["response_a"], record["response_b"]


def bank_records(source: Source, pairs: Iterable[VotedPair], *, id_field: str = "id") -> Iterator[Record]:
    """Pair records with the gold of their votes (:func:`gold_of`), pooled by id (:func:`pooled`).

    An expert's votes (:attr:`Vote.expert`), when a pair has any, decide the
    gold alone; ``gold_confidence`` is always the share of all votes agreeing with it.

    Parameters
    ----------
    source : Source
        The file, where problems are reported.
    pairs : iterable of VotedPair
        The records read, each with at least one vote.
    id_field : str
        The file's name for the field ids come from.

    Yields
    ------
    Record
        ``(line, record)`` in the native bank schema.
    """
    for pair in pooled(source, pairs, id_field=id_field).values():
        experts = [vote.choice for vote in pair.votes if vote.expert]
        gold, _ = gold_of(experts or [vote.choice for vote in pair.votes])
        agree = sum(vote.choice == gold for vote in pair.votes)
        total = len(pair.votes)
        confidence = math.nan if total == 1 else min(1.0, max(0.5, agree / total))
        yield pair.line, {**pair.record, "gold": gold, "gold_confidence": confidence}


def judgment_records(
    source: Source, pairs: Iterable[VotedPair], *, rater_field: str, id_field: str = "id"
) -> Iterator[Record]:
    """Judgment rows (the judgments CSV's columns, as text) of the votes: for A, for B, or a tie.

    A tie vote is the answer "About equally good" (``choice`` ``tie``), as a
    rater gives it in the app. A pair the bank would refuse (an empty
    response, a NUL character, ...) is reported as the bank reports it, and
    its votes give no judgment. A rater's votes after their first on a pair
    are counted in ``source.skipped`` (``"repeat votes"``).

    Parameters
    ----------
    source : Source
        The file, where problems and skipped votes are reported.
    pairs : iterable of VotedPair
        The records read.
    rater_field : str
        The file's name for the field raters come from, for a vote without one.
    id_field : str
        The file's name for the field ids come from.

    Yields
    ------
    Record
        ``(line, row)``: the vote's line and ``{rater, pair_id, choice, left,
        answered_at, seconds}``.
    """
    seen: set[tuple[str, str]] = set()
    for key, pair in pooled(source, pairs, id_field=id_field).items():
        _, problems = validate_records([(pair.line, {**pair.record, "gold": "tie"})], source.name)
        for problem in problems:
            source.problem(problem.line, problem.field, problem.message)
        if problems:
            continue
        for vote in pair.votes:
            if vote.rater is None:
                source.problem(vote.line, rater_field, "missing: a judgment needs its rater")
                continue
            if (vote.rater, key) in seen:
                source.skipped["repeat votes"] += 1
                continue
            seen.add((vote.rater, key))
            yield (
                vote.line,
                {
                    "rater": vote.rater,
                    "pair_id": key,
                    "choice": vote.choice,
                    "left": vote.left,
                    "answered_at": vote.answered_at,
                    "seconds": "" if vote.seconds is None else repr(vote.seconds),
                },
            )
