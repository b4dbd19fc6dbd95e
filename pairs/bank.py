"""The pair bank: what a pair is, how it is validated, and stable ids.

A bank is a :class:`pandas.DataFrame` with one row per pair and the columns in
:data:`COLUMNS`:

========================  ==========================================================
column                    meaning
========================  ==========================================================
``id``                    stable identifier (from the source, or a content hash)
``prompt``                what the user asked
``response_a``            the first response
``response_b``            the second response
``gold``                  the expert judgment: ``"A"``, ``"B"`` or ``"tie"``
``rationale``             the expert's reason, shown to a rater after answering
``tags``                  tuple of trap kinds (``length``, ``polish``, ``constraint``,
                          ``factual``, ``sycophancy``, ``control``, ...)
``domain``                optional subject area (``coding``, ``math``, ...) or ``""``
``source``                optional origin (``llmbar``, ``paircal-starter``, ...) or ``""``
``gold_confidence``       optional expert certainty in [0.5, 1], NaN when unknown
``probe``                 ``""`` for an ordinary pair; for a counterfactual probe its
                          kind: ``polish``, ``padding`` or ``authority``
``probe_of``              a probe's base: the id of the decided pair it was derived
                          from (``""`` for an ordinary pair)
``styled``                a probe's restyled response, ``"A"`` or ``"B"`` (``""`` for
                          an ordinary pair); the other response is the base's, unchanged
``line``                  line in the source file the pair came from (not stored)
========================  ==========================================================

A *probe* (:mod:`pairs.probes`) differs from its base pair only in the style of
its ``styled`` response, so a rater who answers both and switches does so for
style alone. It keeps the base's prompt, gold (``A`` or ``B``, never a tie),
confidence, domain and source. Its base need not be in the same file: probes
may be imported on their own into a bank that holds the bases.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from pairs.errors import Problem, raise_if_any, shown

COLUMNS = [
    "id",
    "prompt",
    "response_a",
    "response_b",
    "gold",
    "rationale",
    "tags",
    "domain",
    "source",
    "gold_confidence",
    "probe",
    "probe_of",
    "styled",
]
PROBE_COLUMNS = ("probe", "probe_of", "styled")
"""The columns that mark a counterfactual probe; all ``""`` on an ordinary pair."""
PROBE_KINDS = ("polish", "padding", "authority")
"""The kinds of style a probe adds to one response."""
STARTER_BANK_PATH = Path(__file__).resolve().parent / "data" / "starter_bank.jsonl"
"""The shipped, hand-written starter bank (JSON Lines)."""
STARTER_BANK_NAME = "starter"
"""The name the starter bank has in the database."""
REQUIRED = ["prompt", "response_a", "response_b", "gold"]
GOLD_VALUES = ("A", "B", "tie")
KNOWN_TAGS = ("length", "polish", "constraint", "factual", "sycophancy", "control")
MAX_TEXT_CHARS = 200_000
# The widths of the store's columns pairs.pair_id, pairs.domain and pairs.source
# (PostgreSQL refuses a longer value; tests/test_fuzz.py checks they agree).
MAX_ID_CHARS = 200
MAX_DOMAIN_CHARS = 100
MAX_SOURCE_CHARS = 200
_NOT_STORABLE = re.compile(r"[\x00\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as text, or None.

    A NUL character (PostgreSQL refuses it) or a lone surrogate (from a JSON
    escape such as ``\\ud800``: not Unicode, so it cannot be encoded as UTF-8).

    Parameters
    ----------
    value : str
        A text about to be stored.

    Returns
    -------
    str or None
        The reason, worded for a problem message, or None when ``value`` can be stored.

    Examples
    --------
    >>> text_problem("fine"), text_problem("a\\x00b")
    (None, 'contains a NUL character (\\\\u0000)')
    """
    found = _NOT_STORABLE.search(value)
    if found is None:
        return None
    if found.group() == "\x00":
        return "contains a NUL character (\\u0000)"
    return f"not valid Unicode: a lone surrogate {found.group()!r}"


