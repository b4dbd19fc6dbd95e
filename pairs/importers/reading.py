"""What every bank reader shares: the file being read, decoding, JSON records, field checks.

A reader (one module per format, listed in :data:`pairs.importers.FORMATS`)
takes a :class:`Source`, the decoded file, and yields ``(line, record)``:
records in the native bank schema with the physical line each came from. It
reports whatever it cannot map with :meth:`Source.problem` and goes on, so
every problem in a file is found in one pass.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pairs.bank import MAX_TEXT_CHARS
from pairs.errors import Problem, record_place, shown
from pairs.files import csv_rows

Progress = Callable[[int, int], None]
"""``progress(done, total)``: characters of the decoded file processed so far, and in all."""

Record = tuple[int | None, Any]
"""``(line, record)``: a record read from a file and the line it starts on (None: the whole file)."""

SIDE_SEED = "paircal-sides-1"
"""Seed of the hash that decides which response of a preference pair becomes A."""


@dataclass
class Source:
    """A decoded file being read: its name, its text and the problems found so far.

    Parameters
    ----------
    name : str
        The file's name, as problems show it.
    text : str
        The decoded text.
    progress : callable, optional
        Told how far reading has got (:data:`Progress`), about every 1% of the text.

    Attributes
    ----------
    problems : list of Problem
        Every problem a reader reported, in the order found.
    missing_columns : set of str
        Required columns a CSV header lacks (their per-record "missing" is then not repeated).
    whole_file : set of Problem
        The problems that concern the file, not one record (a CSV header, JSON
        list syntax): skipping records cannot get past them.
    spans : dict of int to (int, int)
        Where each record of a JSON list or CSV file starts and ends in ``text``,
        by its line (a JSON Lines record is its line).
    packed : dict of int to int
        The records of a JSON list written with several records on a line (on
        one line, say): each record's number in the list (from 1), by the
        character where it starts (from 1), which stands for its line there
        (the ``line`` of its records and problems), so records stay apart.
    skipped : Counter
        What a reader left out on purpose, by kind (``"tie votes"``), for the summary.
    header : list of str or None
        The header of a file read by :func:`table_records` as CSV.
    """

    name: str
    text: str
    progress: Progress | None = None
    problems: list[Problem] = field(default_factory=list)
    missing_columns: set[str] = field(default_factory=set)
    whole_file: set[Problem] = field(default_factory=set)
    spans: dict[int, tuple[int, int]] = field(default_factory=dict)
    packed: dict[int, int] = field(default_factory=dict)
    skipped: Counter = field(default_factory=Counter)
    header: list[str] | None = None
    _reported: int = 0
    _line_starts: list[int] | None = None

    def __post_init__(self) -> None:
        self._step = max(1, len(self.text) // 100)
        if self.progress is not None:
            self.progress(0, len(self.text))

    def problem(self, line: int | None, field: str, message: str, *, whole_file: bool = False) -> None:
        """Report a problem at ``line`` (None: the whole file) in ``field``.

        Parameters
        ----------
        line : int or None
            The physical line, from 1.
        field : str
            The field or aspect at fault (``"gold"``, ``"json"``, ``"encoding"``, ...).
        message : str
            What is wrong, in a short sentence without the file and line.
        whole_file : bool
            True when the problem is not one record's (see :attr:`whole_file`).
        """
        problem = Problem(self.name, line, field, message)
        self.problems.append(problem)
        if whole_file or line is None:
            self.whole_file.add(problem)

    def where(self, line: int | None) -> str:
        """Where the record at ``line`` is, in words: ``line 5``, or ``record 3 (character 126)``
        in a JSON list written with several records on a line (:attr:`packed`).

        Parameters
        ----------
        line : int or None
            A record's line, as its reader yielded it.

        Returns
        -------
        str
        """
        if line in self.packed:
            return record_place(self.packed[line], line)
        return "the whole file" if line is None else f"line {line}"

    def raw(self, line: int | None) -> str:
        """The text of the record that starts on ``line``, or of that physical line.

        Parameters
        ----------
        line : int or None
            A line of the file (None: no text).

        Returns
        -------
        str
            The record's text as the file has it (a JSON object, a CSV row), without
            the line break after it; the physical line when no record starts there.
        """
        if line is None:
            return ""
        if line in self.spans:
            start, end = self.spans[line]
        else:
            if self._line_starts is None:
                self._line_starts = [0, *(found.end() for found in re.finditer("\n", self.text))]
            if not 1 <= line <= len(self._line_starts):
                return ""
            start = self._line_starts[line - 1]
            end = self.text.find("\n", start)
            end = len(self.text) if end < 0 else end
        return self.text[start:end].strip("\r\n")

    def advance(self, done: int) -> None:
        """Tell ``progress`` that ``done`` characters are read, when 1% more is done since last told.

        Parameters
        ----------
        done : int
            Characters of the text read so far.
        """
        if self.progress is not None and done - self._reported >= self._step:
            self._reported = done
            self.progress(done, len(self.text))

    def finish(self) -> None:
        """Tell ``progress`` that the whole text is read."""
        if self.progress is not None:
            self.progress(len(self.text), len(self.text))


def decode(data: bytes, name: str) -> tuple[str | None, list[Problem]]:
    """UTF-8 text of ``data`` (BOM dropped) and a problem for every line that is not UTF-8.

    Bad bytes are replaced so the rest of the file can still be checked; UTF-16
    gives one problem and no text, since nothing else in it could be read.

    Parameters
    ----------
    data : bytes
        The file's content.
    name : str
        The file's name, for the problems.

    Returns
    -------
    text : str or None
        The text (None for UTF-16).
    problems : list of Problem
        One per line that is not UTF-8.

    Examples
    --------
    >>> decode("caf\\u00e9\\n".encode(), "x.jsonl")
    ('café\\n', [])
    >>> text, problems = decode(b"ok\\ncaf\\xe9\\n", "x.jsonl")
    >>> text, [str(p) for p in problems]
    ('ok\\ncaf\ufffd\\n', ['x.jsonl:2: encoding: not UTF-8 (byte 0xe9 at column 4; save the file as UTF-8)'])
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
    match = _WS.match(text, pos)  # the pattern matches the empty string, so always a match
    return pos if match is None else match.end()


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


