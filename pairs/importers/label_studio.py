"""Label Studio's JSON export of pairwise comparisons, ``label-studio``: a list of tasks.

A task is ``{"id", "data": {...}, "annotations": [...], ...}``. The pair's texts
come from ``data``:

* prompt: the first of ``prompt``, ``instruction``, ``question``, ``query``,
  ``input``, ``context`` that ``data`` holds;
* the responses: the first of the name pairs ``answer1``/``answer2`` (Label
  Studio's preference template for RLHF), ``text1``/``text2`` (its Pairwise
  template), ``response1``/``response2``, ``response_a``/``response_b``,
  ``output_1``/``output_2``, ``left``/``right`` of which ``data`` holds both;
  response_a is the first, the one the Pairwise tag shows on the left.

Each annotation, unless ``was_cancelled``, votes with its pairwise result,
``{"type": "pairwise", "value": {"selected": "left"}}`` for response_a or
``"right"`` for response_b. An annotation without one does not vote, and a task
no annotation votes on is skipped and counted (it is not labelled yet).

* gold: the majority of the votes of the annotations marked ``ground_truth``
  when there are any (a reviewer's answer), else of all; ``gold_confidence``
  the share of all votes agreeing with it, unknown for a single vote
  (:func:`~pairs.importers.votes.gold_of`);
* ids are hashes of the texts (task ids restart in every project); source
  ``label-studio``; no rationale. ``predictions`` (a model's pre-annotations)
  are not read.

Judgments (:func:`read_label_studio_judgments`): each vote, the rater being
``completed_by`` (its ``email`` when the export gives the user as an object,
else ``label-studio-user-N``), ``left`` A, ``created_at`` as the time
answered and ``lead_time`` as the seconds taken.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from pairs.errors import shown
from pairs.importers.reading import Record, Source, is_object, json_records
from pairs.importers.votes import Vote, VotedPair, bank_records, judgment_records

PROMPT_KEYS = ("prompt", "instruction", "question", "query", "input", "context")
"""Where a task's prompt is looked for, in this order."""
RESPONSE_KEYS = (
    ("answer1", "answer2"),
    ("text1", "text2"),
    ("response1", "response2"),
    ("response_a", "response_b"),
    ("output_1", "output_2"),
    ("left", "right"),
)
"""Where a task's two responses are looked for, in this order: (left, right)."""
_SELECTED = {"left": "A", "right": "B"}


def read_label_studio(source: Source) -> Iterator[Record]:
    """Records of a Label Studio export, each pair with the gold of its annotations.

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


def read_label_studio_judgments(source: Source) -> Iterator[Record]:
    """Each annotation's pairwise choice as a judgment, rated by its ``completed_by``.

    Parameters
    ----------
    source : Source
        The decoded file; problems and skipped tasks are reported on it.

    Yields
    ------
    Record
        ``(line, row)`` with the row in the judgments CSV's columns.
    """
    return judgment_records(source, _voted_pairs(source), rater_field="completed_by")


def _voted_pairs(source: Source) -> Iterator[VotedPair]:
    for line, task in json_records(source):
        if not is_object(source, line, task):
            continue
        data = task.get("data")
        if not isinstance(data, dict):
            why = "missing" if data is None else "must be an object of the task's fields"
            source.problem(line, "data", why)
            continue
        texts = _texts(source, line, data)
        votes = _votes(source, line, task.get("annotations"))
        if texts is None or votes is None:
            continue
        if not votes:
            source.skipped["tasks without a pairwise choice"] += 1
            continue
        prompt, left, right = texts
        record = {"prompt": prompt, "response_a": left, "response_b": right, "source": "label-studio"}
        yield VotedPair(line, record, votes)


def _texts(source: Source, line: int | None, data: dict) -> tuple[str, str, str] | None:
    """``(prompt, left response, right response)`` from a task's data, or None after reporting why."""
    prompt_key = next((key for key in PROMPT_KEYS if key in data), None)
    pair_keys = next((keys for keys in RESPONSE_KEYS if keys[0] in data and keys[1] in data), None)
    if prompt_key is None:
        source.problem(line, "data", f"no prompt: none of {', '.join(PROMPT_KEYS)}")
    if pair_keys is None:
        names = ", ".join("/".join(keys) for keys in RESPONSE_KEYS)
        source.problem(line, "data", f"no pair of responses: none of {names}")
    if prompt_key is None or pair_keys is None:
        return None
    texts = []
    for key in (prompt_key, *pair_keys):
        value = data[key]
        if not isinstance(value, str):
            source.problem(line, f"data.{key}", f"must be text, got {type(value).__name__}")
        elif not value.strip():
            source.problem(line, f"data.{key}", "empty")
        else:
            texts.append(value)
    return (texts[0], texts[1], texts[2]) if len(texts) == 3 else None


def _votes(source: Source, line: int | None, annotations: Any) -> list[Vote] | None:
    """The votes of a task's annotations (possibly none), or None after reporting a problem."""
    if annotations is None:
        return []
    if not isinstance(annotations, list):
        source.problem(line, "annotations", f"must be a list, got {type(annotations).__name__}")
        return None
    votes = []
    for number, annotation in enumerate(annotations, start=1):
        if not isinstance(annotation, dict):
            message = f"annotation {number} must be an object, got {type(annotation).__name__}"
            source.problem(line, "annotations", message)
            return None
        if annotation.get("was_cancelled") is True:
            continue
        selected = _selected(annotation.get("result"))
        if selected is None:
            continue
        choice = _SELECTED.get(selected.strip().lower()) if isinstance(selected, str) else None
        if choice is None:
            message = f"annotation {number} selected {shown(selected)}; a pairwise choice is left or right"
            source.problem(line, "annotations", message)
            return None
        votes.append(
            Vote(
                line,
                _rater(annotation.get("completed_by")),
                choice,
                expert=annotation.get("ground_truth") is True,
                left="A",
                answered_at=_text(annotation.get("created_at")),
                seconds=_seconds(annotation.get("lead_time")),
            )
        )
    return votes


def _selected(result: Any) -> Any:
    """The ``selected`` value of the first pairwise result, or None when there is none."""
    if not isinstance(result, list):
        return None
    for item in result:
        if isinstance(item, dict) and item.get("type") == "pairwise":
            value = item.get("value")
            return value.get("selected") if isinstance(value, dict) else value
    return None


def _rater(user: Any) -> str | None:
    """The rater's name: the user's email, else ``label-studio-user-N``; None when not given."""
    if isinstance(user, dict):
        email = user.get("email")
        if isinstance(email, str) and email.strip():
            return email.strip()
        user = user.get("id")
    if isinstance(user, bool) or not isinstance(user, (int, str)) or not str(user).strip():
        return None
    return f"label-studio-user-{str(user).strip()}"


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _seconds(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) and value >= 0 else None
