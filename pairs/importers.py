"""Importing pair banks from the formats people already have.

Every reader turns a file into pair records for :func:`pairs.bank.validate_records`
and reports problems as ``FILE:LINE: field: message`` (:class:`~pairs.errors.Problem`).
All problems in a file are collected before giving up, and an import is all or
nothing: :func:`read_bank` raises :class:`~pairs.errors.InputError` listing every
problem, :func:`check_bank` returns the valid pairs *and* the problems.

Formats (:data:`FORMATS`; ``fmt="auto"`` picks one, see :func:`detect_format`):

===================  ==========================================================
format               what it reads
===================  ==========================================================
``jsonl``            the native bank: one pair per line, keys as in
                     :data:`pairs.bank.COLUMNS` (a JSON list of such objects is
                     read too)
``csv``              the same columns with a header row; ``tags`` as ``a;b``
                     or a JSON list; empty cells count as missing
``llmbar``           LLMBar: a JSON list of ``{input, output_1, output_2,
                     label}``; ``label`` 1 or 2 names the gold; tagged
                     ``adversarial`` when the file name says so
``chosen-rejected``  preference pairs ``{prompt, chosen, rejected, [id],
                     [subset]}`` (RewardBench), or HH-RLHF rows with whole
                     dialogues in ``chosen`` / ``rejected``; JSONL or a list
``mt-bench``         MT-Bench human judgments, one expert vote per row; the
                     votes on one question, model pair and turn become one pair
===================  ==========================================================

Line numbers are physical lines of the file: for JSONL the record's line, for a
JSON list the line where the record's object starts, for CSV the line where the
record starts (the header is line 1), for MT-Bench the line of a pair's first vote.

Chosen/rejected sides
---------------------
A preference pair has no order, but a bank where gold is always A teaches raters
to pick A. The chosen response becomes A when the first byte of
``sha256(SIDE_SEED, prompt, chosen, rejected)`` (joined by ``\\x1f``, UTF-8) is
even, so about half the pairs have gold B and the same file always imports the
same way. MT-Bench pairs place their two models the same way (see
:func:`_read_mt_bench`).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from pairs.bank import COLUMNS, MAX_TEXT_CHARS, REQUIRED, validate_records
from pairs.errors import InputError, Problem, shown
from pairs.files import csv_header, csv_rows

Progress = Callable[[int, int], None]
"""``progress(done, total)``: characters of the decoded file processed so far, and in all."""

Record = tuple[int | None, Any]

SIDE_SEED = "paircal-sides-1"
"""Seed of the hash that decides which response of a preference pair becomes A."""

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


# --------------------------------------------------------------------------- public API


def read_bank(path: str | os.PathLike, fmt: str = "auto") -> pd.DataFrame:
    """Import a bank file; all or nothing.

    Parameters
    ----------
    path : str or path-like
        The file; its name as given appears in problem messages.
    fmt : str
        ``"auto"`` or a key of :data:`FORMATS`.

    Returns
    -------
    DataFrame
        Columns :data:`pairs.bank.COLUMNS` plus ``line``; ``attrs["format"]``
        names the format read.

    Raises
    ------
    InputError
        Listing every problem in the file, when there is any.
    OSError
        When the file cannot be read (missing, a directory, no permission).
    ValueError
        When ``fmt`` is not a known format.
    """
    bank, problems = check_bank(path, fmt)
    if problems:
        raise InputError(problems)
    return bank


def check_bank(path: str | os.PathLike, fmt: str = "auto") -> tuple[pd.DataFrame, list[Problem]]:
    """Read a bank file and return its valid pairs and every problem found.

    When ``problems`` is not empty the file must not be imported; the pairs are
    returned only to help show what was understood. Raises ``OSError`` when the
    file cannot be read and ``ValueError`` for an unknown ``fmt``.
    """
    data = Path(path).read_bytes()
    return check_bank_bytes(data, os.fspath(path), fmt)


def read_bank_bytes(
    data: bytes, name: str, fmt: str = "auto", progress: Progress | None = None
) -> pd.DataFrame:
    """Import a bank from bytes, such as a file uploaded to the app; all or nothing.

    Parameters
    ----------
    data : bytes
        The file's content.
    name : str
        The file's name, used in problem messages, for auto-detection and for
        LLMBar's ``adversarial`` tag.
    fmt : str
        ``"auto"`` or a key of :data:`FORMATS`.
    progress : callable, optional
        Called as ``progress(done, total)`` about every 1 % of the file, in
        characters of the decoded text, and once with ``done == total`` at the end.

    Returns
    -------
    DataFrame
        As :func:`read_bank`.

    Raises
    ------
    InputError
        Listing every problem, when there is any.

    Examples
    --------
    >>> data = b'{"prompt": "Say hi", "response_a": "hi", "response_b": "hello", "gold": "A"}\\n'
    >>> read_bank_bytes(data, "tiny.jsonl")[["id", "gold", "line"]].to_dict("records")
    [{'id': 'p-46f874c67015', 'gold': 'A', 'line': 1}]
    >>> read_bank_bytes(b'{"prompt": "Say hi", "gold": "C"}\\n', "tiny.jsonl")
    Traceback (most recent call last):
    ...
    pairs.errors.InputError: tiny.jsonl:1: response_a: missing
    tiny.jsonl:1: response_b: missing
    tiny.jsonl:1: gold: must be A, B or tie, got 'C'
    """
    bank, problems = check_bank_bytes(data, name, fmt, progress)
    if problems:
        raise InputError(problems)
    return bank


def check_bank_bytes(
    data: bytes, name: str, fmt: str = "auto", progress: Progress | None = None
) -> tuple[pd.DataFrame, list[Problem]]:
    """Like :func:`read_bank_bytes` but return ``(pairs, problems)`` instead of raising."""
    if fmt != "auto" and fmt not in FORMATS:
        raise ValueError(f"fmt must be 'auto' or one of {sorted(FORMATS)}, got {fmt!r}.")
    text, problems = _decode(data, name)
    if text is None:
        return _no_pairs(), problems
    if not text.strip():
        return _no_pairs(), [Problem(name, None, "file", "empty: no pairs")]
    if fmt == "auto":
        fmt, why = detect_format(text, name)
        if fmt is None:
            return _no_pairs(), problems + [Problem(name, None, "format", why)]
    source = _Source(name, text, progress)
    bank, found = validate_records(FORMATS[fmt](source), name)
    source.finish()
    if source.problems or problems:
        found = [p for p in found if (p.field, p.message) != ("pairs", "no pairs found")]
    found = [p for p in found if not (p.field in source.missing_columns and p.message == "missing")]
    problems = sorted(problems + source.problems + found, key=lambda p: (p.line is not None, p.line or 0))
    bank.attrs["format"] = fmt
    return bank, problems


def detect_format(text: str, name: str) -> tuple[str | None, str]:
    """Guess a file's format from its name and its first record.

    The rule, in order:

    1. A name ending in ``.csv`` is ``csv``.
    2. Otherwise the first record decides: the first element of a JSON list, or
       the first line of a JSONL file that parses as JSON. The first of these
       key sets it shares a key with names the format: ``response_a`` /
       ``response_b`` / ``gold`` -> ``jsonl``; ``output_1`` / ``output_2`` -> ``llmbar``;
       ``conversation_a`` / ``conversation_b`` / ``model_a`` / ``model_b`` /
       ``winner`` -> ``mt-bench``; ``chosen`` / ``rejected`` -> ``chosen-rejected``.
    3. Text that does not start like JSON but whose first line is a CSV header
       naming ``prompt`` or ``response_a`` is ``csv``.
    4. When no record can be parsed, a name ending in ``.jsonl`` or ``.ndjson``
       is ``jsonl`` (its reader then reports each bad line).

    Returns
    -------
    fmt : str or None
        The format, or None when none fits.
    reason : str
        Why none fits (empty when ``fmt`` is found).

    Examples
    --------
    >>> detect_format('[{"input": "q", "output_1": "a", "output_2": "b", "label": 1}]', "x.json")
    ('llmbar', '')
    >>> detect_format('{"prompt": "q", "chosen": "a", "rejected": "b"}', "x.jsonl")
    ('chosen-rejected', '')
    >>> fmt, reason = detect_format('{"question": "q"}', "x.jsonl")
    >>> print(fmt, reason)  # doctest: +NORMALIZE_WHITESPACE
    None not a known format: the first record (line 1) has the keys ['question'];
    expected the keys of one of jsonl, llmbar, mt-bench, chosen-rejected
    """
    suffix = Path(name).suffix.lower()
    if suffix == ".csv":
        return "csv", ""
    first, error = _first_record(text)
    if first is not None:
        line, record = first
        if not isinstance(record, dict):
            return None, f"not a known format: the first record (line {line}) is not a JSON object"
        for fmt, keys in _SIGNATURES.items():
            if keys & record.keys():
                return fmt, ""
        return None, (
            f"not a known format: the first record (line {line}) has the keys "
            f"[{', '.join(shown(key) for key in sorted(record)[:12])}]; "
            f"expected the keys of one of {', '.join(_SIGNATURES)}"
        )
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl", ""
    stripped = text.lstrip()
    if not stripped.startswith(("[", "{")):
        header = {c.strip().lower() for c in stripped.split("\n", 1)[0].split(",")}
        if header & {"prompt", "response_a"}:
            return "csv", ""
        return None, "not a known format: neither JSON nor a CSV file with a header naming prompt"
    return None, f"cannot tell the format: {error}"


# --------------------------------------------------------------------------- reading machinery


@dataclass
class _Source:
    """A decoded file being read: its name, its text and the problems found so far."""

    name: str
    text: str
    progress: Progress | None = None
    problems: list[Problem] = field(default_factory=list)
    missing_columns: set[str] = field(default_factory=set)
    _reported: int = 0

    def __post_init__(self) -> None:
        self._step = max(1, len(self.text) // 100)
        if self.progress is not None:
            self.progress(0, len(self.text))

    def problem(self, line: int | None, field: str, message: str) -> None:
        self.problems.append(Problem(self.name, line, field, message))

    def advance(self, done: int) -> None:
        if self.progress is not None and done - self._reported >= self._step:
            self._reported = done
            self.progress(done, len(self.text))

    def finish(self) -> None:
        if self.progress is not None:
            self.progress(len(self.text), len(self.text))


def _no_pairs() -> pd.DataFrame:
    return pd.DataFrame(columns=COLUMNS + ["line"])


def _decode(data: bytes, name: str) -> tuple[str | None, list[Problem]]:
    """UTF-8 text of ``data`` (BOM dropped) and a problem for every line that is not UTF-8.

    Bad bytes are replaced so the rest of the file can still be checked; UTF-16
    gives one problem and no text, since nothing else in it could be read.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in data[:4096]:
        return None, [Problem(name, 1, "encoding", "not UTF-8 (looks like UTF-16; save the file as UTF-8)")]
    data = data.removeprefix(codecs.BOM_UTF8)
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError:
        pass
    problems = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as e:
            message = f"not UTF-8 (byte 0x{raw[e.start]:02x} at column {e.start + 1}; save the file as UTF-8)"
            problems.append(Problem(name, number, "encoding", message))
    return data.decode("utf-8", errors="replace"), problems


