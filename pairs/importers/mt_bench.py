"""MT-Bench human judgments, ``mt-bench``: one expert vote per row, grouped into pairs.

Zheng et al. (2023), "Judging LLM-as-a-Judge with MT-Bench and Chatbot Arena".
Each row is ``{question_id, model_a, model_b, winner, turn, conversation_a,
conversation_b}``; the votes on one question, model pair and turn become one
pair, whose line is that of its first vote.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pairs.errors import shown
from pairs.importers.reading import (
    Record,
    Source,
    exchanges,
    first_is_a,
    is_object,
    json_records,
    text_fields,
    turn_texts,
)

MT_BENCH_CATEGORIES = (
    "writing",
    "roleplay",
    "reasoning",
    "math",
    "coding",
    "extraction",
    "stem",
    "humanities",
)
"""MT-Bench questions 81-160 come in blocks of ten per category, in this order."""

_WINNERS = {"model_a": "a", "model_b": "b", "tie": "tie", "tie (bothbad)": "tie"}


@dataclass
class _Votes:
    """The expert votes on one MT-Bench question, model pair and turn."""

    line: int | None
    question_id: Any
    turn: int
    model_a: str
    model_b: str
    texts: tuple[str, str, str]
    votes: dict[str, int] = field(default_factory=lambda: {"A": 0, "B": 0, "tie": 0, "bothbad": 0})


def read_mt_bench(source: Source) -> Iterator[Record]:
    """MT-Bench human judgments: each group of votes becomes one pair.

    Votes are grouped by (question_id, unordered model pair, turn). Which model is
    A is decided by :func:`first_is_a` on the question, turn and sorted model
    names, and each vote is flipped to that orientation. Gold is the side with
    more votes than each other side; otherwise (equal A and B votes, or tie
    votes as many as the leading side) it is ``"tie"``. ``gold_confidence`` is
    the gold side's share of all votes, clipped to [0.5, 1]. The rationale gives
    the vote counts; questions 81-160 get their MT-Bench category as domain.

    Parameters
    ----------
    source : Source
        The decoded file; what cannot be mapped is reported on it.

    Yields
    ------
    Record
        ``(line, record)`` with the record in the native bank schema.
    """
    groups: dict[tuple, _Votes] = {}
    for line, record in json_records(source):
        if not is_object(source, line, record):
            continue
        vote = _mt_bench_vote(source, line, record)
        if vote is None:
            continue
        question_id, turn, model_a, model_b, winner, conversation_a, conversation_b = vote
        first, second = sorted((model_a, model_b))
        if not first_is_a(str(question_id), str(turn), first, second):
            first, second = second, first
        if model_a != first:
            conversation_a, conversation_b = conversation_b, conversation_a
            winner = {"a": "b", "b": "a"}.get(winner, winner)
        texts = turn_texts(conversation_a, conversation_b, turn)
        key = (str(question_id), turn, first, second)
        group = groups.setdefault(key, _Votes(line, question_id, turn, first, second, texts))
        if group.texts != texts:
            source.problem(
                line,
                "conversation_a",
                f"differs from the vote on {source.where(group.line)} for the same question, models and turn",
            )
            continue
        group.votes[{"a": "A", "b": "B"}.get(winner, "tie")] += 1
        group.votes["bothbad"] += record["winner"].strip().lower() == "tie (bothbad)"
    for group in groups.values():
        yield group.line, _mt_bench_pair(group)


def _mt_bench_vote(source: Source, line: int | None, record: dict) -> tuple | None:
    """The checked fields of one vote, or None after reporting every problem in it."""
    problems_before = len(source.problems)
    question_id = record.get("question_id")
    if question_id is None:
        source.problem(line, "question_id", "missing")
    elif isinstance(question_id, bool) or not isinstance(question_id, (int, str)):
        source.problem(line, "question_id", f"must be a number or text, got {type(question_id).__name__}")
    models = text_fields(source, line, record, ("model_a", "model_b"))
    if models is not None and models[0].strip() == models[1].strip():
        source.problem(line, "model_b", "the same model as model_a")
    winner = record.get("winner")
    if winner is None:
        source.problem(line, "winner", "missing")
    elif not isinstance(winner, str) or winner.strip().lower() not in _WINNERS:
        source.problem(line, "winner", f"must be model_a, model_b, tie or tie (bothbad), got {shown(winner)}")
    turn = record.get("turn")
    if isinstance(turn, str) and re.fullmatch(r"[0-9]{1,9}", turn.strip()):  # not "²": isdigit() but no int
        turn = int(turn)
    if turn is None:
        source.problem(line, "turn", "missing")
    elif isinstance(turn, bool) or not isinstance(turn, int) or turn < 1:
        source.problem(line, "turn", f"must be a whole number from 1, got {shown(turn)}")
        turn = None
    found_turns = {}
    for key in ("conversation_a", "conversation_b"):
        found = exchanges(record.get(key))
        if isinstance(found, str):
            source.problem(line, key, found)
        elif isinstance(turn, int) and len(found) < turn:
            source.problem(line, key, f"has {len(found)} answered turn(s), fewer than turn {turn}")
        else:
            found_turns[key] = found
    if len(found_turns) == 2 and isinstance(turn, int):
        asked_a = [user for user, _ in found_turns["conversation_a"][:turn]]
        asked_b = [user for user, _ in found_turns["conversation_b"][:turn]]
        if asked_a != asked_b:
            source.problem(line, "conversation_b", "asks different questions than conversation_a")
    if len(source.problems) > problems_before or models is None or not isinstance(winner, str):
        return None
    return (
        question_id,
        turn,
        models[0].strip(),
        models[1].strip(),
        _WINNERS[winner.strip().lower()],
        found_turns["conversation_a"],
        found_turns["conversation_b"],
    )


def _mt_bench_pair(group: _Votes) -> dict[str, Any]:
    votes = group.votes
    a, b, tie = votes["A"], votes["B"], votes["tie"]
    if a > b and a > tie:
        gold = "A"
    elif b > a and b > tie:
        gold = "B"
    else:
        gold = "tie"
    total = a + b + tie
    confidence = min(1.0, max(0.5, votes[gold] / total))
    bothbad = f" ({votes['bothbad']} of them: both bad)" if votes["bothbad"] else ""
    rationale = (
        f"MT-Bench question {group.question_id}, turn {group.turn}: "
        f"{total} expert judge{'s' if total != 1 else ''} voted {a} for A, {b} for B and {tie} tie{bothbad}."
    )
    prompt, response_a, response_b = group.texts
    qid = group.question_id
    in_layout = isinstance(qid, int) and 81 <= qid < 81 + 10 * len(MT_BENCH_CATEGORIES)
    return {
        "prompt": prompt,
        "response_a": response_a,
        "response_b": response_b,
        "gold": gold,
        "gold_confidence": confidence,
        "rationale": rationale,
        "domain": MT_BENCH_CATEGORIES[(qid - 81) // 10] if in_layout else "",
        "source": "mt-bench",
    }
