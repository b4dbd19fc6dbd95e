"""Fuzzing the importers: a file imports completely or is refused, never half, never with a traceback.

Hypothesis builds real files of every bank format (native JSONL and JSON
lists, CSV, LLMBar, chosen/rejected in its three shapes, MT-Bench votes) and
judgments CSV files, then breaks them the ways real files break: bytes that
are not UTF-8, UTF-16, lines of more than :data:`~pairs.bank.MAX_TEXT_CHARS`
characters, numbers, lists, null or booleans where text belongs, an id reused
for other content, gold outside A/B/tie, empty responses, NUL characters and
lone surrogates (``"\\ud800"``), values one character wider than the store's
columns, missing columns, extra cells, unclosed quotes, truncation, stray
bytes, and plain random bytes. For every input:

* the importer never raises: it returns pairs and no problem, or problems that
  each read ``FILE:LINE: field: message`` on one line, with LINE inside the file;
* a file without problems holds only valid pairs (gold A, B or tie, texts that
  are not empty, unique ids), and a file that was not broken imports every
  record; one broken for sure is refused;
* what the app and the CLI then store (:meth:`Store.import_bank` after a clean
  check) is every pair, exactly as read, or nothing, on SQLite and on
  PostgreSQL, which refuses NUL and values wider than a column;
* judgments files behave the same, from parsing to :meth:`Store.import_judgments`;
* the lead console's "Import a bank" tab answers each nasty upload with a
  success or the list of problems, never a traceback.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import math
import random
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from unittest import mock

import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, assume, example, given, note, settings
from hypothesis import strategies as st

from pairs import judgments as judgments_module
from pairs.bank import (
    COLUMNS,
    GOLD_VALUES,
    MAX_DOMAIN_CHARS,
    MAX_ID_CHARS,
    MAX_SOURCE_CHARS,
    MAX_TEXT_CHARS,
    text_problem,
)
from pairs.errors import InputError, Problem
from pairs.importers import FORMATS, check_bank_bytes, read_bank_bytes
from pairs.judgments import COLUMNS as JUDGMENT_COLUMNS
from pairs.judgments import MAX_NAME_CHARS, parse_judgments
from pairs.markdown import escape_markdown
from pairs.names import lookalike, name_problem, normalize_name
from storage.store import Store, banks, drill_items, judgments, pairs_table, raters
from training import accounts

MAX_BANK_NAME_CHARS = banks.c.name.type.length
"""The store refuses a longer bank name (its column's width), on either database."""

ROOT = Path(__file__).resolve().parent.parent
FUZZ = settings(
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
        HealthCheck.function_scoped_fixture,
    ],
)
MODES = ["auto", *FORMATS]

# --------------------------------------------------------------------------- texts

PIECES = [
    " ", ",", ";", "|", '"', "'", "\\", "\n", "\r\n", "\r", "\t", "[", "]", "{", "}", ":", "#",
    "é", "ß", "İ", "😀", "中文", "\u2028", "\x85", "\x1e", "\ufeff", "\u200b", "=1+1", "null",
    "<b>", "Human:", "\\u0000", "1e999", "NaN",
]  # fmt: skip
piece = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=6), st.sampled_from(PIECES)
)
any_text = st.lists(piece, max_size=5).map("".join)
"""Text a file may hold, possibly blank; never NUL or a lone surrogate."""
text = any_text.map(lambda s: s if s.strip() else s + "x")
"""Text that is not blank."""
short = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=12)
word = st.text("abcdefghijklmnopqrstuvwxyzéß0123456789-_ ", min_size=1, max_size=10).map(
    lambda s: s if s.strip() else "w"
)

EMPTY = ["", " ", "\n\t", "\u3000", "\r\n"]
WRONG_TYPES = [0, -1, 1.5, 10**30, [], ["x"], {}, {"text": "x"}, True, False]
HUGE = "h" * (MAX_TEXT_CHARS + 1)
BAD_GOLD = ["C", 3, "", "AB", "tie?", "Ａ", "a b", "1", [], ["A"], True, 0.5]
BAD_UTF8 = [b"\xff", b"\xfe", b"\xc3", b"\xe9", b"\x80", b"\xed\xa0\x80", b"\xc0\x80", b"\xf8\x88\x80"]
JUNK = [b'"', b"]", b"[", b"}", b"{", b",", b"\n", b"\r", b"\x00", b"\\", b"\\u", b"NaN", b":", b" ", b'"\n']


def at_limit(index: int, limit: int, char: str) -> str:
    """A value of exactly ``limit`` characters, different for each ``index``."""
    prefix = f"{index}-"
    return prefix + char * (limit - len(prefix))


# --------------------------------------------------------------------------- records of each format


@st.composite
def native_records(draw) -> list[dict[str, Any]]:
    """Valid records of the native schema; prompts start with their index, so no two are alike."""
    records = []
    for i in range(draw(st.integers(1, 5))):
        record: dict[str, Any] = {
            "prompt": f"{i} {draw(text)}",
            "response_a": draw(text),
            "response_b": draw(text),
            "gold": draw(st.sampled_from(["A", "B", "tie", "a", " b ", "TIE", "Tie"])),
        }
        if draw(st.booleans()):
            record["id"] = draw(st.sampled_from([i, f"id{i}:" + draw(any_text)]))
        if draw(st.booleans()):
            record["rationale"] = draw(any_text)
        if draw(st.booleans()):
            record["tags"] = draw(
                st.lists(st.sampled_from(["length", "polish", "control", "Factual", " two words ", "ünï"]))
            )
        if draw(st.booleans()):
            record["domain"] = draw(word)
        if draw(st.booleans()):
            record["source"] = draw(short)
        if draw(st.booleans()):
            record["gold_confidence"] = draw(
                st.one_of(st.floats(0.5, 1.0), st.sampled_from([0.5, 1, "0.75", "1.0", None]))
            )
        records.append(record)
    return records


@st.composite
def llmbar_records(draw) -> list[dict[str, Any]]:
    return [
        {
            "input": f"{i} {draw(text)}",
            "output_1": draw(text),
            "output_2": draw(text),
            "label": draw(st.sampled_from([1, 2, "1", "2", 1.0])),
        }
        for i in range(draw(st.integers(1, 5)))
    ]


def _answer(s: str) -> str:
    return s.replace("Assistant:", "Assistant;")


@st.composite
def chosen_rejected_records(draw) -> list[dict[str, Any]]:
    """Plain ``{prompt, chosen, rejected}``, HH-RLHF dialogues and message lists, mixed."""
    records = []
    for i in range(draw(st.integers(1, 5))):
        prompt = f"{i} {draw(text)}"
        chosen = _answer(draw(text))
        rejected = _answer(draw(text))
        assume(chosen.strip() != rejected.strip())
        shape = draw(st.sampled_from(["plain", "hh", "messages"]))
        if shape == "plain":
            record: dict[str, Any] = {"prompt": prompt, "chosen": chosen, "rejected": rejected}
        elif shape == "hh":
            dialogue = f"\n\nHuman: {prompt}\n\nAssistant:"
            record = {"chosen": f"{dialogue} {chosen}", "rejected": f"{dialogue} {rejected}"}
        else:
            ask = [{"role": "user", "content": prompt}]
            record = {
                "chosen": [*ask, {"role": "assistant", "content": chosen}],
                "rejected": [*ask, {"role": "Assistant", "content": rejected}],
            }
        if draw(st.booleans()):
            record["id"] = f"cr{i}"
        if draw(st.booleans()):
            record["subset"] = draw(st.sampled_from(["tutor-math", " kitchen ", "", "données"]))
        records.append(record)
    return records