_WS = re.compile(r"[ \t\r\n]*")


def _skip_ws(text: str, pos: int) -> int:
    return _WS.match(text, pos).end()


class _LineCounter:
    """Line number of a position in ``text``, counted incrementally for increasing positions."""

    def __init__(self, text: str):
        self.text = text
        self.pos = 0
        self.line = 1

    def at(self, pos: int) -> int:
        if pos < self.pos:
            self.pos, self.line = 0, 1
        self.line += self.text.count("\n", self.pos, pos)
        self.pos = pos
        return self.line


def _first_record(text: str) -> tuple[Record | None, str]:
    """The first JSON record of a JSON list or JSONL text, or why there is none."""
    start = _skip_ws(text, 0)
    if text.startswith("[", start):
        pos = _skip_ws(text, start + 1)
        if text.startswith("]", pos):
            return None, "the JSON list is empty"
        first_error = ""
        for _ in range(1000):  # a broken first record: try the next ones that can be found
            try:
                record, _ = json.JSONDecoder().raw_decode(text, pos)
                return (text.count("\n", 0, pos) + 1, record), ""
            except (ValueError, RecursionError) as e:
                first_error = first_error or f"the first record is not valid JSON ({_json_reason(e)})"
                pos = _resync(text, pos, pos + 1)
                if pos is None:
                    break
        return None, first_error
    first_error = ""
    pos = 0
    for number in range(1, 1001):
        end = text.find("\n", pos)
        line = text[pos:] if end < 0 else text[pos:end]
        if line.strip():
            try:
                return (number, json.loads(line)), ""
            except (ValueError, RecursionError) as e:
                first_error = first_error or f"line {number} is not valid JSON ({_json_reason(e)})"
        if end < 0:
            break
        pos = end + 1
    return None, first_error or "no JSON record found"


