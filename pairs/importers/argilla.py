"""Argilla's preference records, ``argilla``: ``{fields, responses}`` records, a JSON list or JSON Lines.

Argilla 1.x exports a record as ``{"fields": {...}, "responses": [{"user_id",
"status", "values": {QUESTION: {"value": ...}}}], ...}``, Argilla 2.x as
``{"fields": {...}, "responses": {QUESTION: [{"user_id", "value", "status"}]},
...}``; both are read.

* prompt: the first of ``prompt``, ``instruction``, ``question``, ``query``,
  ``input``, ``context`` among ``fields``;
* the responses: the record's two other fields, in the record's order (the
  order Argilla shows them in); response_a is the first. A record with more or
  fewer than two other fields is a problem of its line;
* votes: each response whose ``status`` is ``submitted`` (or not given) votes
  with its answer to the first question that names the better response. A
  ranking (``[{"value": FIELD, "rank": 1}, ...]``) votes for the response
  ranked higher (a lower rank), a tie when both have the same rank; a label
  votes for the response field it names, or a tie for ``tie``, ``equal`` or
  ``draw``. Answers to other questions (a rating, a comment) are not read;
  drafts and discarded responses do not vote, and a record nobody voted on is
  skipped and counted;
* gold: the majority of the votes; ``gold_confidence`` the share agreeing,
  unknown for a single vote (:func:`~pairs.importers.votes.gold_of`); ids are
  hashes of the texts; source ``argilla``; no rationale.

Preference datasets as the Hugging Face hub holds them (``prompt``, ``chosen``,
``rejected``, as Argilla and TRL write them) are read by ``chosen-rejected``.

Judgments (:func:`read_argilla_judgments`): each vote for one response, the
``user_id`` as the rater and ``updated_at``, when given, as the time answered;
a tie vote is counted as skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pairs.importers.label_studio import PROMPT_KEYS
from pairs.importers.reading import Record, Source, is_object, json_records
from pairs.importers.votes import Vote, VotedPair, bank_records, judgment_records

_TIES = ("tie", "equal", "draw")


def read_argilla(source: Source) -> Iterator[Record]:
    """Records of an Argilla export, each pair with the gold of its submitted responses.

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


def read_argilla_judgments(source: Source) -> Iterator[Record]:
    """Each submitted vote for one response as a judgment, the ``user_id`` as the rater.

    Parameters
    ----------
    source : Source
        The decoded file; problems and skipped votes are reported on it.

    Yields
    ------
    Record
        ``(line, row)`` with the row in the judgments CSV's columns.
    """
    return judgment_records(source, _voted_pairs(source), rater_field="user_id")


def _voted_pairs(source: Source) -> Iterator[VotedPair]:
    for line, record in json_records(source):
        if not is_object(source, line, record):
            continue
        fields = record.get("fields")
        if not isinstance(fields, dict):
            message = "missing" if fields is None else "must be an object of the record's fields"
            source.problem(line, "fields", message)
            continue
        keys = _keys(source, line, fields)
        if keys is None:
            continue
        votes = _votes(source, line, record.get("responses"), keys[1:])
        if votes is None:
            continue
        if not votes:
            source.skipped["records without a submitted preference"] += 1
            continue
        prompt, first, second = (fields[key] for key in keys)
        pair = {"prompt": prompt, "response_a": first, "response_b": second, "source": "argilla"}
        yield VotedPair(line, pair, votes)


def _keys(source: Source, line: int | None, fields: dict) -> tuple[str, str, str] | None:
    """The names of the prompt field and the two response fields, or None after reporting why."""
    prompt = next((key for key in PROMPT_KEYS if key in fields), None)
    if prompt is None:
        source.problem(line, "fields", f"no prompt: none of {', '.join(PROMPT_KEYS)}")
        return None
    others = [key for key in fields if key != prompt]
    if len(others) != 2:
        source.problem(line, "fields", f"need two responses besides {prompt!r}, got {others[:6]}")
        return None
    ok = True
    for key in (prompt, *others):
        value = fields[key]
        if not isinstance(value, str):
            source.problem(line, f"fields.{key}", f"must be text, got {type(value).__name__}")
            ok = False
        elif not value.strip():
            source.problem(line, f"fields.{key}", "empty")
            ok = False
    return (prompt, others[0], others[1]) if ok else None


def _votes(source: Source, line: int | None, responses: Any, names: tuple[str, ...]) -> list[Vote] | None:
    """The votes of a record's submitted responses (possibly none), or None after reporting a problem."""
    answers = _answers(responses)
    if answers is None:
        source.problem(line, "responses", "must be a list of responses or an object of questions")
        return None
    votes = []
    for user, status, updated, values in answers:
        if status not in (None, "submitted"):
            continue
        choice = next((c for c in (_choice(value, names) for value in values) if c is not None), None)
        if choice is not None:
            votes.append(Vote(line, user, choice, answered_at=updated))
    return votes


def _answers(responses: Any) -> list[tuple[str | None, Any, str, list[Any]]] | None:
    """``(user, status, updated_at, answers in question order)`` per response of either layout."""
    if responses is None:
        return []
    out = []
    if isinstance(responses, list):  # Argilla 1.x: one entry per user, values by question
        for response in responses:
            if not isinstance(response, dict):
                return None
            values = response.get("values")
            answers = (
                [v.get("value") for v in values.values() if isinstance(v, dict)]
                if isinstance(values, dict)
                else []
            )
            out.append((_user(response), response.get("status"), _updated(response), answers))
        return out
    if isinstance(responses, dict):  # Argilla 2.x: one list per question, each entry a user's answer
        by_user: dict[tuple[str | None, Any, str], list[Any]] = {}
        for entries in responses.values():
            if not isinstance(entries, list):
                return None
            for entry in entries:
                if not isinstance(entry, dict):
                    return None
                key = (_user(entry), entry.get("status"), _updated(entry))
                by_user.setdefault(key, []).append(entry.get("value"))
        return [(user, status, updated, answers) for (user, status, updated), answers in by_user.items()]
    return None


def _user(entry: dict) -> str | None:
    user = entry.get("user_id")
    return str(user).strip() if isinstance(user, (str, int)) and str(user).strip() else None


def _updated(entry: dict) -> str:
    value = entry.get("updated_at")
    return value.strip() if isinstance(value, str) else ""


def _choice(value: Any, names: tuple[str, ...]) -> str | None:
    """``"A"``, ``"B"`` or ``"tie"`` from a ranking or a label naming one of ``names``; else None."""
    if isinstance(value, str):
        label = value.strip()
        if label in names:
            return "AB"[names.index(label)]
        return "tie" if label.lower() in _TIES else None
    if isinstance(value, list):
        ranks = {}
        for item in value:
            if isinstance(item, dict) and item.get("value") in names:
                rank = item.get("rank")
                if isinstance(rank, (int, float)) and not isinstance(rank, bool):
                    ranks[item["value"]] = rank
        if len(ranks) == 2:
            first, second = (ranks[name] for name in names)
            return "A" if first < second else "B" if second < first else "tie"
    return None