def content_id(prompt: str, response_a: str, response_b: str) -> str:
    """Stable id for a pair whose source has none: a hash of its texts.

    The id does not depend on gold, rationale or tags, so re-importing the
    same texts with a corrected gold keeps the id (and the judgments on it).

    Parameters
    ----------
    prompt, response_a, response_b : str
        The pair's texts.

    Returns
    -------
    str
        ``"p-"`` and the first 12 hex digits of the SHA-256 of the texts as a JSON list.

    Examples
    --------
    >>> content_id("Say hi", "hi", "hello")
    'p-46f874c67015'
    """
    digest = hashlib.sha256(
        json.dumps([prompt, response_a, response_b], ensure_ascii=False).encode("utf-8")
    ).hexdigest()
    return "p-" + digest[:12]


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str):
        return value
    return None


def _parse_tags(value: Any) -> tuple[tuple[str, ...], str | None]:
    """Tags come as a list (JSON) or a string separated by ``,``, ``;`` or ``|`` (CSV)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return (), None
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except (ValueError, RecursionError):  # JSONDecodeError, a number too long, nesting too deep
                return (), "not a list of tags"
        else:
            for sep in ";|":
                text = text.replace(sep, ",")
            return tuple(t.strip().lower() for t in text.split(",") if t.strip()), None
    if isinstance(value, (list, tuple)):
        if not all(isinstance(t, str) for t in value):
            return (), "every tag must be a string"
        for t in value:
            if problem := text_problem(t):
                return (), f"tag {shown(t)}: {problem}"
        return tuple(t.strip().lower() for t in value if t.strip()), None
    return (), "must be a list of strings"


def _parse_gold(value: Any) -> str | None:
    if isinstance(value, str):
        v = value.strip()
        if v.upper() in ("A", "B"):
            return v.upper()
        if v.lower() == "tie":
            return "tie"
    return None


def _parse_confidence(value: Any) -> tuple[float, str | None]:
    if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
        return math.nan, None
    if isinstance(value, bool):
        return math.nan, "must be a number in [0.5, 1]"
    try:
        x = float(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: an integer of 400 digits
        return math.nan, f"must be a number in [0.5, 1], got {shown(value)}"
    if not 0.5 <= x <= 1.0:
        return math.nan, f"must be in [0.5, 1], got {x:g}"
    return x, None


def _parse_probe(rec: dict, gold: str | None) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """A record's :data:`PROBE_COLUMNS` (``""`` when absent) and what is wrong with them.

    A probe names its kind, its base (``probe_of``) and the restyled response
    (``styled``), and its gold is ``A`` or ``B``; an ordinary pair has none of them.
    """
    marks: dict[str, str] = {}
    problems: list[tuple[str, str]] = []
    for field in PROBE_COLUMNS:
        raw = rec.get(field)
        if raw is None or (isinstance(raw, float) and math.isnan(raw)):
            marks[field] = ""
        elif isinstance(raw, int) and not isinstance(raw, bool) and field == "probe_of":
            marks[field] = str(raw)
        elif not isinstance(raw, str):
            problems.append((field, f"must be text, got {type(raw).__name__}"))
            marks[field] = ""
        else:
            value = raw.strip()
            if problem := text_problem(value):
                problems.append((field, problem))
                value = ""
            marks[field] = {"probe": value.lower(), "styled": value.upper()}.get(field, value)
    if problems:
        return marks, problems
    probe, base, styled = marks["probe"], marks["probe_of"], marks["styled"]
    if not probe:
        for field in ("probe_of", "styled"):
            if marks[field]:
                problems.append(
                    (field, f"set to {shown(rec[field])} but probe is empty: only a probe has a {field}")
                )
        return marks, problems
    if probe not in PROBE_KINDS:
        problems.append(
            ("probe", f"must be one of {', '.join(PROBE_KINDS)} (or empty), got {shown(rec['probe'])}")
        )
    if not base:
        problems.append(("probe_of", "missing: a probe names the id of the pair it was derived from"))
    elif len(base) > MAX_ID_CHARS:
        problems.append(("probe_of", f"longer than {MAX_ID_CHARS} characters"))
    if styled not in ("A", "B"):
        got = "nothing" if not styled else shown(rec["styled"])
        problems.append(("styled", f"a probe's restyled response must be A or B, got {got}"))
    if gold == "tie":
        problems.append(("gold", "a probe's gold must be A or B: a probe is derived from a decided pair"))
    return marks, problems


def validate_records(
    records: Iterable[tuple[int | None, Any]], file: str
) -> tuple[pd.DataFrame, list[Problem]]:
    """Check raw pair records and build a bank.

    Parameters
    ----------
    records : iterable of (line, dict)
        Each record with the line it starts on in ``file``.
    file : str
        File name used in problem messages.

    Returns
    -------
    bank : DataFrame
        The valid pairs, columns :data:`COLUMNS` plus ``line``.
    problems : list of Problem
        Every problem found; when not empty the bank must not be imported.

    Notes
    -----
    A probe's ``probe_of`` may name an id that is not among ``records``: probes
    may come in a file of their own, to join a bank that already holds their
    bases. Only a probe naming itself as its base is refused here.
    """
    problems: list[Problem] = []
    rows: list[dict[str, Any]] = []
    seen: dict[str, tuple[int | None, tuple]] = {}

    def bad(line: int | None, field: str, message: str) -> None:
        problems.append(Problem(file, line, field, message))

    for line, rec in records:
        if not isinstance(rec, dict):
            bad(line, "pair", f"must be an object, got {type(rec).__name__}")
            continue
        ok = True
        texts: dict[str, str] = {}
        for field in ("prompt", "response_a", "response_b"):
            raw = rec.get(field)
            if field not in rec or raw is None or (isinstance(raw, float) and math.isnan(raw)):
                bad(line, field, "missing")
                ok = False
                continue
            value = _text(raw)
            if value is None:
                bad(line, field, f"must be text, got {type(raw).__name__}")
                ok = False
            elif not value.strip():
                bad(line, field, "empty")
                ok = False
            elif len(value) > MAX_TEXT_CHARS:
                bad(line, field, f"longer than {MAX_TEXT_CHARS:,} characters")
                ok = False
            elif problem := text_problem(value):
                bad(line, field, problem)
                ok = False
            else:
                texts[field] = value
        if "gold" not in rec or rec.get("gold") is None:
            bad(line, "gold", "missing")
            ok = False
            gold = None
        else:
            gold = _parse_gold(rec["gold"])
            if gold is None:
                bad(line, "gold", f"must be A, B or tie, got {shown(rec['gold'])}")
                ok = False
        tags, tag_error = _parse_tags(rec.get("tags"))
        if tag_error:
            bad(line, "tags", tag_error)
            ok = False
        conf, conf_error = _parse_confidence(rec.get("gold_confidence"))
        if conf_error:
            bad(line, "gold_confidence", conf_error)
            ok = False
        optional: dict[str, str] = {}
        for field, limit in (("rationale", None), ("domain", MAX_DOMAIN_CHARS), ("source", MAX_SOURCE_CHARS)):
            raw = rec.get(field)
            if raw is None or (isinstance(raw, float) and math.isnan(raw)):
                optional[field] = ""
            elif not isinstance(raw, str):
                bad(line, field, f"must be text, got {type(raw).__name__}")
                ok = False
            else:
                value = raw.strip().lower() if field == "domain" else raw.strip()
                if limit is not None and len(value) > limit:
                    bad(line, field, f"longer than {limit} characters")
                    ok = False
                elif problem := text_problem(value):
                    bad(line, field, problem)
                    ok = False
                optional[field] = value
        raw_id = rec.get("id")
        if raw_id is None or (isinstance(raw_id, float) and math.isnan(raw_id)) or raw_id == "":
            pid = None
        elif isinstance(raw_id, (str, int)) and not isinstance(raw_id, bool):
            pid = str(raw_id).strip() or None
            if pid is not None and len(pid) > MAX_ID_CHARS:
                bad(line, "id", f"longer than {MAX_ID_CHARS} characters")
                ok = False
            elif pid is not None and (problem := text_problem(pid)):
                bad(line, "id", problem)
                ok = False
        else:
            bad(line, "id", f"must be text, got {type(raw_id).__name__}")
            ok = False
            pid = None
        marks, mark_problems = _parse_probe(rec, gold)
        for field, message in mark_problems:
            bad(line, field, message)
            ok = False
        if not ok:
            continue
        if pid is None:
            pid = content_id(texts["prompt"], texts["response_a"], texts["response_b"])
        if marks["probe"] and marks["probe_of"] == pid:
            bad(
                line,
                "probe_of",
                "a probe cannot be its own base: name the id of the pair it was derived from",
            )
            continue
        row = {
            "id": pid,
            **texts,
            "gold": gold,
            "rationale": optional["rationale"],
            "tags": tags,
            "domain": optional["domain"],
            "source": optional["source"],
            "gold_confidence": conf,
            **marks,
            "line": line,
        }
        key = tuple(row[c] for c in COLUMNS if c not in ("id", "gold_confidence")) + (
            None if math.isnan(conf) else conf,
        )
        if pid in seen:
            first_line, first_key = seen[pid]
            if first_key != key:
                bad(line, "id", f"duplicate id {pid!r} with different content (first on line {first_line})")
            # an exact repeat of a pair is harmless: keep the first
            continue
        seen[pid] = (line, key)
        rows.append(row)
    bank = pd.DataFrame(rows, columns=COLUMNS + ["line"])
    if not rows and not problems:
        problems.append(Problem(file, None, "pairs", "no pairs found"))
    return bank, problems


def build_bank(records: Iterable[tuple[int | None, Any]], file: str) -> pd.DataFrame:
    """Like :func:`validate_records` but raise :class:`~pairs.errors.InputError` on any problem.

    Parameters
    ----------
    records : iterable of (line, dict)
        Each record with the line it starts on in ``file``.
    file : str
        The file's name, for the messages.

    Returns
    -------
    DataFrame
        The bank: :data:`COLUMNS` plus ``line``.

    Raises
    ------
    InputError
        Listing every problem, when there is any.
    """
    bank, problems = validate_records(records, file)
    raise_if_any(problems)
    return bank


def with_probe_columns(bank: pd.DataFrame) -> pd.DataFrame:
    """``bank`` with the :data:`PROBE_COLUMNS` it lacks added, empty: a frame made before probes existed.

    Parameters
    ----------
    bank : DataFrame
        A bank that may lack ``probe``, ``probe_of`` and ``styled``.

    Returns
    -------
    DataFrame
        ``bank`` itself when it has them all, else a copy with each missing one ``""``.

    Examples
    --------
    >>> frame = pd.DataFrame({"id": ["p1"], "gold": ["A"]})
    >>> with_probe_columns(frame).columns.tolist()
    ['id', 'gold', 'probe', 'probe_of', 'styled']
    """
    missing = [c for c in PROBE_COLUMNS if c not in bank.columns]
    if not missing:
        return bank
    return bank.assign(**dict.fromkeys(missing, ""))


def bank_to_records(bank: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of a bank as JSON-ready dicts in the native format (no ``line``).

    Parameters
    ----------
    bank : DataFrame
        A bank with the :data:`COLUMNS`.

    Returns
    -------
    list of dict
        One per pair, keys in :data:`COLUMNS` order; ``tags`` as a list,
        ``gold_confidence`` left out when unknown, empty texts as ``""``; the
        :data:`PROBE_COLUMNS` only on a probe (an ordinary pair's record has none).

    Examples
    --------
    >>> bank = build_bank([(1, {"prompt": "q", "response_a": "a", "response_b": "b", "gold": "A"})], "x")
    >>> bank_to_records(bank)[0]["tags"], "gold_confidence" in bank_to_records(bank)[0]
    ([], False)
    """
    out = []
    for row in with_probe_columns(bank)[COLUMNS].itertuples(index=False):
        rec = dict(zip(COLUMNS, row, strict=True))
        rec["tags"] = list(rec["tags"])
        conf = rec["gold_confidence"]
        if conf is None or (isinstance(conf, float) and math.isnan(conf)):
            del rec["gold_confidence"]
        for field in ("domain", "source", "rationale"):
            if not rec[field]:
                rec[field] = ""
        if isinstance(rec["probe"], str) and rec["probe"]:
            for field in ("probe_of", "styled"):
                rec[field] = rec[field] or ""
        else:  # an ordinary pair's record is as it was before probes existed
            for field in PROBE_COLUMNS:
                del rec[field]
        out.append(rec)
    return out