def _json_reason(error: Exception) -> str:
    """Why JSON did not parse: a syntax error (``JSONDecodeError``), nesting too deep
    (``RecursionError``) or an integer too long to convert (``ValueError``)."""
    if isinstance(error, json.JSONDecodeError):
        return f"{error.msg.removesuffix(' at')} at column {error.colno}"
    if isinstance(error, RecursionError):
        return "nested too deeply"
    return f"a number of more than {sys.get_int_max_str_digits()} digits"


def _json_records(source: _Source) -> Iterator[Record]:
    """Records of a JSON list (when the text starts with ``[``) or of JSONL, with their lines.

    A record holding a lone surrogate (an escape such as ``"\\ud800"`` not
    paired with a low one) is reported and dropped: it is not Unicode text, and
    hashing or storing it would fail.
    """
    start = _skip_ws(source.text, 0)
    if source.text.startswith("[", start):
        records = _json_list(source, start)
    else:
        records = _json_lines(source)
    if _SURROGATE_ESCAPE.search(source.text) is None:  # the only way a surrogate gets in
        yield from records
        return
    for line, record in records:
        found = _lone_surrogate(record)
        if found is None:
            yield line, record
        else:
            char, key = found
            where = "" if key is None else f" in {shown(key)}"
            source.problem(line, "encoding", f"not valid Unicode: a lone surrogate {char!r}{where}")


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _lone_surrogate(record: Any) -> tuple[str, str | None] | None:
    """The first lone surrogate in the strings (keys too) of a JSON value, and its top-level key."""
    for top, value in record.items() if isinstance(record, dict) else [(None, record)]:
        stack = [value] if top is None else [top, value]
        while stack:
            item = stack.pop()
            if isinstance(item, str):
                if found := _SURROGATE.search(item):
                    return found.group(), top
            elif isinstance(item, dict):
                stack.extend(part for pair in item.items() for part in pair)
            elif isinstance(item, list):
                stack.extend(item)
    return None


