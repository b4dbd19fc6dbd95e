"""LLMBar files, ``llmbar``: a JSON list of ``{input, output_1, output_2, label}``.

Zeng et al. (2023), "Evaluating Large Language Models at Evaluating Instruction
Following". ``label`` 1 or 2 names the output that follows the instruction (the
gold). Pairs from a file whose name says ``adversarial`` are tagged so.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from pairs.errors import shown
from pairs.importers.reading import Record, Source, is_object, json_records, text_fields


def read_llmbar(source: Source) -> Iterator[Record]:
    """Records of an LLMBar file: ``label`` 1 or 2 names the gold; ids are content hashes.

    Parameters
    ----------
    source : Source
        The decoded file; what cannot be mapped is reported on it.

    Yields
    ------
    Record
        ``(line, record)`` with the record in the native bank schema.
    """
    tags = ("adversarial",) if "adversarial" in Path(source.name).name.lower() else ()
    for line, record in json_records(source):
        if not is_object(source, line, record):
            continue
        texts = text_fields(source, line, record, ("input", "output_1", "output_2"))
        label = record.get("label")
        gold = None
        if isinstance(label, (int, float, str)) and not isinstance(label, bool):  # not a list: unhashable
            gold = {1: "A", 2: "B", "1": "A", "2": "B"}.get(label)
        if label is None:
            source.problem(line, "label", "missing")
        elif gold is None:
            source.problem(line, "label", f"must be 1 or 2, got {shown(label)}")
        if texts is None or gold is None:
            continue
        prompt, output_1, output_2 = texts
        yield (
            line,
            {
                "prompt": prompt,
                "response_a": output_1,
                "response_b": output_2,
                "gold": gold,
                "tags": tags,
                "source": "llmbar",
            },
        )
