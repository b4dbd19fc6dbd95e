"""Preference pairs, ``chosen-rejected``: ``{prompt, chosen, rejected, [id], [subset]}``.

As RewardBench writes them, or HH-RLHF rows with whole dialogues in ``chosen``
and ``rejected``, or chat message lists; JSONL or a JSON list.

A preference pair has no order, but a bank where gold is always A teaches
raters to pick A. The chosen response becomes A when the first byte of
``sha256(SIDE_SEED, prompt, chosen, rejected)`` (joined by ``\\x1f``, UTF-8) is
even (:func:`~pairs.importers.reading.first_is_a`), so about half the pairs
have gold B and the same file always imports the same way.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from pairs.importers.reading import (
    Record,
    Source,
    chat_messages,
    first_is_a,
    is_object,
    json_records,
    text_fields,
)

_ASSISTANT = "Assistant:"


def read_chosen_rejected(source: Source) -> Iterator[Record]:
    """Records of preference pairs; chosen goes to A or B by :func:`~pairs.importers.reading.first_is_a`.

    ``chosen`` and ``rejected`` are texts (with ``prompt``), whole HH-RLHF
    dialogues (without ``prompt``: the prompt is their shared beginning up to and
    including the last ``Assistant:``), or lists of ``{role, content}`` messages
    ending with the assistant's answer. ``subset`` becomes the pair's source.

    Parameters
    ----------
    source : Source
        The decoded file; what cannot be mapped is reported on it.

    Yields
    ------
    Record
        ``(line, record)`` with the record in the native bank schema.
    """
    for line, record in json_records(source):
        if not is_object(source, line, record):
            continue
        split = _preference(source, line, record)
        subset = record.get("subset")
        if subset is not None and not isinstance(subset, str):
            source.problem(line, "subset", f"must be text, got {type(subset).__name__}")
            continue
        if split is None:
            continue
        prompt, chosen, rejected = split
        if chosen == rejected:
            source.problem(line, "rejected", "the same response as chosen")
            continue
        chosen_is_a = first_is_a(prompt, chosen, rejected)
        yield (
            line,
            {
                "id": record.get("id"),
                "prompt": prompt,
                "response_a": chosen if chosen_is_a else rejected,
                "response_b": rejected if chosen_is_a else chosen,
                "gold": "A" if chosen_is_a else "B",
                "source": (subset or "").strip() or "chosen-rejected",
            },
        )


def _preference(source: Source, line: int | None, record: dict) -> tuple[str, str, str] | None:
    """``(prompt, chosen response, rejected response)`` of a record, or None after reporting why."""
    if isinstance(record.get("chosen"), list) or isinstance(record.get("rejected"), list):
        return _preference_messages(source, line, record)
    if record.get("prompt") is not None:
        texts = text_fields(source, line, record, ("prompt", "chosen", "rejected"))
        return None if texts is None else (texts[0], texts[1].strip(), texts[2].strip())
    texts = text_fields(source, line, record, ("chosen", "rejected"))
    if texts is None:
        return None
    chosen, rejected = texts
    shared = len(os.path.commonprefix([chosen, rejected]))
    cut = chosen.rfind(_ASSISTANT, 0, shared)
    if cut < 0:
        message = "missing, and chosen and rejected share no dialogue up to 'Assistant:'"
        source.problem(line, "prompt", message)
        return None
    cut += len(_ASSISTANT)
    return chosen[:cut].strip(), chosen[cut:].strip(), rejected[cut:].strip()


def _preference_messages(source: Source, line: int | None, record: dict) -> tuple[str, str, str] | None:
    conversations = {}
    for key in ("chosen", "rejected"):
        messages = chat_messages(record.get(key))
        if isinstance(messages, str):
            source.problem(line, key, messages)
        elif not messages or messages[-1][0] != "assistant" or not messages[-1][1].strip():
            source.problem(line, key, "must end with a non-empty assistant message")
        else:
            conversations[key] = messages
    if len(conversations) < 2:
        return None
    context = conversations["chosen"][:-1]
    if context != conversations["rejected"][:-1]:
        source.problem(line, "rejected", "its conversation before the answer differs from chosen's")
        return None
    if len(context) == 1:
        prompt = context[0][1]
    elif context:
        prompt = "\n\n".join(f"[{role}]\n{content}" for role, content in context)
    else:
        given = record.get("prompt")
        prompt = given if isinstance(given, str) else ""
    if not prompt.strip():
        source.problem(line, "prompt", "missing: no messages before the answers and no prompt")
        return None
    return prompt, conversations["chosen"][-1][1].strip(), conversations["rejected"][-1][1].strip()