def _json_lines(source: _Source) -> Iterator[Record]:
    pos = 0
    for number, line in enumerate(source.text.split("\n"), start=1):
        source.advance(pos)
        pos += len(line) + 1
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (ValueError, RecursionError) as e:
            source.problem(number, "json", f"not valid JSON ({_json_reason(e)})")
            continue
        yield number, record


def _json_list(source: _Source, start: int) -> Iterator[Record]:
    """Elements of the JSON list starting at ``start``, each with the line its value starts on.

    After a syntax error inside an element, reading resumes at the next line that
    opens an object at the same indentation (the layout of pretty-printed files),
    so later problems are still found; otherwise the rest is not checked.
    """
    text = source.text
    decoder = json.JSONDecoder()
    lines = _LineCounter(text)
    pos = start + 1
    element_start = start
    while True:
        pos = _skip_ws(text, pos)
        source.advance(pos)
        if pos >= len(text):
            source.problem(lines.at(len(text)), "json", "not valid JSON (the list is not closed with ']')")
            return
        if text[pos] == "]":
            end = _skip_ws(text, pos + 1)
            if end < len(text):
                source.problem(lines.at(end), "json", "not valid JSON (text after the closing ']')")
            return
        element_start = pos
        try:
            record, end = decoder.raw_decode(text, pos)
        except (ValueError, RecursionError) as e:
            line = e.lineno if isinstance(e, json.JSONDecodeError) else lines.at(pos)
            pos = _resync(text, element_start, pos + 1)
            rest = "" if pos is not None else "; the rest of the file was not checked"
            source.problem(line, "json", f"not valid JSON ({_json_reason(e)}){rest}")
            if pos is None:
                return
            continue
        yield lines.at(element_start), record
        pos = _skip_ws(text, end)
        if text.startswith(",", pos):
            if text.startswith("]", _skip_ws(text, pos + 1)):
                source.problem(lines.at(pos), "json", "not valid JSON (a comma before the closing ']')")
            pos += 1
        elif pos < len(text) and text[pos] not in "]{[":
            line = lines.at(pos)
            pos = _resync(text, element_start, pos)
            rest = "" if pos is not None else "; the rest of the file was not checked"
            source.problem(line, "json", f"not valid JSON (expected ',' or ']' after a record){rest}")
            if pos is None:
                return
        elif pos < len(text) and text[pos] != "]":
            source.problem(lines.at(pos), "json", "not valid JSON (missing ',' between records)")