def _conversation(asked: list[str], answers: list[str], *, system: bool) -> list[dict[str, str]]:
    messages = [{"role": "system", "content": "Be brief."}] if system else []
    for question, answer in zip(asked, answers, strict=True):
        messages += [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
    return messages


@st.composite
def mt_bench_records(draw) -> tuple[list[dict[str, Any]], int]:
    """Expert votes in groups of one question, model pair and turn; returns the votes and the groups."""
    question_ids = draw(
        st.lists(st.one_of(st.integers(1, 200), short), min_size=1, max_size=4, unique_by=lambda q: str(q))
    )
    winners = st.sampled_from(["model_a", "model_b", "tie", "tie (bothbad)", " Model_A "])
    votes = []
    for g, question_id in enumerate(question_ids):
        models = draw(st.lists(word, min_size=2, max_size=2, unique_by=str.strip))
        turn = draw(st.sampled_from([1, 2]))
        asked = [f"{g} {draw(text)}", draw(text)]
        answers = {m: [draw(text), draw(text)] for m in models}
        for _ in range(draw(st.integers(1, 3))):
            a, b = models if draw(st.booleans()) else models[::-1]
            votes.append(
                {
                    "question_id": question_id,
                    "model_a": a,
                    "model_b": b,
                    "winner": draw(winners),
                    "judge": "expert_1",
                    "turn": draw(st.sampled_from([turn, str(turn)])),
                    "conversation_a": _conversation(asked, answers[a], system=g % 2 == 1),
                    "conversation_b": _conversation(asked, answers[b], system=g % 2 == 1),
                }
            )
    draw(st.randoms()).shuffle(votes)
    return votes, len(question_ids)


# --------------------------------------------------------------------------- breaking files

DELETE = object()
"""A mutation value: remove the key."""
NUL_TEXTS = ["\x00", "a\x00b", "\x00 "]
SURROGATES = ["\ud800", "x\udfffy", "\udc80"]


def _options(values, effect: str) -> list[tuple[Any, str]]:
    return [(v, effect) for v in values]


def _text_options(*, as_csv: bool) -> list[tuple[Any, str]]:
    """Values for a stored text field; in CSV a number or a list is just more text."""
    return _options([*EMPTY, *NUL_TEXTS, HUGE, *SURROGATES, None, DELETE], "break") + _options(
        WRONG_TYPES, "unknown" if as_csv else "break"
    )


def _width_options(limit: int, *, as_csv: bool, chars: str = "xé😀") -> list[tuple[Any, str]]:
    """Values of exactly ``limit`` characters (stored) and one more (refused), by record index."""
    return (
        [(lambda i, c=c: at_limit(i, limit, c), "keep") for c in chars]
        + [(lambda i, c=c: at_limit(i, limit + 1, c), "break") for c in chars]
        + _options(["x\x00"], "break")
        + ([] if as_csv else _options([1.5, [], {}, True], "break"))
    )


def field_mutations(fmt: str) -> dict[str, list[tuple[Any, str]]]:
    """For each key of a record of ``fmt``: values to put there, and whether the file then
    stays valid with the same pairs (``keep``), must be refused (``break``) or either."""
    as_csv = fmt == "csv"
    if fmt in ("jsonl", "csv"):
        gold = _options([*BAD_GOLD, None, DELETE], "break") + _options(["a", " B", "tie", "TIE "], "keep")
        return {
            **{key: _text_options(as_csv=as_csv) for key in ("prompt", "response_a", "response_b")},
            "gold": gold,
            "id": _width_options(MAX_ID_CHARS, as_csv=as_csv) + _options(["", None, " "], "keep"),
            "domain": _width_options(MAX_DOMAIN_CHARS, as_csv=as_csv, chars="dé😀"),
            "source": _width_options(MAX_SOURCE_CHARS, as_csv=as_csv),
            "rationale": _options(NUL_TEXTS, "break")
            + _options(["", HUGE], "keep")
            + ([] if as_csv else _options([1, [], True], "break")),
            "tags": _options(["[broken", '["ok", 3]'], "break")
            + _options([["length"], "a;b|c", []], "keep")
            + _options(["a\x00b"], "unknown" if as_csv else "keep")
            + ([] if as_csv else _options([["ok", 3], [["x"]], {"a": 1}, 5, ["a\x00b"]], "break")),
            "gold_confidence": _options([0.4, 1.01, "high", "85", True, [], math.inf, 10**400], "break")
            + _options([0.5, 1, "0.8", None], "keep")
            + _options([math.nan], "break" if as_csv else "keep"),
        }
    if fmt == "llmbar":
        return {
            **{key: _text_options(as_csv=False) for key in ("input", "output_1", "output_2")},
            "label": _options([3, 0, -1, "A", "1 ", "", True, [1], 1.5, math.nan, None, DELETE], "break")
            + _options([1, 2, "2", 2.0], "keep"),
        }
    if fmt == "chosen-rejected":
        return {
            **{key: _text_options(as_csv=False) for key in ("chosen", "rejected")},
            "id": _width_options(MAX_ID_CHARS, as_csv=False) + _options([None], "keep"),
            "subset": _width_options(MAX_SOURCE_CHARS, as_csv=False) + _options(["", None], "keep"),
        }
    wrong = [*EMPTY, *WRONG_TYPES, None, DELETE]
    return {
        "model_a": _options(wrong, "break"),
        "model_b": _options(wrong, "break"),
        "winner": _options(["C", "model_c", 1, "", "a", True, [], None, DELETE], "break")
        + _options(["tie", "MODEL_B", "tie (bothbad)"], "keep"),
        "conversation_a": _options(["x", 0, [], {}, [1], [{"role": "user"}], None, DELETE], "break"),
        "conversation_b": _options(["x", 0, [], {}, None, DELETE], "break"),
        "turn": _options([0, -1, "two", 1.5, True, None, DELETE, 3, "3", "²"], "break"),
        "question_id": _options([None, DELETE, 1.5, [], True, {}], "break"),
    }


def changed_copy(fmt: str, record: dict[str, Any], index: int) -> dict[str, Any]:
    """A copy of ``record`` with the same id (given or content hash) but other content."""
    copy = json.loads(json.dumps(record, default=str)) if fmt == "mt-bench" else dict(record)
    if fmt in ("jsonl", "csv"):
        gold = str(record.get("gold")).strip().upper()
        copy["gold"] = {"A": "B", "B": "tie"}.get(gold, "A")
    elif fmt == "llmbar":
        copy["label"] = 1 if record.get("label") in (2, "2") else 2
    elif fmt == "chosen-rejected":  # swapped sides hash to another content id: give both one id
        if record.get("id") is None:
            record["id"] = copy["id"] = f"dup{index}"
        copy["chosen"], copy["rejected"] = record.get("rejected"), record.get("chosen")
    else:
        for key in ("conversation_a", "conversation_b"):
            messages = copy.get(key)
            if not isinstance(messages, list):
                return copy
            for message in messages:
                if isinstance(message, dict) and message.get("role") == "user":
                    message["content"] = f"{message.get('content')} (again)"
                    break
    return copy


@dataclass
class Case:
    """A generated bank file and what importing it must give."""

    name: str
    fmt: str
    data: bytes = b""
    expected: int | None = None
    """Pairs the file must import completely, when it was built valid and only kept so."""
    broken: bool = False
    """True when some change is sure to make the file refused."""
    log: list[str] = field(default_factory=list)

    def apply(self, effect: str, what: str) -> None:
        self.log.append(f"{effect}: {what}")
        if effect == "break":
            self.broken, self.expected = True, None
        elif effect == "unknown":
            self.broken, self.expected = False, None


NAMES = {
    "jsonl": ["bank.jsonl", "bank.ndjson", "my bank: v2.json", "données.jsonl"],
    "csv": ["bank.csv", "Bank.CSV", "pairs export.csv"],
    "llmbar": ["natural.json", "adversarial-neighbor.json", "llmbar.jsonl"],
    "chosen-rejected": ["prefs.jsonl", "reward bench.json"],
    "mt-bench": ["mt_bench.jsonl", "human judgments.json"],
}
RECORDS = {
    "jsonl": native_records(),
    "csv": native_records(),
    "llmbar": llmbar_records(),
    "chosen-rejected": chosen_rejected_records(),
    "mt-bench": mt_bench_records(),
}
GENERATED = list(RECORDS)
"""The formats whose files are generated here; tests/test_importers_fuzz.py generates the others."""


def _json_bytes(records: list, *, as_list: bool, indent: int | None, ascii_only: bool) -> str:
    if as_list:
        return json.dumps(records, indent=indent, ensure_ascii=ascii_only) + "\n"
    return "".join(json.dumps(r, ensure_ascii=ascii_only) + "\n" for r in records)


def _cell(key: str, value: Any) -> str:
    if value is None:
        return ""
    if key == "tags" and isinstance(value, list) and value and all(isinstance(t, str) for t in value):
        return ";".join(value)
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


CSV_BREAKS = ["no column", "extra cell", "unclosed quote"]


@st.composite
def csv_text(draw, records: list[dict[str, Any]], case: Case, *, breaks: list[str]) -> str:
    """``records`` as CSV: columns in any order and case, maybe an unknown one, then ``breaks``."""
    keys = [c for c in COLUMNS if any(c in r for r in records)] + draw(st.sampled_from([[], ["notes"]]))
    keys = draw(st.permutations(keys))
    header = [draw(st.sampled_from([k, k.upper(), f" {k} ", k.title()])) for k in keys]
    rows = [[_cell(k, r.get(k)) if k != "notes" else draw(any_text) for k in keys] for r in records]
    if "no column" in breaks:
        gone = draw(st.sampled_from([k for k in ("prompt", "response_a", "response_b", "gold") if k in keys]))
        at = keys.index(gone)
        for row in [header, *rows]:
            del row[at]
        case.apply("break", f"no {gone} column")
    if "extra cell" in breaks:
        draw(st.sampled_from(rows)).append(draw(any_text) or "extra")
        case.apply("break", "an extra cell")
    lines = draw(csv_lines([header, *rows]))
    if "unclosed quote" in breaks:
        lines[-1] = '"' + lines[-1]
        case.apply("break", "an unclosed quote")
    return "".join(lines)


@st.composite
def csv_lines(draw, table: list[list[str]]) -> list[str]:
    """Each row of ``table`` written as CSV, ending in CRLF or LF (then every cell is quoted,
    as a lone CR in a cell would otherwise end the row)."""
    newline = draw(st.sampled_from(["\r\n", "\n"]))
    quoting = csv.QUOTE_MINIMAL if newline == "\r\n" else csv.QUOTE_ALL
    lines = []
    for cells in table:
        out = io.StringIO()
        csv.writer(out, lineterminator=newline, quoting=quoting).writerow(cells)
        lines.append(out.getvalue())
    return lines


BYTE_CHANGES = [
    "not utf-8", "utf-16", "blank line", "crlf", "truncate", "junk", "cut", "line twice", "random",
]  # fmt: skip


def change_bytes(draw, data: bytes, kind: str, case: Case) -> bytes:
    """``data`` with one change of ``kind`` (see :data:`BYTE_CHANGES`), noted on ``case``."""
    json_like = case.fmt != "csv"
    at = draw(st.integers(0, len(data)))
    if kind == "not utf-8":
        case.apply("break", f"{kind} at {at}")
        return data[:at] + draw(st.sampled_from(BAD_UTF8)) + data[at:]
    if kind == "utf-16":
        case.apply("break", kind)
        return data.decode("utf-8", "replace").encode("utf-16")
    if kind == "blank line" and b"\n" in data:
        at = data.find(b"\n", at % len(data))
        if at >= 0:
            case.apply("keep" if json_like else "unknown", f"{kind} after {at}")
            return data[: at + 1] + draw(st.sampled_from([b"\n", b"  \n", b"\r\n"])) + data[at + 1 :]
    if kind == "crlf":
        case.apply("keep" if json_like else "unknown", kind)
        return data.replace(b"\n", b"\r\n")
    if kind == "truncate" and 0 < at < len(data):
        case.apply("unknown", f"{kind} at {at}")
        return data[:at]
    if kind == "junk":
        case.apply("unknown", f"{kind} at {at}")
        return data[:at] + draw(st.sampled_from(JUNK)) + data[at:]
    if kind == "cut":
        case.apply("unknown", f"{kind} at {at}")
        return data[:at] + data[at + draw(st.integers(1, 40)) :]
    if kind == "line twice":
        lines = data.split(b"\n")
        i = at % len(lines)
        case.apply("unknown", f"{kind} {i + 1}")
        return b"\n".join([*lines[: i + 1], lines[i], *lines[i + 1 :]])
    if kind == "random":
        case.apply("unknown", kind)
        return draw(st.binary(max_size=300))
    return data


@st.composite
def bank_cases(draw, fmt: str) -> Case:
    """A valid bank file of ``fmt``: left clean, changed in ways that keep it valid, broken by
    exactly one change (so that no other problem hides a missing one), or changed many times."""
    case = Case(name=draw(st.sampled_from(NAMES[fmt])), fmt=fmt)
    drawn = draw(RECORDS[fmt])
    records, case.expected = drawn if fmt == "mt-bench" else (drawn, len(drawn))
    style = draw(st.sampled_from(["clean", "keep", "keep", "one", "one", "one", "one", "many", "many"]))
    one = ["field"] * 4 + ["repeat", "bytes"] + (["structure"] if fmt == "csv" else [])
    one = draw(st.sampled_from(one)) if style == "one" else ""
    effects = {"keep": {"keep"}, "one": {"break"}}.get(style, {"keep", "break", "unknown"})
    options = {k: [o for o in v if o[1] in effects] for k, v in field_mutations(fmt).items()}
    options = {k: v for k, v in options.items() if v}
    fields = {"clean": 0, "keep": 3, "one": int(one == "field"), "many": 4}[style]
    done = set()
    for _ in range(draw(st.integers(int(style == "one"), fields)) if fields else 0):
        i = draw(st.integers(0, len(records) - 1))
        key = draw(st.sampled_from(sorted(options)))
        if (i, key) in done:
            continue
        done.add((i, key))
        value, effect = draw(st.sampled_from(options[key]))
        if callable(value):
            value = value(i)
        if value is DELETE:
            records[i].pop(key, None)
        else:
            records[i][key] = value
        case.apply(effect, f"record {i}: {key} = {value!r:.80}")
    repeats = {"clean": 0, "keep": 2, "one": int(one == "repeat"), "many": 2}[style]
    for _ in range(draw(st.integers(int(style == "one"), repeats)) if repeats else 0):
        i = draw(st.integers(0, len(records) - 1))
        if style == "keep" or (style == "many" and draw(st.booleans())):
            records.append(json.loads(json.dumps(records[i])) if fmt == "mt-bench" else dict(records[i]))
            case.apply("keep", f"record {i} repeated")
        else:
            records.append(changed_copy(fmt, records[i], i))
            case.apply("break", f"record {i} repeated with other content")
    if fmt == "csv":
        breaks = [draw(st.sampled_from(CSV_BREAKS))] if one == "structure" else []
        if style == "many":
            breaks = [b for b in CSV_BREAKS if draw(st.integers(0, 7)) == 0]
        text = draw(csv_text(records, case, breaks=breaks))
    else:
        as_list = draw(st.booleans()) if fmt != "llmbar" else draw(st.integers(0, 3)) > 0
        indent = draw(st.sampled_from([None, 1, 2, 4]))
        text = _json_bytes(records, as_list=as_list, indent=indent, ascii_only=draw(st.booleans()))
    data = text.encode("utf-8", "surrogatepass")
    if style == "keep":
        for _ in range(draw(st.integers(0, 2)) if fmt != "csv" else 0):
            data = change_bytes(draw, data, draw(st.sampled_from(["blank line", "crlf"])), case)
    elif one == "bytes":
        data = change_bytes(draw, data, draw(st.sampled_from(BYTE_CHANGES)), case)
    elif style == "many":
        for _ in range(draw(st.integers(0, 3))):
            data = change_bytes(draw, data, draw(st.sampled_from(BYTE_CHANGES)), case)
    if style in ("keep", "many") and draw(st.integers(0, 9)) == 0:
        data = codecs.BOM_UTF8 + data
        case.apply("unknown" if data.startswith(codecs.BOM_UTF8 * 2) else "keep", "BOM")
    case.data = data
    return case


# --------------------------------------------------------------------------- what an import must give


def line_count(data: bytes) -> int:
    """Lines of a file, counting a lone CR as a line break too (CSV readers do)."""
    return len(re.split(rb"\r\n|\r|\n", data))


def check_problems(problems: list[Problem], name: str, data: bytes) -> None:
    """Every problem reads ``NAME:LINE: field: message`` on one line, with LINE inside the file, or,
    for a record of a JSON list with several records on a line, ``NAME: record N (character C): ...``
    with C where a record starts."""
    form = re.compile(rf"{re.escape(name)}(:(\d+)?:|: record \d+ \(character \d+\):) [\w .-]+: \S.*")
    lines = line_count(data)
    for problem in problems:
        shown = str(problem)
        assert form.fullmatch(shown), shown
        assert len(shown.splitlines()) == 1, shown
        assert problem.file == name
        if problem.record is not None:
            assert problem.line == problem.offset and record_starts_at(data, problem.offset), shown
        else:
            assert problem.line is None or 1 <= problem.line <= lines, (shown, lines)


def record_starts_at(data: bytes, character: int | None) -> bool:
    """Whether a JSON value starts at ``character`` (from 1) of the decoded file."""
    text = data.decode("utf-8-sig", errors="replace")
    return (
        character is not None and 1 <= character <= len(text) and text[character - 1] in '{["-0123456789tfn'
    )


def check_bank(bank: pd.DataFrame, data: bytes) -> None:
    """A bank read without problems: every pair complete, valid and storable, ids unique."""
    assert list(bank.columns) == COLUMNS + ["line"]
    assert len(bank) > 0
    assert bank["id"].is_unique
    lines = line_count(data)
    for pair in bank.to_dict("records"):
        assert pair["gold"] in GOLD_VALUES
        for key in ("prompt", "response_a", "response_b"):
            value = pair[key]
            assert isinstance(value, str) and value.strip() and len(value) <= MAX_TEXT_CHARS, key
            assert text_problem(value) is None, key
        for key, limit in (("id", MAX_ID_CHARS), ("domain", MAX_DOMAIN_CHARS), ("source", MAX_SOURCE_CHARS)):
            assert isinstance(pair[key], str) and len(pair[key]) <= limit, key
            assert pair[key] == pair[key].strip() and text_problem(pair[key]) is None, key
        assert pair["id"]
        assert isinstance(pair["rationale"], str) and text_problem(pair["rationale"]) is None
        assert isinstance(pair["tags"], tuple) and all(isinstance(t, str) for t in pair["tags"])
        confidence = pair["gold_confidence"]
        assert math.isnan(confidence) or 0.5 <= confidence <= 1
        assert 1 <= pair["line"] <= lines or record_starts_at(data, pair["line"])  # or a packed record


def check_import(data: bytes, name: str, fmt: str) -> tuple[pd.DataFrame, list[Problem]]:
    """Read ``data`` as the app does and check the result, the progress reported on the way
    (the app draws it as a bar, which refuses a value over 1), and that ``read_bank_bytes`` agrees."""
    reported: list[tuple[int, int]] = []
    bank, problems = check_bank_bytes(
        data, name, fmt, progress=lambda *done_total: reported.append(done_total)
    )
    check_problems(problems, name, data)
    if reported:
        total = reported[0][1]
        assert reported[0] == (0, total) and reported[-1] == (total, total)
        steps = zip(reported, reported[1:], strict=False)
        assert all(0 <= a <= b <= total and t == total for (a, t), (b, _) in steps)
    if problems:
        with pytest.raises(InputError) as refused:
            read_bank_bytes(data, name, fmt)
        assert refused.value.problems == problems
    else:
        check_bank(bank, data)
        pd.testing.assert_frame_equal(read_bank_bytes(data, name, fmt), bank)
    return bank, problems


# --------------------------------------------------------------------------- bank importer


@pytest.mark.parametrize("fmt", GENERATED)
def test_a_bank_file_imports_completely_or_is_refused_with_its_lines(fmt):
    """Generated files of each format, read in every mode: valid ones import every pair,
    broken ones are refused, and nothing ever raises."""

    @settings(FUZZ, max_examples=150)
    @given(bank_cases(fmt))
    def check(case: Case) -> None:
        note(f"{case.name} ({case.fmt}): {case.log}\n{case.data[:3000]!r}")
        for mode in MODES:
            bank, problems = check_import(case.data, case.name, mode)
            if mode in ("auto", fmt):
                if case.expected is not None:
                    assert problems == [] and len(bank) == case.expected, problems[:5]
                if case.broken:
                    assert problems

    check()


JSON_TOKENS = [
    "[", "]", "{", "}", ":", ",", " ", "\n", "\r\n", '"', "\\", "0", "1", "2", "-1", "1.5", "1e999", "NaN",
    "Infinity", "null", "true", '"x"', '""', '" "', '"A"', '"B"', '"tie"', '"C"', '"\\u0000"', '"\\ud800"',
    '"\\ud83d\\ude00"', '"prompt"', '"response_a"', '"response_b"', '"gold"', '"id"', '"tags"', '"domain"',
    '"source"', '"gold_confidence"', '"input"', '"output_1"', '"output_2"', '"label"', '"chosen"',
    '"rejected"', '"subset"', '"Human: hi\\n\\nAssistant: yes"', '"role"', '"content"', '"user"',
    '"assistant"', '"conversation_a"', '"conversation_b"', '"model_a"', '"model_b"', '"winner"', '"turn"',
    '"question_id"', '"model_a"', '"tie (bothbad)"', "[" * 3000, "9" * 5000,
]  # fmt: skip
CSV_TOKENS = [
    "prompt", "response_a", "response_b", "gold", "id", "tags", "gold_confidence", "domain", "A", "tie",
    "x", " ", ",", '"', '""', "\n", "\r\n", "\r", "\x00", "[", "]", "0.7", "nan", "a;b", "\ufeff", "é",
]  # fmt: skip


@given(
    data=st.one_of(
        st.binary(max_size=400),
        st.lists(st.sampled_from(JSON_TOKENS), max_size=60).map("".join).map(str.encode),
        st.lists(st.sampled_from(CSV_TOKENS), max_size=60).map("".join).map(str.encode),
        any_text.map(str.encode),
    ),
    name=st.sampled_from(sorted({n for names in NAMES.values() for n in names} | {"notes.txt", ".jsonl"})),
)
@settings(FUZZ, max_examples=200)
@example(data=b"[" * 100_000, name="deep.json")
@example(data=b'{"prompt": ' + b"9" * 5000 + b"}\n", name="long-number.jsonl")
@example(data=b"\xef\xbb\xbf\xef\xbb\xbf[]", name="two-boms.json")
@example(
    data=b"prompt,response_a,response_b,gold\n" + b"x" * (4 * MAX_TEXT_CHARS + 1) + b",a,b,A\n", name="w.csv"
)
def test_any_bytes_are_read_or_refused_without_raising(data, name):
    """Random bytes and soups of JSON and CSV tokens, under every name and format."""
    for mode in MODES:
        check_import(data, name, mode)


# --------------------------------------------------------------------------- into the store


def stored_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A bank's pairs as comparable dicts (NaN confidence as None, tags as a tuple)."""
    rows = []
    for pair in frame[COLUMNS].to_dict("records"):
        confidence = pair["gold_confidence"]
        pair["gold_confidence"] = None if confidence is None or math.isnan(confidence) else float(confidence)
        pair["tags"] = tuple(pair["tags"])
        rows.append(pair)
    return rows


def count_rows(store: Store, table: sa.Table) -> int:
    with store.read() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def empty_the_banks(store: Store) -> None:
    def fn(conn) -> None:
        conn.execute(sa.delete(pairs_table))
        conn.execute(sa.delete(banks))

    store.write(fn)


def check_all_or_nothing(store: Store, data: bytes, name: str) -> list[Problem]:
    """Import into an empty store as the lead console and ``pairs import`` do (check, then store
    only a file without problems): every pair as read, twice (the second time updating), or nothing."""
    empty_the_banks(store)
    pairs, problems = check_import(data, name, "auto")
    if problems:
        assert store.bank_names() == [] and count_rows(store, pairs_table) == 0
        return problems
    counts = store.import_bank("fuzz", pairs, source_file=name)
    assert counts == {"added": len(pairs), "updated": 0, "unchanged": 0}
    assert store.bank_names() == ["fuzz"] and count_rows(store, pairs_table) == len(pairs)
    assert stored_rows(store.load_bank("fuzz")) == stored_rows(pairs)
    assert store.import_bank("fuzz", pairs, source_file=name) == {
        "added": 0,
        "updated": 0,
        "unchanged": len(pairs),
    }
    assert stored_rows(store.load_bank("fuzz")) == stored_rows(pairs)
    return problems


def test_the_store_gets_every_pair_or_none(db_url):
    """Generated banks of every format, through the app's import path into an empty database."""
    store = Store(db_url)

    @settings(FUZZ, max_examples=25 if store.dialect == "postgresql" else 60)
    @given(st.sampled_from(GENERATED).flatmap(bank_cases))
    def check(case: Case) -> None:
        note(f"{case.name} ({case.fmt}): {case.log}\n{case.data[:3000]!r}")
        check_all_or_nothing(store, case.data, case.name)

    check()


def test_the_validation_widths_are_the_store_column_widths():
    """What the importers let through fits the columns that hold it, on any database."""
    assert MAX_ID_CHARS == pairs_table.c.pair_id.type.length
    assert MAX_DOMAIN_CHARS == pairs_table.c.domain.type.length
    assert MAX_SOURCE_CHARS == pairs_table.c.source.type.length
    assert max(len(g) for g in GOLD_VALUES) <= pairs_table.c.gold.type.length
    for column in ("prompt", "response_a", "response_b", "rationale", "tags"):
        assert isinstance(pairs_table.c[column].type, sa.Text), column
    assert MAX_NAME_CHARS == raters.c.name.type.length
    for table in (pairs_table, judgments, drill_items):
        assert MAX_NAME_CHARS == MAX_ID_CHARS == table.c.pair_id.type.length, table.name


def _jsonl(*records: dict[str, Any]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


def _pair(**fields: Any) -> dict[str, Any]:
    return {"prompt": "Say hi", "response_a": "hi", "response_b": "hello", "gold": "A", **fields}


@pytest.mark.parametrize(
    ("key", "limit"), [("id", MAX_ID_CHARS), ("domain", MAX_DOMAIN_CHARS), ("source", MAX_SOURCE_CHARS)]
)
def test_a_value_as_wide_as_its_column_is_stored_and_one_more_is_refused(db_url, key, limit):
    """Widths count characters, as PostgreSQL does, not bytes: 200 emoji fit in VARCHAR(200)."""
    store = Store(db_url)
    for char in ("x", "é", "😀"):
        wide = char * limit
        assert check_all_or_nothing(store, _jsonl(_pair(**{key: wide})), "wide.jsonl") == []
        assert store.load_bank("fuzz")[key].tolist() == [wide]
        problems = check_all_or_nothing(store, _jsonl(_pair(), _pair(**{key: wide + char})), "wide.jsonl")
        assert [str(p) for p in problems] == [f"wide.jsonl:2: {key}: longer than {limit} characters"]
    if store.dialect == "postgresql":  # what the check prevents: the database refusing the whole import
        bank = read_bank_bytes(_jsonl(_pair(**{key: "x" * limit})), "wide.jsonl")
        bank[key] = "x" * (limit + 1)
        with pytest.raises(sa.exc.DataError):
            store.import_bank("too wide", bank)
        assert store.bank_names() == [] and count_rows(store, pairs_table) == 0


# --------------------------------------------------------------------------- judgments

PAIR_IDS = ["p1", "p 2", "p,3", 'p"4', "ünï", "=1+1", "5", "x" * MAX_NAME_CHARS, "😀" * MAX_NAME_CHARS]
RATERS = ["ann", "Änn", "bob", "zoë", "a,b", 'say "hi"', "two  spaces", " padded ", "=HYPERLINK()", "r" * 200]
START = datetime(2026, 11, 1, 10, tzinfo=UTC)
BAD_CELLS = {
    "rater": [
        "",
        " ",
        "r" * (MAX_NAME_CHARS + 1),
        "a\x00b",
        "r" * 300_000,
        "two\nlines",
        "\x1b[31mx",
        "a\u200bb",
    ],
    "pair_id": ["nope", "", "P1", "p1 x", "x" * (MAX_NAME_CHARS + 1), "\x00"],
    "choice": ["C", "", "AB", "equal", "1", "A B", "ti e"],
    "confidence": ["85", "85%", "NaN", "nan", "inf", "-inf", "high", "0.4", "1.01", "True", "1e400", "0,8"],
    "left": ["C", "left", "AB", "tie"],
    "answered_at": ["yesterday", "2026-13-01", "2026-02-30T10:00:00Z", "-2026-01-01", "0000-06-01"],
    "seconds": ["-1", "inf", "x", "NaN", "-1e-9"],
}


@dataclass
class JudgmentCase:
    """A generated judgments file and what reading it must give."""

    data: bytes = b""
    expected: int | None = 0
    """Rows the file must give, while it is valid."""
    broken: bool = False
    log: list[str] = field(default_factory=list)

    def apply(self, effect: str, what: str, rows: int = 0) -> None:
        self.log.append(f"{effect}: {what}")
        if effect == "break":
            self.broken, self.expected = True, None
        elif effect == "unknown":
            self.broken, self.expected = False, None
        elif self.expected is not None:
            self.expected += rows


@st.composite
def judgment_times(draw, row: int) -> str:
    """A distinct time for each row, written in one of the ISO 8601 forms people use."""
    instant = START + timedelta(minutes=row, microseconds=draw(st.integers(0, 999_999)))
    zone = timezone(timedelta(minutes=draw(st.sampled_from([0, 60, -300, 330]))))
    return draw(
        st.sampled_from(
            [
                instant.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                instant.astimezone(zone).isoformat(),
                instant.astimezone(zone).isoformat(sep=" "),
                "",
            ]
        )
    )


JUDGMENT_BREAKS = ["no column", "extra cell", "column twice", "unclosed quote"]


@st.composite
def judgment_cases(draw, people: tuple[str, ...] = ()) -> JudgmentCase:
    """A valid judgments CSV: left clean, changed in ways that keep it valid, broken by exactly
    one change, or changed many times."""
    case = JudgmentCase()
    optional = [c for c in JUDGMENT_COLUMNS[3:] if draw(st.booleans())] + draw(
        st.sampled_from([[], ["note"]])
    )
    columns = draw(st.permutations(["rater", "pair_id", "choice", *optional]))
    rater = st.one_of(
        st.sampled_from(RATERS + list(people)),
        short.map(lambda s: s.strip() or "x").filter(lambda s: name_problem(s) is None),
    )
    rows = [
        {
            "rater": draw(rater),
            "pair_id": draw(st.sampled_from(PAIR_IDS)),
            "choice": draw(st.sampled_from(["A", "B", "a", " b ", "tie", " TIE "])),
            "confidence": draw(st.sampled_from(["", "0.5", "1", "0.75", "1.0", " 0.8 ", "5e-1", ".9"])),
            "left": draw(st.sampled_from(["", "A", "B", "a", " b "])),
            "answered_at": draw(judgment_times(i)),
            "seconds": draw(st.sampled_from(["", "0", "3.5", "1e3", " 12 "])),
            "note": draw(any_text),
        }
        for i in range(draw(st.integers(1, 6)))
    ]
    case.expected = len(rows)
    names = list(dict.fromkeys(normalize_name(r["rater"]) for r in rows))
    if any(lookalike(n, names[:i]) for i, n in enumerate(names)):
        case.apply("break", "two raters whose names look alike")
    style = draw(st.sampled_from(["clean", "keep", "one", "one", "one", "one", "many"]))
    one = draw(st.sampled_from(["field"] * 3 + ["repeat", "structure", "bytes"])) if style == "one" else ""
    fields = {"one": int(one == "field"), "many": draw(st.integers(0, 3))}.get(style, 0)
    for _ in range(fields):
        row = draw(st.sampled_from(rows))
        key = draw(st.sampled_from([k for k in BAD_CELLS if k in columns]))
        row[key] = draw(st.sampled_from(BAD_CELLS[key]))
        case.apply("break", f"{key} = {row[key]!r:.60}")
    repeats = {"keep": draw(st.integers(0, 2)), "one": int(one == "repeat"), "many": draw(st.integers(0, 2))}
    for _ in range(repeats.get(style, 0)):
        i = draw(st.integers(0, len(rows) - 1))
        copy = dict(rows[i])
        if style != "keep" and (style == "one" or draw(st.booleans())):
            copy["choice"] = "B" if copy["choice"].strip().upper() == "A" else "A"
            timed = "answered_at" in columns and copy["answered_at"]
            case.apply("break" if timed else "keep", f"row {i} with another choice", rows=1)
        else:
            case.apply("keep", f"row {i} repeated", rows=1)
        rows.append(copy)
    breaks = [draw(st.sampled_from(JUDGMENT_BREAKS))] if one == "structure" else []
    if style == "many":
        breaks = [b for b in JUDGMENT_BREAKS if draw(st.integers(0, 5)) == 0]
    header = [draw(st.sampled_from([c, c.upper(), f" {c} "])) for c in columns]
    table = [header] + [[r[c] for c in columns] for r in rows]
    if "no column" in breaks:
        at = columns.index(draw(st.sampled_from(["rater", "pair_id", "choice"])))
        case.apply("break", f"no {columns[at]} column")
        for line in table:
            del line[at]
    if "extra cell" in breaks:
        draw(st.sampled_from(table[1:])).append("extra")
        case.apply("break", "an extra cell")
    if "column twice" in breaks:
        table[0].append(draw(st.sampled_from(["rater", "choice"])))
        case.apply("break", "a column twice")
    lines = draw(csv_lines(table))
    if "unclosed quote" in breaks:
        lines[-1] = '"' + lines[-1]
        case.apply("break", "an unclosed quote")
    for _ in range(draw(st.integers(0, 2)) if style in ("keep", "many") else 0):
        at = draw(st.integers(0, len(lines)))
        lines.insert(at, draw(st.sampled_from(["\n", "\r\n", "  \n", ",,,\n", " , ,\t\n"])))
        case.apply("keep", f"blank line at {at}")
    data = "".join(lines).encode()
    kinds = ["not utf-8", "truncate", "quote", "junk", "random"]
    for _ in range({"one": int(one == "bytes"), "many": draw(st.integers(0, 2))}.get(style, 0)):
        kind = draw(st.sampled_from(kinds))
        at = draw(st.integers(0, len(data)))
        if kind == "not utf-8":
            data = data[:at] + draw(st.sampled_from(BAD_UTF8)) + data[at:]
            case.apply("break", f"{kind} at {at}")
        elif kind == "truncate" and 0 < at < len(data):
            data = data[:at]
            case.apply("unknown", f"{kind} at {at}")
        elif kind in ("quote", "junk"):
            data = data[:at] + (b'"' if kind == "quote" else draw(st.sampled_from(JUNK))) + data[at:]
            case.apply("unknown", f"{kind} at {at}")
        elif kind == "random":
            data = draw(st.binary(max_size=300))
            case.apply("unknown", kind)
    if style in ("keep", "many") and draw(st.integers(0, 4)) == 0:
        data = codecs.BOM_UTF8 + data
        case.apply("unknown" if data.startswith(codecs.BOM_UTF8 * 2) else "keep", "BOM")
    case.data = data
    return case


def data_rows(data: bytes) -> int:
    """Rows with a non-blank cell after the header, counted by the csv module alone."""
    rows = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))
    return max(0, sum(1 for row in rows if any(cell.strip() for cell in row)) - 1)