def first_record(text: str) -> tuple[Record | None, str]:
    """The first JSON record of a JSON list or JSONL text, or why there is none.

    Parameters
    ----------
    text : str
        A decoded file.

    Returns
    -------
    record : Record or None
        ``(line, value)`` of the first record that parses (within the first
        1,000 lines or elements), or None.
    reason : str
        Why there is none (empty when ``record`` is found).

    Examples
    --------
    >>> first_record('not json\\n{"a": 1}\\n')
    ((2, {'a': 1}), '')
    >>> first_record("[]")
    (None, 'the JSON list is empty')
    """
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
                first_error = first_error or f"the first record is not valid JSON ({json_reason(e)})"
                found = _resync(text, pos, pos + 1)
                if found is None:
                    break
                pos = found
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
                first_error = first_error or f"line {number} is not valid JSON ({json_reason(e)})"
        if end < 0:
            break
        pos = end + 1
    return None, first_error or "no JSON record found"


def json_reason(error: Exception) -> str:
    """Why JSON did not parse, in a few words.

    Parameters
    ----------
    error : Exception
        What parsing raised: a syntax error (``JSONDecodeError``), nesting too
        deep (``RecursionError``) or an integer too long to convert (``ValueError``).

    Returns
    -------
    str
        E.g. ``"Expecting value at column 3"``.

    Examples
    --------
    >>> try:
    ...     json.loads("[1,")
    ... except ValueError as error:
    ...     print(json_reason(error))
    Expecting value at column 4
    """
    if isinstance(error, json.JSONDecodeError):
        return f"{error.msg.removesuffix(' at')} at column {error.colno}"
    if isinstance(error, RecursionError):
        return "nested too deeply"
    return f"a number of more than {sys.get_int_max_str_digits()} digits"