def _resync(text: str, element_start: int, search_from: int) -> int | None:
    """Where the next element at the same indentation as the one at ``element_start`` begins."""
    line_start = text.rfind("\n", 0, element_start) + 1
    indent = text[line_start:element_start]
    if indent.strip() or not text.startswith("{", element_start):
        return None
    found = re.compile(r"\n" + re.escape(indent) + r"\{").search(text, search_from)
    return None if found is None else found.end() - 1


def _is_object(source: _Source, line: int | None, record: Any) -> bool:
    if isinstance(record, dict):
        return True
    source.problem(line, "pair", f"must be an object, got {type(record).__name__}")
    return False


def _texts(source: _Source, line: int | None, record: dict, keys: Iterable[str]) -> list[str] | None:
    """The text fields ``keys`` of ``record``; a problem for each one missing, not text or empty."""
    keys = tuple(keys)
    values = []
    for key in keys:
        value = record.get(key)
        if value is None:
            source.problem(line, key, "missing")
        elif not isinstance(value, str):
            source.problem(line, key, f"must be text, got {type(value).__name__}")
        elif not value.strip():
            source.problem(line, key, "empty")
        else:
            values.append(value)
    return values if len(values) == len(keys) else None


def _first_is_a(*texts: str) -> bool:
    """Seeded coin flip on content: True for about half of all inputs, always the same for one."""
    digest = hashlib.sha256("\x1f".join((SIDE_SEED, *texts)).encode("utf-8")).digest()
    return digest[0] % 2 == 0


# --------------------------------------------------------------------------- readers


def _read_native(source: _Source) -> Iterator[Record]:
    """The native bank: records already have the bank's keys."""
    return _json_records(source)


def _read_csv(source: _Source) -> Iterator[Record]:
    """Native columns in CSV; a record's line is the physical line where it starts."""
    csv.field_size_limit(max(csv.field_size_limit(), 4 * MAX_TEXT_CHARS))
    header: list[str] | None = None
    for line, row, read in csv_rows(source.text):
        if isinstance(row, csv.Error):
            source.problem(line, "csv", f"not valid CSV ({row})")
            continue
        source.advance(read)
        if header is None:
            header, repeated, missing = csv_header(row, COLUMNS, REQUIRED)
            for column in repeated:  # other columns are not read
                source.problem(line, column, "column appears more than once")
            for column in missing:
                source.problem(line, column, "missing column")
            source.missing_columns = set(missing)
            continue
        if len(row) > len(header):
            source.problem(line, "csv", f"{len(row)} fields but the header has {len(header)}")
            continue
        yield line, {key: value for key, value in zip(header, row, strict=False) if key and value.strip()}


def _read_llmbar(source: _Source) -> Iterator[Record]:
    """LLMBar ``{input, output_1, output_2, label}``; ids are content hashes."""
    tags = ("adversarial",) if "adversarial" in Path(source.name).name.lower() else ()
    for line, record in _json_records(source):
        if not _is_object(source, line, record):
            continue
        texts = _texts(source, line, record, ("input", "output_1", "output_2"))
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