def read_judgments_file(data: bytes, pair_ids=PAIR_IDS) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Parse as the CLI does; only InputError may come out, and its problems must be well formed.

    A file read whole by pandas' C parser must give exactly what the row-by-row reader gives.
    """
    try:
        frame = parse_judgments(data, "j.csv", pair_ids=pair_ids)
    except InputError as refused:
        assert refused.problems
        check_problems(refused.problems, "j.csv", data)
        return None, refused.problems
    with mock.patch.object(judgments_module, "_fast_frame", lambda data: None):
        pd.testing.assert_frame_equal(frame, parse_judgments(data, "j.csv", pair_ids=pair_ids))
    assert list(frame.columns) == JUDGMENT_COLUMNS
    assert len(frame) == data_rows(data) > 0
    assert frame["choice"].isin(["A", "B", "tie"]).all() and frame["pair_id"].isin(pair_ids).all()
    assert (frame["left"].isin(["A", "B"]) | frame["left"].isna()).all()
    assert frame["answered_at"].dropna().dt.year.between(1, 9999).all()  # what datetime and SQL hold
    assert ((frame["confidence"] >= 0.5) & (frame["confidence"] <= 1) | frame["confidence"].isna()).all()
    assert ((frame["seconds"] >= 0) & (frame["seconds"] < math.inf) | frame["seconds"].isna()).all()
    names = frame["rater"]
    assert (names.str.len().between(1, MAX_NAME_CHARS) & ~names.str.contains("\x00", regex=False)).all()
    return frame, []


@given(judgment_cases())
@settings(FUZZ, max_examples=300)
@example(JudgmentCase(b"rater,pair_id,choice,answered_at\nann,p1,A,-2026-01-01\n", None, broken=True))
@example(JudgmentCase(b"rater,pair_id,choice,answered_at\nann,p1,A,0000-06-01\n", None, broken=True))
@example(
    JudgmentCase(b"rater,pair_id,choice,answered_at\nann,p1,A,9999-12-31T23:00-05:00\n", None, broken=True)
)
def test_a_judgments_file_is_read_completely_or_refused_with_its_lines(case):
    """Generated judgments files: valid ones give every row, broken ones are refused, and nothing
    but InputError is raised."""
    note(f"{case.log}\n{case.data[:2000]!r}")
    frame, problems = read_judgments_file(case.data)
    if case.expected is not None:
        assert problems == [] and len(frame) == case.expected
    if case.broken:
        assert problems


def distinct_judgments(frame: pd.DataFrame) -> int:
    """Judgments the store keeps of a frame: one per rater, pair and time, or per row content untimed."""
    keys = set()
    for row in frame.to_dict("records"):
        if pd.isna(row["answered_at"]):
            keys.add(tuple(str(row[c]) for c in JUDGMENT_COLUMNS))
        else:
            keys.add((row["rater"], row["pair_id"], row["answered_at"].floor("us")))
    return len(keys)


def test_judgments_are_stored_all_or_none(db_url):
    """Parsed judgments go in whole (each once, even imported twice) or, naming a person, not at all."""
    store = Store(db_url)
    records = [_pair(id=pair_id, prompt=f"Question {i}") for i, pair_id in enumerate(PAIR_IDS)]
    store.import_bank("fuzz", read_bank_bytes(_jsonl(*records), "bank.jsonl"))
    accounts.create_cohort(store, "imported", "lena", "lead-password", bank="fuzz")

    def forget_judgments(conn) -> None:
        conn.execute(sa.delete(judgments))
        conn.execute(sa.delete(raters).where(raters.c.role != "lead"))

    @settings(FUZZ, max_examples=25 if store.dialect == "postgresql" else 60)
    @given(judgment_cases(people=("lena",)))
    @example(
        JudgmentCase(b"rater,pair_id,choice,answered_at\nann,p1,A,0001-01-01\nbob,5,B,9999-12-31T23:59Z\n", 2)
    )
    @example(JudgmentCase(b"rater,pair_id,choice,answered_at\nann,p1,A,-2026-01-01\n", None, broken=True))
    def check(case: JudgmentCase) -> None:
        note(f"{case.log}\n{case.data[:2000]!r}")
        store.write(forget_judgments)
        frame, problems = read_judgments_file(case.data)
        if problems:
            return
        try:
            counts = store.import_judgments(frame, bank="fuzz", source="j.csv")
        except InputError as refused:
            check_problems(refused.problems, "j.csv", case.data)
            assert [p.field for p in refused.problems] == ["rater"] and "lena" in set(frame["rater"])
            assert store.count_judgments() == 0 and count_rows(store, raters) == 1
            return
        kept = distinct_judgments(frame)
        assert counts == {"added": kept, "already_present": len(frame) - kept}
        assert store.count_judgments() == kept
        again = store.import_judgments(frame, bank="fuzz", source="j.csv")
        assert again == {"added": 0, "already_present": len(frame)}
        stored = store.export_judgments(bank="fuzz")
        assert set(zip(stored["rater"], stored["pair_id"], stored["choice"], strict=True)) == set(
            zip(frame["rater"], frame["pair_id"], frame["choice"], strict=True)
        )

    check()


# --------------------------------------------------------------------------- the lead console


def nasty_uploads() -> list[tuple[str, bytes, str, str]]:
    """``(file name, content, format, typed bank name)`` of files a lead may upload, good and bad."""
    fixtures = ROOT / "tests" / "fixtures"
    llmbar = json.dumps(
        [{"input": f"Question {i}", "output_1": "a", "output_2": "b", "label": 1 + i % 2} for i in range(4)],
        indent=2,
    ).encode()
    native = _jsonl(
        _pair(id="u1", tags=["length"], domain="Math", gold_confidence=0.8),
        _pair(prompt="Two", gold="tie"),
        _pair(prompt="Three", gold=" b ", rationale="Because."),
    )
    prefs = _jsonl(
        {"prompt": "Pick one", "chosen": "good", "rejected": "bad", "subset": "kitchen"},
        {"chosen": "\n\nHuman: hi\n\nAssistant: hello", "rejected": "\n\nHuman: hi\n\nAssistant: go"},
    )
    header = b"prompt,response_a,response_b,gold\n"
    return [
        ("native.jsonl", native, "auto", ""),
        ("bank.csv", header + b'"two\nlines",a,b,A\nq2,a,b,tie\n', "auto", ""),
        ("adversarial-small.json", llmbar, "auto", ""),
        ("prefs.jsonl", prefs, "chosen-rejected", ""),
        ("mt_bench.jsonl", (fixtures / "mt_bench.jsonl").read_bytes(), "auto", ""),
        ("ties.jsonl", _jsonl(_pair(gold="tie"), _pair(prompt="2", gold="TIE")), "auto", ""),
        (
            "gold.jsonl",
            _jsonl(_pair(gold="C"), _pair(prompt="2", gold=3), _pair(prompt="3", gold=None)),
            "auto",
            "",
        ),
        (
            "types.jsonl",
            _jsonl(_pair(prompt=5), _pair(response_a=["x"]), _pair(response_b=None), _pair(gold=True)),
            "auto",
            "",
        ),
        (
            "empty-responses.jsonl",
            _jsonl(_pair(response_a=" "), _pair(prompt="2", response_b="")),
            "auto",
            "",
        ),
        ("latin1.jsonl", native + '{"prompt": "café"}\n'.encode("latin-1"), "auto", ""),
        ("utf16.jsonl", native.decode().encode("utf-16"), "auto", ""),
        ("huge.jsonl", _jsonl(_pair(response_a=HUGE)), "auto", ""),
        ("widest.jsonl", _jsonl(_pair(response_a="w" * MAX_TEXT_CHARS)), "auto", ""),
        ("nul.jsonl", _jsonl(_pair(prompt="a\x00b"), _pair(prompt="2", tags=["x\x00"])), "auto", ""),
        ("surrogate.jsonl", _jsonl(_pair(prompt="\ud800")), "auto", ""),
        ("duplicate.jsonl", _jsonl(_pair(id="d"), _pair(id="d", gold="B")), "auto", ""),
        ("wide-id.jsonl", _jsonl(_pair(id="😀" * MAX_ID_CHARS, source="s" * MAX_SOURCE_CHARS)), "auto", ""),
        ("wider-id.jsonl", _jsonl(_pair(id="😀" * (MAX_ID_CHARS + 1))), "auto", ""),
        ("wide-domain.jsonl", _jsonl(_pair(domain="d" * (MAX_DOMAIN_CHARS + 1))), "auto", ""),
        ("columns.csv", b"id,prompt,response_a\nc1,q,a\n", "auto", ""),
        ("cells.csv", header + b"q,a,b,A,extra\n", "auto", ""),
        ("quote.csv", header + b'q,"a,b,A\nq2,a,b,B\n', "auto", ""),
        ("truncated.json", llmbar[: len(llmbar) // 2], "auto", ""),
        ("random.json", random.Random(7).randbytes(600), "auto", ""),
        ("empty.jsonl", b"", "auto", ""),
        ("deep.json", b"[" * 50_000, "auto", ""),
        ("native-as-llmbar.jsonl", native, "llmbar", ""),
        ("mt-bench-as-csv.jsonl", (fixtures / "mt_bench.jsonl").read_bytes(), "csv", ""),
        ("n" * 240 + ".jsonl", native, "auto", ""),
        ("n" * MAX_BANK_NAME_CHARS + ".jsonl", native, "auto", ""),
        ("named.jsonl", native, "auto", "bank\x00name"),
        ("named-long.jsonl", native, "auto", "b" * (MAX_BANK_NAME_CHARS + 1)),
        ("named-wide.jsonl", native, "auto", "é" * MAX_BANK_NAME_CHARS),
    ]


FIX = "Fix them and upload again."


def problems_table(at) -> pd.DataFrame | None:
    for frame in at.dataframe:
        if list(frame.value.columns) == ["where", "field", "message"]:
            return frame.value
    return None


def upload(at, store: Store, name: str, data: bytes, fmt: str = "auto", typed: str = "") -> str | None:
    """Upload a file in the "Import a bank" tab and press Import; check what the tab shows and
    what the store holds. Returns the bank's name when the file was imported."""
    before = store.bank_names()
    at.file_uploader(key="bank_upload").set_value((name, data, "application/octet-stream"))
    at.selectbox(key="bank_format").set_value(fmt)
    at.text_input(key="bank_new_name").set_value(typed)
    at.button(key="bank_import").click().run()
    assert not at.exception, (name, at.exception)
    bank, problems = check_bank_bytes(data, name, fmt)
    bank_name = typed.strip() or Path(name).stem
    errors = [e.value for e in at.error]
    if problems:
        assert errors == [f"{len(problems)} problem(s) found; nothing was imported. {FIX}"]
        assert len(problems_table(at)) == len(problems), name
        assert store.bank_names() == before, name
        return None
    if len(bank_name) > MAX_BANK_NAME_CHARS or text_problem(bank_name):
        assert len(errors) == 1 and errors[0].startswith("The bank name") and not at.success, errors
        assert store.bank_names() == before, name
        return None
    bare = int(bank["rationale"].fillna("").astype(str).str.strip().eq("").sum())
    have = "pair has" if bare == 1 else "pairs have"
    note = f" {bare} {have} no rationale: raters see no reason after answering them."
    assert [s.value for s in at.success] == [
        f"Bank {escape_markdown(repr(bank_name))}: {len(bank)} pair{'' if len(bank) == 1 else 's'} added, "
        "0 updated, 0 unchanged." + (note if bare else "")
    ]
    assert store.bank_names() == [*before, bank_name]
    assert stored_rows(store.load_bank(bank_name)) == stored_rows(bank)
    return bank_name


