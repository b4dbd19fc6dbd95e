"""PandaLM's human-annotated rows, ``pandalm``: a JSON list (or JSON Lines) of votes by three people.

Wang et al. (2023), "PandaLM: An Automatic Evaluation Benchmark for LLM
Instruction Tuning Optimization". A row is ``{instruction, input, response1,
response2, annotator1, annotator2, annotator3}`` (its test set adds ``idx``,
``cmp_key`` and ``motivation_app``, which are not read). Each ``annotatorN``
(any number of them) holds one person's vote: ``1`` response1 is better, ``2``
response2 is better, ``0`` a tie, as a number or its text.

The pair:

* prompt: ``instruction``, then a blank line and ``input`` when ``input`` is not
  empty (the released file writes a missing input as a bare ``NaN``, read as empty);
* response_a, response_b: ``response1``, ``response2``, in the file's order (the
  file puts no preferred one first);
* gold, gold_confidence: what more than half of the annotators say, a tie when
  that is 0 or there is no majority; the confidence is the share of annotators
  agreeing with the gold (:func:`~pairs.importers.votes.gold_of`): votes 2, 2, 1
  give B with 2/3; votes 1, 2, 0 give a tie that a third agree with, clipped to 0.5;
* id: a hash of the texts. Rows with the same texts are one pair and pool their
  votes (the test set compares the same two outputs again when two models wrote
  the same text);
* source ``pandalm``; no rationale (the drill shows its fallback).

Judgments (:func:`read_pandalm_judgments`): each annotator's vote 1 or 2 on a
pair, the rater named ``annotator1``, ``annotator2``, ...; a 0 (tie) vote cannot
be a judgment and is counted as skipped.

A row with an empty or missing response, or a vote other than 0, 1 or 2, is a
problem of its line: the file is refused whole unless rows are skipped
(``--skip-invalid``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

from pairs.errors import shown
from pairs.importers.reading import Record, Source, is_object, json_records, text_fields
from pairs.importers.votes import Vote, VotedPair, bank_records, judgment_records

_ANNOTATOR = re.compile(r"annotator([0-9]{1,4})")
_VOTES = {0: "tie", 1: "A", 2: "B"}


def read_pandalm(source: Source) -> Iterator[Record]:
    """Records of a PandaLM file, each pair with the gold of its annotators' majority.

    Parameters
    ----------
    source : Source
        The decoded file; what cannot be mapped is reported on it.

    Yields
    ------
    Record
        ``(line, record)`` with the record in the native bank schema.
    """
    return bank_records(source, _voted_pairs(source))


def read_pandalm_judgments(source: Source) -> Iterator[Record]:
    """Each annotator's vote for response1 or response2 as a judgment, rater ``annotatorN``.

    Parameters
    ----------
    source : Source
        The decoded file; problems and skipped tie votes are reported on it.

    Yields
    ------
    Record
        ``(line, row)`` with the row in the judgments CSV's columns.
    """
    return judgment_records(source, _voted_pairs(source), rater_field="annotator1")


def _voted_pairs(source: Source) -> Iterator[VotedPair]:
    for line, record in json_records(source):
        if not is_object(source, line, record):
            continue
        texts = text_fields(source, line, record, ("instruction", "response1", "response2"))
        given = _input(source, line, record.get("input"))
        votes = _votes(source, line, record)
        if texts is None or given is None or votes is None:
            continue
        instruction, response1, response2 = texts
        prompt = f"{instruction.rstrip()}\n\n{given.strip()}" if given.strip() else instruction
        pair = {"prompt": prompt, "response_a": response1, "response_b": response2, "source": "pandalm"}
        yield VotedPair(line, pair, votes)


def _input(source: Source, line: int | None, value: Any) -> str | None:
    """The row's ``input`` as text (``""`` for none), or None after reporting what is wrong."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, str):
        return value
    source.problem(line, "input", f"must be text, got {type(value).__name__}")
    return None


def _votes(source: Source, line: int | None, record: dict) -> list[Vote] | None:
    """The votes of the row's ``annotatorN`` fields in number order, or None after reporting problems."""
    keys = sorted((key for key in record if _ANNOTATOR.fullmatch(key)), key=lambda k: int(k[9:]))
    if not keys:
        source.problem(line, "annotator1", "missing: no annotatorN vote in the row")
        return None
    votes = []
    for key in keys:
        number = _number(record[key])
        choice = None if number is None else _VOTES.get(number)
        if choice is None:
            expected = "0 (tie), 1 (response1 better) or 2 (response2 better)"
            message = f"must be {expected}, got {shown(record[key])}"
            source.problem(line, key, message)
        else:
            votes.append(Vote(line, key, choice))
    return votes if len(votes) == len(keys) else None


def _number(value: Any) -> int | None:
    """A vote as a whole number: ``2``, ``2.0`` or ``"2"``; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"[0-9]", value.strip()):
        return int(value)
    return None