_ASSISTANT = "Assistant:"


def _read_chosen_rejected(source: _Source) -> Iterator[Record]:
    """Preference pairs; chosen goes to A or B by :data:`SIDE_SEED` (module docstring).

    ``chosen`` and ``rejected`` are texts (with ``prompt``), whole HH-RLHF
    dialogues (without ``prompt``: the prompt is their shared beginning up to and
    including the last ``Assistant:``), or lists of ``{role, content}`` messages
    ending with the assistant's answer. ``subset`` becomes the pair's source.
    """
    for line, record in _json_records(source):
        if not _is_object(source, line, record):
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
        chosen_is_a = _first_is_a(prompt, chosen, rejected)
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


def _preference(source: _Source, line: int | None, record: dict) -> tuple[str, str, str] | None:
    """``(prompt, chosen response, rejected response)`` of a record, or None after reporting why."""
    if isinstance(record.get("chosen"), list) or isinstance(record.get("rejected"), list):
        return _preference_messages(source, line, record)
    if record.get("prompt") is not None:
        texts = _texts(source, line, record, ("prompt", "chosen", "rejected"))
        return None if texts is None else (texts[0], texts[1].strip(), texts[2].strip())
    texts = _texts(source, line, record, ("chosen", "rejected"))
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


def _preference_messages(source: _Source, line: int | None, record: dict) -> tuple[str, str, str] | None:
    conversations = {}
    for key in ("chosen", "rejected"):
        messages = _messages(record.get(key))
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
        prompt = record.get("prompt") if isinstance(record.get("prompt"), str) else ""
    if not prompt.strip():
        source.problem(line, "prompt", "missing: no messages before the answers and no prompt")
        return None
    return prompt, conversations["chosen"][-1][1].strip(), conversations["rejected"][-1][1].strip()


def _messages(value: Any) -> list[tuple[str, str]] | str:
    """``[(role, content), ...]`` of a list of ``{role, content}`` messages, or why it is not one."""
    if not isinstance(value, list):
        return "must be a list of {role, content} messages" if value is not None else "missing"
    out = []
    for number, message in enumerate(value, start=1):
        if not (
            isinstance(message, dict)
            and isinstance(message.get("role"), str)
            and isinstance(message.get("content"), str)
        ):
            return f"message {number} must be an object with text 'role' and 'content'"
        out.append((message["role"].strip().lower(), message["content"]))
    return out


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


def _read_mt_bench(source: _Source) -> Iterator[Record]:
    """MT-Bench human judgments: each group of votes becomes one pair.

    Votes are grouped by (question_id, unordered model pair, turn). Which model is
    A is decided by :func:`_first_is_a` on the question, turn and sorted model
    names, and each vote is flipped to that orientation. Gold is the side with
    more votes than each other side; otherwise (equal A and B votes, or tie
    votes as many as the leading side) it is ``"tie"``. ``gold_confidence`` is
    the gold side's share of all votes, clipped to [0.5, 1]. The rationale gives
    the vote counts; questions 81-160 get their MT-Bench category as domain.
    """
    groups: dict[tuple, _Votes] = {}
    for line, record in _json_records(source):
        if not _is_object(source, line, record):
            continue
        vote = _mt_bench_vote(source, line, record)
        if vote is None:
            continue
        question_id, turn, model_a, model_b, winner, conversation_a, conversation_b = vote
        first, second = sorted((model_a, model_b))
        if not _first_is_a(str(question_id), str(turn), first, second):
            first, second = second, first
        if model_a != first:
            conversation_a, conversation_b = conversation_b, conversation_a
            winner = {"a": "b", "b": "a"}.get(winner, winner)
        texts = _mt_bench_texts(conversation_a, conversation_b, turn)
        key = (str(question_id), turn, first, second)
        group = groups.setdefault(key, _Votes(line, question_id, turn, first, second, texts))
        if group.texts != texts:
            source.problem(
                line,
                "conversation_a",
                f"differs from the vote on line {group.line} for the same question, models and turn",
            )
            continue
        group.votes[{"a": "A", "b": "B"}.get(winner, "tie")] += 1
        group.votes["bothbad"] += record["winner"].strip().lower() == "tie (bothbad)"
    for group in groups.values():
        yield group.line, _mt_bench_pair(group)