def test_the_lead_console_answers_every_upload_without_a_traceback(app_store):
    """Each file through the "Import a bank" tab, signed in as a lead: a success with every pair
    stored, or the problems listed and nothing stored. Then a few generated files."""
    from streamlit.testing.v1 import AppTest

    from views.common import TOKEN

    store = app_store
    lead, _ = accounts.create_cohort(store, "alpha", "lena", "lead-password")
    at = AppTest.from_file(str(ROOT / "views" / "lead.py"), default_timeout=90)
    at.session_state[TOKEN] = accounts.start_session(store, lead.id)
    at.run()
    at.file_uploader(key="bank_upload").set_value(("first.jsonl", b"", "application/json")).run()
    imported = [upload(at, store, *file) for file in nasty_uploads()]
    assert [name[:12] for name in imported if name] == [
        "native", "bank", "adversarial-", "prefs", "mt_bench", "ties", "widest", "wide-id", "nnnnnnnnnnnn",
        "éééééééééééé",
    ]  # fmt: skip
    generated = iter(range(1_000_000))

    @settings(FUZZ, max_examples=8, derandomize=True, database=None)
    @given(st.sampled_from(GENERATED).flatmap(bank_cases))
    def check(case: Case) -> None:
        note(f"{case.name} ({case.fmt}): {case.log}\n{case.data[:3000]!r}")
        upload(at, store, case.name, case.data, typed=f"generated {next(generated)}")

    check()
