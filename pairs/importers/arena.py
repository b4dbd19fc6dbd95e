"""Chatbot Arena human preferences, ``arena``: one person's vote on two anonymous models per row.

Zheng et al. (2023), "Judging LLM-as-a-Judge with MT-Bench and Chatbot Arena".
The released battles come in two layouts, each as a JSON list, JSON Lines or CSV:

* conversations (``chatbot_arena_conversations``): ``conversation_a`` and
  ``conversation_b`` as lists of ``{role, content}`` messages, ``winner``
  (``model_a``, ``model_b``, ``tie`` or ``tie (bothbad)``), ``judge``, and
  ``question_id``, ``model_a``, ``model_b``, ``turn``, ``tstamp``, ``language``, ...
* columns (``arena-human-preference-55k``): ``prompt``, ``response_a`` and
  ``response_b``, each a text or a JSON list of the turns' texts
  (``'["Hi", "And you?"]'``), the winner as ``winner`` or as the 0/1 columns
  ``winner_model_a``, ``winner_model_b``, ``winner_tie``, and ``id``.

The pair:

* one turn: the user's message is the prompt, the two answers the responses;
* several turns: the vote judges the whole conversation, so the last answers are
  the responses and everything before them becomes the prompt: each earlier
  question and both models' answers to it, as ``[Turn N, user]``,
  ``[Turn N, assistant A]``, ``[Turn N, assistant B]``
  (:func:`~pairs.importers.reading.turn_texts`), then the last question. A rater
  sees what the voter saw, and judges the last answers in that light. (``turn``
  is not read: the last answered turn is compared.);
* response_a is model_a's, as the arena showed it (its sides are random already);
  the model names are not kept, so a rater does not see them;
* id: ``question_id`` (or ``id``) when given, and rows with the same one pool
  their votes; otherwise a hash of the texts;
* gold: the majority of the pair's votes, ``tie (bothbad)`` being a tie;
  ``gold_confidence`` the share agreeing, unknown for a single vote
  (:func:`~pairs.importers.votes.gold_of`);
* source ``chatbot-arena``; no rationale.

Judgments (:func:`read_arena_judgments`): each vote for model_a or model_b, the
``judge`` as the rater, ``left`` A, and ``tstamp`` (seconds since 1970, UTC), when
it is a number, as the time answered; a tie vote is counted as skipped.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from pairs.errors import shown
from pairs.importers.reading import Record, Source, exchanges, is_object, table_records, turn_texts
from pairs.importers.votes import Vote, VotedPair, bank_records, judgment_records

_WINNERS = {"model_a": "A", "model_b": "B", "tie": "tie", "tie (bothbad)": "tie"}
_ONE_HOT = {"winner_model_a": "A", "winner_model_b": "B", "winner_tie": "tie"}


def read_arena(source: Source) -> Iterator[Record]:
    """Records of Chatbot Arena battles, each pair with the gold of its votes.

    Parameters
    ----------
    source : Source
        The decoded file; what cannot be mapped is reported on it.

    Yields
    ------
    Record
        ``(line, record)`` with the record in the native bank schema.
    """
    return bank_records(source, _voted_pairs(source), id_field="question_id")


def read_arena_judgments(source: Source) -> Iterator[Record]:
    """Each vote for model_a or model_b as a judgment, the ``judge`` as the rater.

    Parameters
    ----------
    source : Source
        The decoded file; problems and skipped tie votes are reported on it.

    Yields
    ------
    Record
        ``(line, row)`` with the row in the judgments CSV's columns.
    """
    return judgment_records(source, _voted_pairs(source), rater_field="judge", id_field="question_id")


def _voted_pairs(source: Source) -> Iterator[VotedPair]:
    for line, record in table_records(source):
        if not is_object(source, line, record):
            continue
        before = len(source.problems)
        choice = _winner(source, line, record)
        texts = _texts(source, line, record)
        pid = _question_id(source, line, record)
        judge = record.get("judge")
        if judge is not None and not isinstance(judge, str):
            source.problem(line, "judge", f"must be text, got {type(judge).__name__}")
        if len(source.problems) > before or choice is None or texts is None:
            continue
        prompt, response_a, response_b = texts
        pair: dict[str, Any] = {
            "prompt": prompt,
            "response_a": response_a,
            "response_b": response_b,
            "source": "chatbot-arena",
        }
        if pid is not None:
            pair["id"] = pid
        rater = judge.strip() if isinstance(judge, str) and judge.strip() else None
        vote = Vote(line, rater, choice, left="A", answered_at=_time(record.get("tstamp")))
        yield VotedPair(line, pair, [vote])


def _winner(source: Source, line: int | None, record: dict) -> str | None:
    """``"A"``, ``"B"`` or ``"tie"`` from ``winner`` or the 0/1 ``winner_*`` columns."""
    winner = record.get("winner")
    if winner is not None:
        choice = _WINNERS.get(winner.strip().lower()) if isinstance(winner, str) else None
        if choice is None:
            expected = "model_a, model_b, tie or tie (bothbad)"
            source.problem(line, "winner", f"must be {expected}, got {shown(winner)}")
        return choice
    flags = {key: record.get(key) for key in _ONE_HOT if key in record}
    if not flags:
        source.problem(line, "winner", "missing (nor winner_model_a, winner_model_b, winner_tie)")
        return None
    set_ = [key for key, value in flags.items() if _flag(value)]
    if len(set_) != 1 or any(_flag(value) is None for value in flags.values()):
        got = ", ".join(f"{key}={shown(value)}" for key, value in flags.items())
        source.problem(line, "winner_model_a", f"exactly one of the winner_* columns must be 1, got {got}")
        return None
    return _ONE_HOT[set_[0]]


def _flag(value: Any) -> bool | None:
    """A 0/1 column's value: ``1``, ``1.0``, ``"1"`` or ``True`` is set; None when not 0 or 1."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return value == 1
    if isinstance(value, str) and value.strip() in ("0", "1", "0.0", "1.0"):
        return float(value) == 1
    return None