def _mt_bench_vote(source: _Source, line: int | None, record: dict) -> tuple | None:
    """The checked fields of one vote, or None after reporting every problem in it."""
    problems_before = len(source.problems)
    question_id = record.get("question_id")
    if question_id is None:
        source.problem(line, "question_id", "missing")
    elif isinstance(question_id, bool) or not isinstance(question_id, (int, str)):
        source.problem(line, "question_id", f"must be a number or text, got {type(question_id).__name__}")
    models = _texts(source, line, record, ("model_a", "model_b"))
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
    exchanges = {}
    for key in ("conversation_a", "conversation_b"):
        found = _exchanges(record.get(key))
        if isinstance(found, str):
            source.problem(line, key, found)
        elif isinstance(turn, int) and len(found) < turn:
            source.problem(line, key, f"has {len(found)} answered turn(s), fewer than turn {turn}")
        else:
            exchanges[key] = found
    if len(exchanges) == 2 and isinstance(turn, int):
        asked_a = [user for user, _ in exchanges["conversation_a"][:turn]]
        asked_b = [user for user, _ in exchanges["conversation_b"][:turn]]
        if asked_a != asked_b:
            source.problem(line, "conversation_b", "asks different questions than conversation_a")
    if len(source.problems) > problems_before:
        return None
    return (
        question_id,
        turn,
        models[0].strip(),
        models[1].strip(),
        _WINNERS[winner.strip().lower()],
        exchanges["conversation_a"],
        exchanges["conversation_b"],
    )


def _exchanges(value: Any) -> list[tuple[str, str]] | str:
    """``[(user message, assistant answer), ...]`` of a conversation, or why it is malformed."""
    messages = _messages(value)
    if isinstance(messages, str):
        return messages
    out: list[tuple[str, str]] = []
    asked: str | None = None
    for number, (role, content) in enumerate(messages, start=1):
        if role == "system":
            continue
        if role == "user" and asked is None:
            asked = content
        elif role == "assistant" and asked is not None:
            out.append((asked, content))
            asked = None
        else:
            return f"message {number} ({role}) breaks the user/assistant alternation"
    return out


def _mt_bench_texts(
    exchanges_a: list[tuple[str, str]], exchanges_b: list[tuple[str, str]], turn: int
) -> tuple[str, str, str]:
    """``(prompt, response_a, response_b)`` at ``turn``; earlier turns go into the prompt."""
    parts = []
    for number in range(1, turn):
        (asked, answer_a), (_, answer_b) = exchanges_a[number - 1], exchanges_b[number - 1]
        parts.append(f"[Turn {number}, user]\n{asked}")
        if answer_a == answer_b:
            parts.append(f"[Turn {number}, assistant]\n{answer_a}")
        else:
            parts.append(f"[Turn {number}, assistant A]\n{answer_a}")
            parts.append(f"[Turn {number}, assistant B]\n{answer_b}")
    asked = exchanges_a[turn - 1][0]
    prompt = "\n\n".join([*parts, f"[Turn {turn}, user]\n{asked}"]) if parts else asked
    return prompt, exchanges_a[turn - 1][1].strip(), exchanges_b[turn - 1][1].strip()


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


Reader = Callable[[_Source], Iterable[Record]]

FORMATS: dict[str, Reader] = {
    "jsonl": _read_native,
    "csv": _read_csv,
    "llmbar": _read_llmbar,
    "chosen-rejected": _read_chosen_rejected,
    "mt-bench": _read_mt_bench,
}
"""Format name -> reader. A reader takes the decoded file and yields ``(line, record)``
in the native schema, reporting what it cannot map on the source."""

_SIGNATURES: dict[str, set[str]] = {
    "jsonl": {"response_a", "response_b", "gold"},
    "llmbar": {"output_1", "output_2"},
    "mt-bench": {"conversation_a", "conversation_b", "model_a", "model_b", "winner"},
    "chosen-rejected": {"chosen", "rejected"},
}
"""Keys that mark a format's first record, checked in this order (see :func:`detect_format`)."""