def json_records(source: Source) -> Iterator[Record]:
    """Records of a JSON list (when the text starts with ``[``) or of JSONL, with their lines.

    A record holding a lone surrogate (an escape such as ``"\\ud800"`` not
    paired with a low one) is reported and dropped: it is not Unicode text, and
    hashing or storing it would fail. Syntax errors are reported on ``source``
    and reading goes on where it can.

    Parameters
    ----------
    source : Source
        The file.

    Yields
    ------
    Record
        ``(line, value)``: each parsed value and the line where it starts.

    Examples
    --------
    >>> source = Source("x.jsonl", '{"a": 1}\\n\\nnot json\\n[2]\\n')
    >>> list(json_records(source)), [str(p) for p in source.problems]
    ([(1, {'a': 1}), (4, [2])], ['x.jsonl:3: json: not valid JSON (Expecting value at column 1)'])
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


def _json_lines(source: Source) -> Iterator[Record]:
    pos = 0
    for number, line in enumerate(source.text.split("\n"), start=1):
        source.advance(pos)
        pos += len(line) + 1
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (ValueError, RecursionError) as e:
            source.problem(number, "json", f"not valid JSON ({json_reason(e)})")
            continue
        yield number, record


def _json_list(source: Source, start: int) -> Iterator[Record]:
    """Elements of the JSON list starting at ``start``, each with the line its value starts on.

    When the second element starts on the line of the first (a list written on
    one line), every element is keyed by the character where it starts
    instead, and :attr:`Source.packed` gives its number in the list.

    After a syntax error inside an element, reading resumes at the next line that
    opens an object at the same indentation (the layout of pretty-printed files),
    so later problems are still found; otherwise the rest is not checked.
    """
    text = source.text
    decoder = json.JSONDecoder()
    lines = _LineCounter(text)
    pos = start + 1
    element_start = start
    packed = _packed(text, start)
    number = 0
    while True:
        pos = _skip_ws(text, pos)
        source.advance(pos)
        if pos >= len(text):
            message = "not valid JSON (the list is not closed with ']')"
            source.problem(lines.at(len(text)), "json", message, whole_file=True)
            return
        if text[pos] == "]":
            end = _skip_ws(text, pos + 1)
            if end < len(text):
                source.problem(
                    lines.at(end), "json", "not valid JSON (text after the closing ']')", whole_file=True
                )
            return
        element_start = pos
        try:
            record, end = decoder.raw_decode(text, pos)
        except (ValueError, RecursionError) as e:
            line = e.lineno if isinstance(e, json.JSONDecodeError) else lines.at(pos)
            resumed = _resync(text, element_start, pos + 1)
            rest = "" if resumed is not None else "; the rest of the file was not checked"
            source.problem(line, "json", f"not valid JSON ({json_reason(e)}){rest}", whole_file=True)
            if resumed is None:
                return
            pos = resumed
            continue
        number += 1
        line = lines.at(element_start)
        if packed:
            line = element_start + 1
            source.packed[line] = number
        source.spans[line] = (element_start, end)
        yield line, record
        pos = _skip_ws(text, end)
        if text.startswith(",", pos):
            if text.startswith("]", _skip_ws(text, pos + 1)):
                message = "not valid JSON (a comma before the closing ']')"
                source.problem(lines.at(pos), "json", message, whole_file=True)
            pos += 1
        elif pos < len(text) and text[pos] not in "]{[":
            line = lines.at(pos)
            resumed = _resync(text, element_start, pos)
            rest = "" if resumed is not None else "; the rest of the file was not checked"
            message = f"not valid JSON (expected ',' or ']' after a record){rest}"
            source.problem(line, "json", message, whole_file=True)
            if resumed is None:
                return
            pos = resumed
        elif pos < len(text) and text[pos] != "]":
            message = "not valid JSON (missing ',' between records)"
            source.problem(lines.at(pos), "json", message, whole_file=True)


def _packed(text: str, start: int) -> bool:
    """Whether the second element of the JSON list at ``start`` starts on the line of the first."""
    first = _skip_ws(text, start + 1)
    try:
        _, end = json.JSONDecoder().raw_decode(text, first)
    except (ValueError, RecursionError):
        return False
    after = _skip_ws(text, end)
    if not text.startswith(",", after):
        return False
    second = _skip_ws(text, after + 1)
    return second < len(text) and text[second] != "]" and "\n" not in text[first:second]


def _resync(text: str, element_start: int, search_from: int) -> int | None:
    """Where the next element at the same indentation as the one at ``element_start`` begins."""
    line_start = text.rfind("\n", 0, element_start) + 1
    indent = text[line_start:element_start]
    if indent.strip() or not text.startswith("{", element_start):
        return None
    found = re.compile(r"\n" + re.escape(indent) + r"\{").search(text, search_from)
    return None if found is None else found.end() - 1


def is_object(source: Source, line: int | None, record: Any) -> bool:
    """Whether a record is a JSON object; if not, report it.

    Parameters
    ----------
    source : Source
        The file, where the problem is reported.
    line : int or None
        The record's line.
    record : object
        The parsed JSON value.

    Returns
    -------
    bool
        True for a dict.
    """
    if isinstance(record, dict):
        return True
    source.problem(line, "pair", f"must be an object, got {type(record).__name__}")
    return False


def text_fields(source: Source, line: int | None, record: dict, keys: Iterable[str]) -> list[str] | None:
    """The text fields ``keys`` of ``record``; a problem for each one missing, not text or empty.

    Parameters
    ----------
    source : Source
        The file, where problems are reported.
    line : int or None
        The record's line.
    record : dict
        The record.
    keys : iterable of str
        The fields that must hold non-blank text.

    Returns
    -------
    list of str or None
        The values in the order of ``keys``, or None when any is missing or wrong.
    """
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


def first_is_a(*texts: str) -> bool:
    """Seeded coin flip on content: True for about half of all inputs, always the same for one.

    True when the first byte of ``sha256(SIDE_SEED, *texts)`` (joined by
    ``\\x1f``, UTF-8) is even.

    Parameters
    ----------
    *texts : str
        The content that decides, e.g. a prompt and its two responses.

    Returns
    -------
    bool
        Whether the first of the two responses becomes A.

    Examples
    --------
    >>> first_is_a("prompt", "chosen", "rejected") == first_is_a("prompt", "chosen", "rejected")
    True
    """
    digest = hashlib.sha256("\x1f".join((SIDE_SEED, *texts)).encode("utf-8")).digest()
    return digest[0] % 2 == 0


def chat_messages(value: Any) -> list[tuple[str, str]] | str:
    """``[(role, content), ...]`` of a list of ``{role, content}`` messages, or why it is not one.

    Parameters
    ----------
    value : object
        A record's field, expected to be a list of ``{"role": str, "content": str}``.

    Returns
    -------
    list of (str, str) or str
        The messages, roles trimmed and in lower case; or a sentence saying
        what is wrong with ``value``.

    Examples
    --------
    >>> chat_messages([{"role": "User", "content": "hi"}])
    [('user', 'hi')]
    >>> chat_messages("hi")
    'must be a list of {role, content} messages'
    """
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


def exchanges(value: Any) -> list[tuple[str, str]] | str:
    """``[(user message, assistant answer), ...]`` of a conversation, or why it is malformed.

    System messages are left out; otherwise user and assistant messages must alternate,
    starting with the user. A last user message without an answer is dropped.

    Parameters
    ----------
    value : object
        A record's field, expected to be a list of ``{"role": str, "content": str}``.

    Returns
    -------
    list of (str, str) or str
        The answered turns, or a sentence saying what is wrong with ``value``.

    Examples
    --------
    >>> exchanges([{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}])
    [('hi', 'hello')]
    >>> exchanges([{"role": "assistant", "content": "hello"}])
    'message 1 (assistant) breaks the user/assistant alternation'
    """
    messages = chat_messages(value)
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


def turn_texts(
    exchanges_a: list[tuple[str, str]], exchanges_b: list[tuple[str, str]], turn: int
) -> tuple[str, str, str]:
    """``(prompt, response_a, response_b)`` at ``turn`` of two conversations that ask the same.

    The earlier turns go into the prompt: each question as ``[Turn N, user]``, the
    two answers as ``[Turn N, assistant A]`` and ``[Turn N, assistant B]`` (one
    ``[Turn N, assistant]`` when they are the same), then ``[Turn T, user]`` and the
    question asked at ``turn``. At turn 1 the prompt is that question alone.

    Parameters
    ----------
    exchanges_a, exchanges_b : list of (str, str)
        The two conversations' turns, as :func:`exchanges` gives them, with at least ``turn`` each.
    turn : int
        The turn whose answers are compared, from 1.

    Returns
    -------
    tuple of str
        The prompt and the two answers at ``turn`` (trimmed).

    Examples
    --------
    >>> first = [("2+2?", "4"), ("And 3+3?", "6")]
    >>> second = [("2+2?", "four"), ("And 3+3?", "six")]
    >>> prompt, a, b = turn_texts(first, second, 2)
    >>> print(prompt)
    [Turn 1, user]
    2+2?
    <BLANKLINE>
    [Turn 1, assistant A]
    4
    <BLANKLINE>
    [Turn 1, assistant B]
    four
    <BLANKLINE>
    [Turn 2, user]
    And 3+3?
    >>> a, b
    ('6', 'six')
    """
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


def table_records(source: Source) -> Iterator[Record]:
    """Records of JSON (a list, or JSON Lines) or, when the text does not start like JSON, of CSV.

    A CSV row becomes a dict from the header's names (trimmed, as written) to
    its cells; empty cells are left out, so they count as missing, and
    ``source.header`` holds the header. A name repeated in the header, and a row
    the CSV reader cannot parse (an unclosed quote may hide the rows after it),
    are problems of the whole file; a row with more cells than the header is a
    problem of that row.

    Parameters
    ----------
    source : Source
        The file.

    Yields
    ------
    Record
        ``(line, value)``: each record and the line where it starts.

    Examples
    --------
    >>> source = Source("x.csv", "q,label\\nHi,1\\n,2\\n")
    >>> list(table_records(source)), source.header
    ([(2, {'q': 'Hi', 'label': '1'}), (3, {'label': '2'})], ['q', 'label'])
    """
    if source.text.lstrip().startswith(("[", "{")):
        yield from json_records(source)
        return
    csv.field_size_limit(max(csv.field_size_limit(), 4 * MAX_TEXT_CHARS))
    start = 0
    for line, row, read in csv_rows(source.text):
        span, start = (start, read), read
        source.advance(read)
        if isinstance(row, csv.Error):
            source.problem(line, "csv", f"not valid CSV ({row})", whole_file=True)
            continue
        if source.header is None:
            source.header = [cell.strip() for cell in row]
            counts = Counter(source.header)
            for name in sorted(name for name, n in counts.items() if name and n > 1):
                source.problem(line, "header", f"column {name!r} appears more than once", whole_file=True)
            continue
        source.spans[line] = span
        if len(row) > len(source.header):
            source.problem(line, "csv", f"{len(row)} fields but the header has {len(source.header)}")
            continue
        yield line, {key: cell for key, cell in zip(source.header, row, strict=False) if key and cell.strip()}