def _question_id(source: Source, line: int | None, record: dict) -> str | None:
    key = "question_id" if "question_id" in record else "id"
    value = record.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        source.problem(line, key, f"must be text or a whole number, got {type(value).__name__}")
        return None
    return str(value).strip()


def _texts(source: Source, line: int | None, record: dict) -> tuple[str, str, str] | None:
    """``(prompt, response_a, response_b)`` at the last answered turn, or None after reporting why."""
    if "conversation_a" in record or "conversation_b" in record:
        names = ("conversation_a", "conversation_b")
        sides = [exchanges(record.get(name)) for name in names]
    else:
        names = ("response_a", "response_b")
        asked = _turn_list(record.get("prompt"))
        if isinstance(asked, str) or None in asked:
            why = asked if isinstance(asked, str) else "a turn has no question (null)"
            source.problem(line, "prompt", why)
            return None
        questions = [question or "" for question in asked]
        sides = [_answered(questions, _turn_list(record.get(name))) for name in names]
    for name, found in zip(names, sides, strict=True):
        if isinstance(found, str):
            source.problem(line, name, found)
    turns_a, turns_b = sides
    if isinstance(turns_a, str) or isinstance(turns_b, str):
        return None
    if not turns_a:
        source.problem(line, names[0], "no answered turn")
        return None
    if len(turns_b) != len(turns_a):
        source.problem(line, names[1], f"has {len(turns_b)} answered turn(s), {names[0]} {len(turns_a)}")
        return None
    if [asked for asked, _ in turns_a] != [asked for asked, _ in turns_b]:
        source.problem(line, names[1], f"asks different questions than {names[0]}")
        return None
    prompt, answer_a, answer_b = turn_texts(turns_a, turns_b, len(turns_a))
    for name, answer in zip(names, (answer_a, answer_b), strict=True):
        if not answer:
            source.problem(line, name, "the last answer is empty")
    if not prompt.strip():
        source.problem(line, "prompt" if names[0] == "response_a" else names[0], "the question is empty")
    return (prompt, answer_a, answer_b) if answer_a and answer_b and prompt.strip() else None


def _answered(asked: list[str], answers: list[str | None] | str) -> list[tuple[str, str]] | str:
    """The columns layout's turns ``[(question, answer), ...]``, or why the answers do not fit."""
    if isinstance(answers, str):
        return answers
    if len(answers) != len(asked):
        return f"has {len(answers)} answer(s) to {len(asked)} question(s) in prompt"
    missing = [number for number, answer in enumerate(answers, start=1) if answer is None]
    if missing:
        return f"turn {missing[0]} has no answer (null)"
    return [(question, answer or "") for question, answer in zip(asked, answers, strict=True)]


_JSON_LIST = re.compile(r"\s*\[")


def _turn_list(value: Any) -> list[str | None] | str:
    """A column's turns: a text is one turn; a list, or a text holding a JSON list, one per item."""
    if isinstance(value, str) and _JSON_LIST.match(value):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            return [value]  # a text that merely starts with "["
    if isinstance(value, str):
        return [value]
    if value is None:
        return "missing"
    if isinstance(value, list) and all(item is None or isinstance(item, str) for item in value):
        return list(value)
    return "must be a text or a list of texts (one per turn)"


def _time(value: Any) -> str:
    """``tstamp`` (seconds since 1970, a number or its text) as ISO 8601 UTC; ``""`` when not usable."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return ""
    try:
        seconds = float(value)
        return datetime.fromtimestamp(seconds, UTC).isoformat() if math.isfinite(seconds) else ""
    except (OverflowError, OSError, ValueError):
        return ""
