"""The whole store as a directory of plain files: export, and import into an empty database.

``python -m pairs store export DIR`` writes, and ``python -m pairs store import DIR``
reads back, this layout (one header row per CSV file), version 2:

=========================  ==================================================================
file                       content, one row per ...
=========================  ==================================================================
``paircal-store.json``     the format name and version, and the rows of each file below
``settings.csv``           setting: ``key, value``
``banks.csv``              bank: ``name, file, source_file, created_at, owner_cohort,
                           read_only``
``banks/NNN-name.jsonl``   pair of a bank, in order: the native JSONL of ``python -m pairs export``
``cohorts.csv``            cohort: ``name, invite_code, bank, drill_size, simulated, created_at,
                           tie_answers``
``raters.csv``             rater: ``cohort, name, role, simulated, created_at, kind, admin,
                           removed_at``
``drill_items.csv``        drill item: ``cohort, rater, drill, position, bank, pair_id, left,
                           shown_at``
``judgments.csv``          judgment: ``cohort, rater, bank, pair_id, drill, drill_date, choice,
                           confidence, left, shown_at, answered_at, seconds, repeat``
``invites.csv``            invitation to lead a cohort: ``token_hash, cohort, role, created_at,
                           expires_at, used_at, used_by``
``identities.csv``         sign-in through an identity provider: ``issuer, subject, cohort,
                           rater, created_at``
``pair_changes.csv``       recorded change of a pair in the gold audit: ``bank, pair_id, field,
                           old, new, changed_by_cohort, changed_by, changed_by_name,
                           changed_at``
``retired_pairs.csv``      retired pair (never drawn into a drill again): ``bank, pair_id,
                           retired_at``
``cohort_guidelines.csv``  cohort's rating guidelines: ``cohort, text, updated_at, updated_by``
``assessment_pairs.csv``   pair a cohort set aside for assessment forms: ``cohort, bank,
                           pair_id, form, marked_at``
``assessment_plans.csv``   cohort's assessment schedule and bar: ``cohort, bank,
                           post_after_days, post_after_drills, retention_after_days,
                           time_limit_minutes, min_accuracy, max_overconfidence, updated_at``
``assessment_attempts.csv`` rater's attempt at one stage's form: ``cohort, rater, stage, form,
                           bank, started_at, deadline, closed_at``
``assessment_answers.csv`` item of an attempt and its answer: ``cohort, rater, stage,
                           position, pair_id, left, choice, confidence, shown_at,
                           answered_at, seconds``
=========================  ==================================================================

A cohort, a rater or a bank is named, never numbered: ``owner_cohort`` is the
name of the cohort that owns a bank (empty: the server's shared bank),
``used_by`` the name of the person who used an invitation, a rater of the
invitation's cohort (empty: not used), and ``cohort, rater`` name a rater. ``kind`` is
``account`` (a person who signs in) or ``imported`` (a name from a judgments
import or a simulation); ``removed_at`` is when a lead removed the rater
(empty: not removed); ``repeat`` marks a judgment of a pair its rater had
answered before. ``tie_answers`` says whether the cohort's raters may answer
"About equally good" (a judgment's ``choice`` is then ``tie``); a version-2
``cohorts.csv`` written before that column joined it is read with it off. A
recorded change's ``field`` is ``gold``, ``rationale`` or ``retired`` (a
retirement or a return: ``old`` and ``new`` are ``yes`` or ``no``);
``changed_by_cohort, changed_by`` name the rater who made it (both empty: that
rater was deleted since), and ``changed_by_name`` is the name
the record shows, as it was then. ``updated_by`` is the rater of the cohort who
last wrote its guidelines (empty: deleted since); ``text`` is their Markdown.

Conventions: UTF-8 with ``\\n`` line ends; times in ISO 8601 UTC with
microseconds (``2026-11-20T09:00:00.000000Z``), dates ``YYYY-MM-DD``, booleans
``true``/``false``, an empty cell for a missing value. A text cell starting
with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading
apostrophe, so a spreadsheet shows it instead of running it (as in every
PairCal CSV); so that this can be undone exactly, a text cell that itself
starts with an apostrophe gets one more. The import removes exactly one
leading apostrophe from every text cell that has one.

What is not exported: password hashes, session tokens, failed sign-in counts
and locks. Imported people therefore have no password until an administrator
sets one (``python -m pairs accounts set-password``); people who sign in
through an identity provider keep their ``identities.csv`` rows and can sign in
as before. Cohort invite codes *are* exported, so a moved cohort keeps its code:
they are secrets, keep the directory private. So are the ``token_hash`` cells
of ``invites.csv``: only a hash of each lead invitation's code, which cannot be
turned back into the code, but treat them as sensitive as the invite codes.
``identities.csv`` names people at their identity provider.

Nor is what is not data: the text counts kept for each bank
(``bank_text_counts``, derived from its pairs: counted again when the import
loads the banks), and each bank's ``revision``, a counter raised by every
change to its pairs under which the servers cache the bank and what is built
on it. The import leaves each bank's revision as loading its pairs sets it (1,
as for any bank newly loaded), whatever it was in the exported store.

Rows are written in the order they were stored (invitations, identities and
retired pairs, which have no such order, by their time and then their key;
guidelines in the order of their cohorts), and the import stores them in file
order, all in one transaction into an empty database, so export, import,
export gives byte-identical files, whichever of SQLite and PostgreSQL is on
either side.

The three files of the gold audit and the guidelines (``pair_changes.csv``,
``retired_pairs.csv`` and ``cohort_guidelines.csv``), and the four of the
assessment forms (``assessment_*.csv``), joined version 2 after
its first exports were written: a version-2 directory without one of them,
whose manifest lists no rows for it, is read with that table empty (a missing
file whose rows the manifest lists is an error, as for any other file).

Version 1, written before banks had owners and raters had kinds, is read
too: the same files less ``invites.csv``, ``identities.csv`` and the three
files above, and less the columns ``owner_cohort``, ``read_only``, ``kind``,
``admin``, ``removed_at`` and ``repeat``. The import fills those as the
database upgrade (revision ``0002``) does, with what a version-1 export holds
(it has no passwords):

* a bank used by exactly one cohort is that cohort's, unless it is the starter
  bank; every other bank is the server's, and the server's banks are read-only;
* a rater is ``imported`` when not a lead, with no drill item, and either
  simulated or with a judgment (a name from a judgments import or a
  simulation); everyone else is an ``account`` (the upgrade tells the two apart
  by the password, which the export does not hold: a rater who joined with the
  invite code but never drilled has neither drill items nor judgments);
* the first lead in ``raters.csv`` (the oldest) is the admin; nobody is removed;
* a judgment is a repeat when an earlier row of ``judgments.csv`` has the same
  rater, bank and pair;
* there are no invitations, identities, recorded changes, retired pairs,
  guidelines or assessments.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import math
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pairs.bank import COLUMNS as BANK_COLUMNS
from pairs.bank import STARTER_BANK_NAME, bank_to_records
from pairs.errors import InputError, Problem
from pairs.files import atomic_write
from pairs.judgments import neutralize_formula
from storage.audit import FIELDS as CHANGE_FIELDS
from storage.schema import (
    STAGES,
    as_utc,
    assessment_answers,
    assessment_attempts,
    assessment_pairs,
    assessment_plans,
    cohort_guidelines,
    identities,
    invites,
    pair_changes,
    retired_pairs,
)
from storage.store import Store, banks, cohorts, drill_items, judgments, metadata, raters, settings

DERIVED_TABLES = ("bank_text_counts",)
"""Tables of data derived from the rest: not exported, made again when banks are imported."""

FORMAT = "paircal-store"
VERSION = 2
MANIFEST = "paircal-store.json"
BANK_DIR = "banks"

# Each CSV file and its columns, with the kind of value in each (see _ENCODE and _DECODE).
FILES: dict[str, dict[str, str]] = {
    "settings.csv": {"key": "text", "value": "text"},
    "banks.csv": {
        "name": "text",
        "file": "text",
        "source_file": "text",
        "created_at": "time",
        "owner_cohort": "text?",
        "read_only": "bool",
    },
    "cohorts.csv": {
        "name": "text",
        "invite_code": "text",
        "bank": "text?",
        "drill_size": "int",
        "simulated": "bool",
        "created_at": "time",
        "tie_answers": "bool",
    },
    "raters.csv": {
        "cohort": "text",
        "name": "text",
        "role": "text",
        "simulated": "bool",
        "created_at": "time",
        "kind": "text",
        "admin": "bool",
        "removed_at": "time?",
    },
    "drill_items.csv": {
        "cohort": "text",
        "rater": "text",
        "drill": "text",
        "position": "int",
        "bank": "text",
        "pair_id": "text",
        "left": "text",
        "shown_at": "time?",
    },
    "judgments.csv": {
        "cohort": "text",
        "rater": "text",
        "bank": "text",
        "pair_id": "text",
        "drill": "text",
        "drill_date": "date?",
        "choice": "text",
        "confidence": "float?",
        "left": "text?",
        "shown_at": "time?",
        "answered_at": "time?",
        "seconds": "float?",
        "repeat": "bool",
    },
    "invites.csv": {
        "token_hash": "text",
        "cohort": "text",
        "role": "text",
        "created_at": "time",
        "expires_at": "time",
        "used_at": "time?",
        "used_by": "text?",
    },
    "identities.csv": {
        "issuer": "text",
        "subject": "text",
        "cohort": "text",
        "rater": "text",
        "created_at": "time",
    },
    "pair_changes.csv": {
        "bank": "text",
        "pair_id": "text",
        "field": "text",
        "old": "text",
        "new": "text",
        "changed_by_cohort": "text?",
        "changed_by": "text?",
        "changed_by_name": "text",
        "changed_at": "time",
    },
    "retired_pairs.csv": {
        "bank": "text",
        "pair_id": "text",
        "retired_at": "time",
    },
    "cohort_guidelines.csv": {
        "cohort": "text",
        "text": "text",
        "updated_at": "time",
        "updated_by": "text?",
    },
    "assessment_pairs.csv": {
        "cohort": "text",
        "bank": "text",
        "pair_id": "text",
        "form": "text",
        "marked_at": "time",
    },
    "assessment_plans.csv": {
        "cohort": "text",
        "bank": "text",
        "post_after_days": "int?",
        "post_after_drills": "int?",
        "retention_after_days": "int?",
        "time_limit_minutes": "int",
        "min_accuracy": "float",
        "max_overconfidence": "float",
        "updated_at": "time",
    },
    "assessment_attempts.csv": {
        "cohort": "text",
        "rater": "text",
        "stage": "text",
        "form": "text",
        "bank": "text",
        "started_at": "time",
        "deadline": "time",
        "closed_at": "time?",
    },
    "assessment_answers.csv": {
        "cohort": "text",
        "rater": "text",
        "stage": "text",
        "position": "int",
        "pair_id": "text",
        "left": "text",
        "choice": "text?",
        "confidence": "float?",
        "shown_at": "time?",
        "answered_at": "time?",
        "seconds": "float?",
    },
}
ASSESSMENT_FILES = (
    "assessment_pairs.csv",
    "assessment_plans.csv",
    "assessment_attempts.csv",
    "assessment_answers.csv",
)
# Files that joined version 2 after its first exports: a version-2 directory may lack them.
LATER_IN_2_FILES = ("pair_changes.csv", "retired_pairs.csv", "cohort_guidelines.csv", *ASSESSMENT_FILES)
# Columns that joined version 2 after its first exports (at the end of their files), and their value
# in a directory written without them.
LATER_IN_2_COLUMNS: dict[str, dict[str, Any]] = {"cohorts.csv": {"tie_answers": False}}
# What version 2 added to version 1: whole files, and columns (at the end of their files).
ADDED_IN_2_FILES = ("invites.csv", "identities.csv", *LATER_IN_2_FILES)
ADDED_IN_2_COLUMNS = {
    "banks.csv": ("owner_cohort", "read_only"),
    "raters.csv": ("kind", "admin", "removed_at"),
    "judgments.csv": ("repeat",),
}
# The files and columns of each version this module reads.
FILES_BY_VERSION: dict[int, dict[str, dict[str, str]]] = {
    1: {
        name: {
            c: kind
            for c, kind in columns.items()
            if c not in ADDED_IN_2_COLUMNS.get(name, ()) and c not in LATER_IN_2_COLUMNS.get(name, {})
        }
        for name, columns in FILES.items()
        if name not in ADDED_IN_2_FILES
    },
    2: FILES,
}
NOTE = (
    "No passwords, password hashes, sessions or failed sign-ins are exported; set new passwords with "
    "'python -m pairs accounts set-password'. Cohort invite codes and the hashes of lead invitations "
    "are exported: keep this directory private."
)


class NotEmptyError(RuntimeError):
    """The database an import was aimed at already holds data; nothing was imported."""


class InconsistentError(ValueError):
    """The database refused an export's rows (two rows with one key, a value too wide for a
    column, a NUL on PostgreSQL); nothing was imported. The message is the database's."""


# -- cells -----------------------------------------------------------------------------


def encode_text(value: str) -> str:
    """A text cell as written: formula-like text behind an apostrophe, and an apostrophe doubled.

    >>> [encode_text(v) for v in ["=1+1", "-5", "'quoted", "plain"]]
    ["'=1+1", "'-5", "''quoted", 'plain']
    """
    if value.startswith(("'", *_STRICT_STARTS)):  # even a plain number: a backup keeps text as text
        return "'" + value
    return neutralize_formula(value)


_STRICT_STARTS = ("=", "+", "-", "@", "\t", "\r")


def decode_text(cell: str) -> str:
    """The text a cell written by :func:`encode_text` holds.

    >>> [decode_text(c) for c in ["'=1+1", "'-5", "''quoted", "plain"]]
    ['=1+1', '-5', "'quoted", 'plain']
    """
    return cell[1:] if cell.startswith("'") else cell


def _parse_time(cell: str) -> datetime:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z", cell):
        raise ValueError(f"not a time like 2026-11-20T09:00:00.000000Z: {cell!r}")
    return datetime.fromisoformat(cell[:-1]).replace(tzinfo=UTC)


def _parse_bool(cell: str) -> bool:
    if cell not in ("true", "false"):
        raise ValueError(f"must be true or false, got {cell!r}")
    return cell == "true"


def _parse_float(cell: str) -> float:
    try:
        value = float(cell)
    except ValueError:
        value = math.nan
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"must be a number, got {cell!r}")
    return value


MAX_INT = 2**31 - 1  # the largest INTEGER of PostgreSQL (positions and drill sizes are never negative)


def _parse_int(cell: str) -> int:
    if not re.fullmatch(r"[0-9]{1,10}", cell) or int(cell) > MAX_INT:
        raise ValueError(f"must be a whole number from 0 to {MAX_INT}, got {cell!r}")
    return int(cell)


def _parse_date(cell: str) -> date:
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", cell):
        try:
            return date.fromisoformat(cell)
        except ValueError:
            pass
    raise ValueError(f"not a date like 2026-11-20: {cell!r}")


_ENCODE: dict[str, Callable[[Any], str]] = {
    "text": encode_text,
    "time": lambda v: as_utc(v).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    "date": lambda v: v.isoformat(),
    "int": lambda v: str(int(v)),
    "float": lambda v: repr(float(v)),
    "bool": lambda v: "true" if v else "false",
}
_DECODE: dict[str, Callable[[str], Any]] = {
    "text": decode_text,
    "time": _parse_time,
    "date": _parse_date,
    "int": _parse_int,
    "float": _parse_float,
    "bool": _parse_bool,
}


def _encode(kind: str, value: Any) -> str:
    optional = kind.endswith("?")
    if value is None:
        if not optional:
            raise ValueError(f"a {kind} value is missing")
        return ""
    return _ENCODE[kind.rstrip("?")](value)


def _decode(kind: str, cell: str) -> Any:
    if kind.endswith("?") and cell == "":
        return None
    return _DECODE[kind.rstrip("?")](cell)


def _csv_text(columns: dict[str, str], rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_encode(kind, row[name]) for name, kind in columns.items()])
        if buffer.tell() > 1 << 16:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def bank_jsonl_lines(bank: pd.DataFrame) -> Iterator[str]:
    """A bank as native JSONL lines (the bank file layout of :mod:`pairs.bank`)."""
    for record in bank_to_records(bank):
        yield json.dumps(json_ready(record), ensure_ascii=False) + "\n"


def json_ready(value: Any) -> Any:
    """``value`` with NaN as None and numpy scalars as Python numbers, for strict JSON."""
    if isinstance(value, dict):
        return {key: json_ready(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(item) for item in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return json_ready(value.item())
    return value


def _bank_file(position: int, name: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.")[:40] or "bank"
    return f"{position:03d}-{slug}.jsonl"


# -- export ----------------------------------------------------------------------------


def export_store(store: Store, directory: str | os.PathLike) -> dict[str, int]:
    """Write the whole store to ``directory`` in the layout of the module docstring.

    Everything is read in one snapshot of the database, written to a temporary
    directory beside ``directory`` and then renamed, so ``directory`` either
    appears complete or not at all.

    Parameters
    ----------
    store : Store
    directory : path
        Must not exist yet, or be an empty directory.

    Returns
    -------
    dict
        Rows written per kind: ``settings``, ``banks``, ``pairs``, ``cohorts``,
        ``raters``, ``drill_items``, ``judgments``, ``invites``, ``identities``,
        ``pair_changes``, ``retired_pairs``, ``cohort_guidelines``, ``assessment_pairs``,
        ``assessment_plans``, ``assessment_attempts``, ``assessment_answers``.

    Raises
    ------
    FileExistsError
        If ``directory`` exists and is not an empty directory (nothing is written).
    """
    directory = Path(directory)
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise FileExistsError(
            errno.EEXIST, "exists and is not an empty directory; nothing written", str(directory)
        )
    with store.snapshot() as conn:
        tables, bank_frames = _read_store(store, conn)
    counts = {name.removesuffix(".csv"): len(rows) for name, rows in tables.items()}
    counts["pairs"] = sum(len(frame) for frame in bank_frames)
    manifest = {"format": FORMAT, "version": VERSION, "rows": dict(sorted(counts.items())), "note": NOTE}

    tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", suffix=".tmp", dir=directory.parent))
    try:
        (tmp / BANK_DIR).mkdir()
        for row, frame in zip(tables["banks.csv"], bank_frames, strict=True):
            atomic_write(tmp / BANK_DIR / row["file"], bank_jsonl_lines(frame))
        for name, rows in tables.items():
            atomic_write(tmp / name, _csv_text(FILES[name], rows))
        atomic_write(tmp / MANIFEST, [json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"])
        os.chmod(tmp, 0o777 & ~_umask())
        if directory.exists():
            directory.rmdir()  # empty, checked above
        os.rename(tmp, directory)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return counts


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _read_store(store: Store, conn: Connection) -> tuple[dict[str, list[dict]], list[pd.DataFrame]]:
    """Every row to export, per CSV file in :data:`FILES` order, and each bank's pairs."""
    setting_rows = sorted(
        ({"key": k, "value": v} for k, v in conn.execute(sa.select(settings.c.key, settings.c.value))),
        key=lambda r: r["key"],
    )
    bank_rows, bank_frames = [], []
    owner = cohorts.alias("owner")
    stored_banks = conn.execute(
        sa.select(banks, owner.c.name.label("owner_cohort"))
        .outerjoin(owner, owner.c.id == banks.c.owner_cohort_id)
        .order_by(banks.c.id)
    ).all()
    for position, row in enumerate(stored_banks, start=1):
        bank_rows.append(
            {
                "name": row.name,
                "file": _bank_file(position, row.name),
                "source_file": row.source_file or "",
                "created_at": row.created_at,
                "owner_cohort": row.owner_cohort,
                "read_only": row.read_only,
            }
        )
        bank_frames.append(store.load_bank(row.name, conn))
    cohort_rows = [
        dict(r)
        for r in conn.execute(
            sa.select(
                cohorts.c.name,
                cohorts.c.invite_code,
                banks.c.name.label("bank"),
                cohorts.c.drill_size,
                cohorts.c.simulated,
                cohorts.c.created_at,
                cohorts.c.tie_answers,
            )
            .select_from(cohorts)
            .outerjoin(banks, banks.c.id == cohorts.c.bank_id)
            .order_by(cohorts.c.id)
        ).mappings()
    ]
    rater_rows = [
        dict(r)
        for r in conn.execute(
            sa.select(
                cohorts.c.name.label("cohort"),
                raters.c.name,
                raters.c.role,
                raters.c.simulated,
                raters.c.created_at,
                raters.c.kind,
                raters.c.admin,
                raters.c.removed_at,
            )
            .join(cohorts, cohorts.c.id == raters.c.cohort_id)
            .order_by(raters.c.id)
        ).mappings()
    ]
    who = (cohorts.c.name.label("cohort"), raters.c.name.label("rater"))
    items = conn.execute(
        sa.select(
            raters.c.id.label("rater_id"),
            *who,
            drill_items.c.drill,
            drill_items.c.position,
            banks.c.name.label("bank"),
            drill_items.c.pair_id,
            drill_items.c.left,
            drill_items.c.shown_at,
        )
        .join(raters, raters.c.id == drill_items.c.rater_id)
        .join(cohorts, cohorts.c.id == raters.c.cohort_id)
        .join(banks, banks.c.id == drill_items.c.bank_id)
    ).mappings()
    # Sorted here, not in SQL: PostgreSQL may collate text unlike SQLite's code-point order.
    item_rows = sorted((dict(r) for r in items), key=lambda r: (r["rater_id"], r["drill"], r["position"]))
    judgment_rows = [
        dict(r)
        for r in conn.execute(
            sa.select(
                *who,
                banks.c.name.label("bank"),
                judgments.c.pair_id,
                judgments.c.drill,
                judgments.c.drill_date,
                judgments.c.choice,
                judgments.c.confidence,
                judgments.c.left,
                judgments.c.shown_at,
                judgments.c.answered_at,
                judgments.c.seconds,
                judgments.c.repeat,
            )
            .join(raters, raters.c.id == judgments.c.rater_id)
            .join(cohorts, cohorts.c.id == raters.c.cohort_id)
            .join(banks, banks.c.id == judgments.c.bank_id)
            .order_by(judgments.c.id)
        ).mappings()
    ]
    invitee = raters.alias("invitee")
    invite_rows = [
        dict(r)
        for r in conn.execute(
            sa.select(
                invites.c.token_hash,
                cohorts.c.name.label("cohort"),
                invites.c.role,
                invites.c.created_at,
                invites.c.expires_at,
                invites.c.used_at,
                invitee.c.name.label("used_by"),
            )
            .join(cohorts, cohorts.c.id == invites.c.cohort_id)
            .outerjoin(
                invitee,
                sa.and_(invitee.c.id == invites.c.used_by, invitee.c.cohort_id == invites.c.cohort_id),
            )
        ).mappings()
    ]
    identity_rows = [
        dict(r)
        for r in conn.execute(
            sa.select(
                identities.c.issuer,
                identities.c.subject,
                *who,
                identities.c.created_at,
            )
            .join(raters, raters.c.id == identities.c.rater_id)
            .join(cohorts, cohorts.c.id == raters.c.cohort_id)
        ).mappings()
    ]
    changer, changer_cohort = raters.alias("changer"), cohorts.alias("changer_cohort")
    change_rows = [
        dict(r)
        for r in conn.execute(
            sa.select(
                banks.c.name.label("bank"),
                pair_changes.c.pair_id,
                pair_changes.c.field,
                pair_changes.c.old,
                pair_changes.c.new,
                changer_cohort.c.name.label("changed_by_cohort"),
                changer.c.name.label("changed_by"),
                pair_changes.c.changed_by_name,
                pair_changes.c.changed_at,
            )
            .select_from(pair_changes)
            .join(banks, banks.c.id == pair_changes.c.bank_id)
            .outerjoin(changer, changer.c.id == pair_changes.c.changed_by)
            .outerjoin(changer_cohort, changer_cohort.c.id == changer.c.cohort_id)
            .order_by(pair_changes.c.id)
        ).mappings()
    ]
    retired_rows = [
        dict(r)
        for r in conn.execute(
            sa.select(
                banks.c.name.label("bank"),
                retired_pairs.c.pair_id,
                retired_pairs.c.retired_at,
            ).join(banks, banks.c.id == retired_pairs.c.bank_id)
        ).mappings()
    ]
    writer = raters.alias("writer")
    guideline_rows = [
        dict(r)
        for r in conn.execute(
            sa.select(
                cohorts.c.name.label("cohort"),
                cohort_guidelines.c.text,
                cohort_guidelines.c.updated_at,
                writer.c.name.label("updated_by"),
            )
            .select_from(cohort_guidelines)
            .join(cohorts, cohorts.c.id == cohort_guidelines.c.cohort_id)
            .outerjoin(
                writer,
                sa.and_(
                    writer.c.id == cohort_guidelines.c.updated_by,
                    writer.c.cohort_id == cohort_guidelines.c.cohort_id,
                ),
            )
            .order_by(cohorts.c.id)
        ).mappings()
    ]
    tables = {
        "settings.csv": setting_rows,
        "banks.csv": bank_rows,
        "cohorts.csv": cohort_rows,
        "raters.csv": rater_rows,
        "drill_items.csv": item_rows,
        "judgments.csv": judgment_rows,
        # No row id to keep the order of: by time, then key (sorted here, for the collation reason above).
        "invites.csv": sorted(invite_rows, key=lambda r: (as_utc(r["created_at"]), r["token_hash"])),
        "identities.csv": sorted(
            identity_rows, key=lambda r: (as_utc(r["created_at"]), r["issuer"], r["subject"])
        ),
        "pair_changes.csv": change_rows,
        "retired_pairs.csv": sorted(
            retired_rows, key=lambda r: (as_utc(r["retired_at"]), r["bank"], r["pair_id"])
        ),
        "cohort_guidelines.csv": guideline_rows,
        **_assessment_rows(conn),
    }
    return tables, bank_frames


def _assessment_rows(conn: Connection) -> dict[str, list[dict]]:
    """The rows of the four assessment files, in the order they were stored (by key where none)."""
    a, x, p, plan = assessment_attempts, assessment_answers, assessment_pairs, assessment_plans
    who = sa.select(raters.c.id, raters.c.name.label("rater"), cohorts.c.name.label("cohort")).join(
        cohorts, cohorts.c.id == raters.c.cohort_id
    )
    person = who.subquery()
    marked = [
        dict(r)
        for r in conn.execute(
            sa.select(
                cohorts.c.name.label("cohort"),
                banks.c.name.label("bank"),
                p.c.pair_id,
                p.c.form,
                p.c.marked_at,
            )
            .join(cohorts, cohorts.c.id == p.c.cohort_id)
            .join(banks, banks.c.id == p.c.bank_id)
        ).mappings()
    ]
    plans = [
        dict(r)
        for r in conn.execute(
            sa.select(
                cohorts.c.name.label("cohort"),
                banks.c.name.label("bank"),
                *[plan.c[f] for f in ("post_after_days", "post_after_drills", "retention_after_days")],
                *[
                    plan.c[f]
                    for f in ("time_limit_minutes", "min_accuracy", "max_overconfidence", "updated_at")
                ],
            )
            .join(cohorts, cohorts.c.id == plan.c.cohort_id)
            .join(banks, banks.c.id == plan.c.bank_id)
            .order_by(cohorts.c.id)
        ).mappings()
    ]
    attempts = [
        dict(r)
        for r in conn.execute(
            sa.select(
                person.c.cohort,
                person.c.rater,
                a.c.stage,
                a.c.form,
                banks.c.name.label("bank"),
                a.c.started_at,
                a.c.deadline,
                a.c.closed_at,
            )
            .join(person, person.c.id == a.c.rater_id)
            .join(banks, banks.c.id == a.c.bank_id)
            .order_by(a.c.id)
        ).mappings()
    ]
    answers = [
        dict(r)
        for r in conn.execute(
            sa.select(
                person.c.cohort,
                person.c.rater,
                a.c.stage,
                *[x.c[f] for f in ("position", "pair_id", "left", "choice", "confidence")],
                *[x.c[f] for f in ("shown_at", "answered_at", "seconds")],
            )
            .join(a, a.c.id == x.c.attempt_id)
            .join(person, person.c.id == a.c.rater_id)
            .order_by(a.c.id, x.c.position)
        ).mappings()
    ]
    return {
        "assessment_pairs.csv": sorted(marked, key=lambda r: (r["cohort"], r["bank"], r["pair_id"])),
        "assessment_plans.csv": plans,
        "assessment_attempts.csv": attempts,
        "assessment_answers.csv": answers,
    }


# -- import ----------------------------------------------------------------------------


def import_store(store: Store, directory: str | os.PathLike) -> dict[str, int]:
    """Read a directory written by :func:`export_store` into an empty database, in one transaction.

    Every file is read and checked first; any problem (a file not in UTF-8, a
    malformed cell, a bank named twice, a row naming a cohort, rater, bank or
    pair that is not in the export, a file with fewer or more rows than the
    manifest says) is reported and nothing is imported. Imported people have
    no password. A version-1 export is read too, its missing fields filled as
    the module docstring says.

    Returns
    -------
    dict
        Rows imported per kind, as :func:`export_store` returns them.

    Raises
    ------
    InputError
        With every problem found in the files.
    NotEmptyError
        If the database holds any row already.
    InconsistentError
        If the database refuses a row.
    OSError
        If a file cannot be read.
    """
    directory = Path(directory)
    tables, bank_frames = _read_directory(directory)

    def fn(conn: Connection) -> dict[str, int]:
        held = [t for t in metadata.sorted_tables if t.name not in DERIVED_TABLES]
        occupied = [t.name for t in held if conn.execute(sa.select(t).limit(1)).first()]
        if occupied:
            raise NotEmptyError(
                f"{store.url_for_display}: the database is not empty (it has rows in "
                f"{', '.join(occupied)}); import only into an empty database. Nothing was imported."
            )
        return _insert(store, conn, tables, bank_frames)

    try:
        return store.write(fn)
    except (sa.exc.IntegrityError, sa.exc.DataError) as error:  # the transaction was rolled back
        raise InconsistentError(str(error.orig)) from error


def _read_directory(directory: Path) -> tuple[dict[str, list[tuple[int, dict]]], list[pd.DataFrame]]:
    from pairs.importers import read_bank

    manifest_path = directory / MANIFEST
    data = manifest_path.read_bytes()
    try:
        manifest = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError([Problem(str(manifest_path), line, "encoding", "not UTF-8")]) from None
    except json.JSONDecodeError as exc:
        raise InputError([Problem(str(manifest_path), exc.lineno, "json", exc.msg)]) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise InputError([Problem(str(manifest_path), None, "format", f"not a {FORMAT} export")])
    version = manifest.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version not in FILES_BY_VERSION:
        readable = " and ".join(str(v) for v in FILES_BY_VERSION)
        raise InputError(
            [
                Problem(
                    str(manifest_path),
                    None,
                    "version",
                    f"version {version!r}; this PairCal reads versions {readable}",
                )
            ]
        )
    listed = manifest.get("rows")
    expected_rows: dict[str, Any] = listed if isinstance(listed, dict) else {}
    # Written by version 2 before these files joined it: absent, and no rows listed for them.
    absent = [
        name
        for name in LATER_IN_2_FILES
        if version == 2 and name.removesuffix(".csv") not in expected_rows and not (directory / name).exists()
    ]

    problems: list[Problem] = []
    tables = {
        name: _read_csv(
            directory / name, columns, problems, LATER_IN_2_COLUMNS.get(name, {}) if version == 2 else {}
        )
        for name, columns in FILES_BY_VERSION[version].items()
        if name not in absent
    }

    bank_frames: list[pd.DataFrame] = []
    for line, row in tables["banks.csv"]:
        file = row.get("file", "")
        path = directory / BANK_DIR / file
        if Path(file).name != file or file in ("", ".", ".."):
            problems.append(Problem(str(directory / "banks.csv"), line, "file", f"not a file name: {file!r}"))
            bank_frames.append(pd.DataFrame(columns=BANK_COLUMNS))
        elif path.is_file() and path.stat().st_size == 0:
            bank_frames.append(pd.DataFrame(columns=BANK_COLUMNS))
        else:
            try:
                bank_frames.append(read_bank(path, "jsonl"))
            except InputError as error:
                problems.extend(error.problems)
                bank_frames.append(pd.DataFrame(columns=BANK_COLUMNS))

    counts = {name.removesuffix(".csv"): len(rows) for name, rows in tables.items()}
    counts["pairs"] = sum(len(frame) for frame in bank_frames)
    for kind, n in counts.items():
        if expected_rows.get(kind) != n:
            problems.append(
                Problem(
                    str(manifest_path),
                    None,
                    "rows",
                    f"{kind}: the manifest says {expected_rows.get(kind)!r}, the files hold {n}",
                )
            )
    problems += _reference_problems(directory, tables, bank_frames)
    if problems:
        raise InputError(problems)
    if version == 1:
        _fill_version_1(tables)
    for name in absent:
        tables[name] = []
    return tables, bank_frames


def _fill_version_1(tables: dict[str, list[tuple[int, dict]]]) -> None:
    """Add what version 2 added to the checked rows of a version-1 export, as the module docstring says."""
    users: dict[str, list[str]] = {}
    for _, row in tables["cohorts.csv"]:
        if row["bank"] is not None:
            users.setdefault(row["bank"], []).append(row["name"])
    for _, row in tables["banks.csv"]:
        using = users.get(row["name"], [])
        row["owner_cohort"] = using[0] if len(using) == 1 and row["name"] != STARTER_BANK_NAME else None
        row["read_only"] = row["owner_cohort"] is None

    drilled = {(row["cohort"], row["rater"]) for _, row in tables["drill_items.csv"]}
    judged = {(row["cohort"], row["rater"]) for _, row in tables["judgments.csv"]}
    admin_found = False
    for _, row in tables["raters.csv"]:
        who = (row["cohort"], row["name"])
        lead = row["role"] == "lead"
        named = row["simulated"] or who in judged
        row["kind"] = "imported" if not lead and who not in drilled and named else "account"
        row["admin"] = lead and not admin_found
        admin_found = admin_found or lead
        row["removed_at"] = None

    answered: set[tuple[str, str, str, str]] = set()
    for _, row in tables["judgments.csv"]:
        key = (row["cohort"], row["rater"], row["bank"], row["pair_id"])
        row["repeat"] = key in answered
        answered.add(key)
    for name in ADDED_IN_2_FILES:
        tables[name] = []


def _read_csv(
    path: Path, columns: dict[str, str], problems: list[Problem], later: Mapping[str, Any] | None = None
) -> list[tuple[int, dict]]:
    """The typed rows of one CSV file with the line each starts on; problems are appended.

    ``later`` names columns a file may lack (written before they joined its
    version), with the value its rows then take.
    """
    later = later or {}
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:  # e.g. saved again by a spreadsheet in another encoding
        line = data[: exc.start].count(b"\n") + 1
        problems.append(Problem(str(path), line, "encoding", f"not UTF-8 (byte 0x{data[exc.start]:02x})"))
        return []
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        missing = {}
        if later and header == [c for c in columns if c not in later]:
            missing = dict(later)
            columns = {c: kind for c, kind in columns.items() if c not in later}
        if header != list(columns):
            problems.append(Problem(str(path), 1, "header", f"must be {','.join(columns)}"))
            return []
        rows = []
        start = reader.line_num + 1
        for cells in reader:
            line, start = start, reader.line_num + 1
            if len(cells) != len(columns):
                message = f"{len(cells)} cells, expected {len(columns)}"
                problems.append(Problem(str(path), line, "row", message))
                continue
            row = {}
            for (name, kind), cell in zip(columns.items(), cells, strict=True):
                try:
                    row[name] = _decode(kind, cell)
                except ValueError as exc:
                    problems.append(Problem(str(path), line, name, str(exc)))
            rows.append((line, {**row, **missing}))
    except csv.Error as exc:
        problems.append(Problem(str(path), reader.line_num, "csv", str(exc)))
        return []
    return rows


def _reference_problems(
    directory: Path, tables: dict[str, list[tuple[int, dict]]], bank_frames: list[pd.DataFrame]
) -> list[Problem]:
    """Rows naming a cohort, rater, bank or pair that the export does not hold, and bad values."""
    problems: list[Problem] = []
    pairs_of = {
        row["name"]: set(frame["id"])
        for (_, row), frame in zip(tables["banks.csv"], bank_frames, strict=True)
    }
    cohort_names = {row["name"] for _, row in tables["cohorts.csv"]}
    people = {(row["cohort"], row["name"]) for _, row in tables["raters.csv"]}

    def check(file: str, line: int, field: str, ok: bool, message: str) -> None:
        if not ok:
            problems.append(Problem(str(directory / file), line, field, message))

    seen: set[str] = set()
    for line, row in tables["banks.csv"]:  # the import would merge two banks of one name
        check("banks.csv", line, "name", row["name"] not in seen, f"bank {row['name']!r} appears twice")
        seen.add(row["name"])
        if row.get("owner_cohort") is not None:
            owner = row["owner_cohort"]
            check("banks.csv", line, "owner_cohort", owner in cohort_names, f"unknown cohort {owner!r}")
    for line, row in tables["cohorts.csv"]:
        if "bank" in row:
            check(
                "cohorts.csv",
                line,
                "bank",
                row["bank"] is None or row["bank"] in pairs_of,
                f"unknown bank {row['bank']!r}",
            )
    for line, row in tables["raters.csv"]:
        if {"cohort", "role"} <= set(row):
            check(
                "raters.csv",
                line,
                "cohort",
                row["cohort"] in cohort_names,
                f"unknown cohort {row['cohort']!r}",
            )
            check(
                "raters.csv",
                line,
                "role",
                row["role"] in ("rater", "lead"),
                f"must be rater or lead, got {row['role']!r}",
            )
        if "kind" in row:
            check(
                "raters.csv",
                line,
                "kind",
                row["kind"] in ("account", "imported"),
                f"must be account or imported, got {row['kind']!r}",
            )
    for file in ("drill_items.csv", "judgments.csv"):
        for line, row in tables[file]:
            if not {"cohort", "rater", "bank", "pair_id"} <= set(row):
                continue  # a cell of this row could not be read: already a problem
            check(
                file,
                line,
                "rater",
                (row["cohort"], row["rater"]) in people,
                f"unknown rater {row['rater']!r} of cohort {row['cohort']!r}",
            )
            known = row["bank"] in pairs_of
            check(file, line, "bank", known, f"unknown bank {row['bank']!r}")
            check(
                file,
                line,
                "pair_id",
                not known or row["pair_id"] in pairs_of[row["bank"]],
                f"unknown pair {row['pair_id']!r} of bank {row['bank']!r}",
            )
            if file == "judgments.csv" and "choice" in row and "confidence" in row:
                check(
                    file,
                    line,
                    "choice",
                    row["choice"] in ("A", "B", "tie"),
                    f"must be A, B or tie, got {row['choice']!r}",
                )
                conf = row["confidence"]
                check(
                    file,
                    line,
                    "confidence",
                    conf is None or 0.5 <= conf <= 1,
                    f"must be in [0.5, 1], got {conf!r}",
                )
            if "left" in row:
                sides = ("A", "B", None) if file == "judgments.csv" else ("A", "B")
                check(file, line, "left", row["left"] in sides, f"must be A or B, got {row['left']!r}")
    hashes: set[str] = set()
    for line, row in tables.get("invites.csv", []):
        if "token_hash" in row:  # the primary key: a second row would be refused by the database
            token_hash = row["token_hash"]
            check("invites.csv", line, "token_hash", token_hash not in hashes, "an invitation appears twice")
            hashes.add(token_hash)
        if "cohort" in row:
            check(
                "invites.csv",
                line,
                "cohort",
                row["cohort"] in cohort_names,
                f"unknown cohort {row['cohort']!r}",
            )
            if row.get("used_by") is not None:
                check(
                    "invites.csv",
                    line,
                    "used_by",
                    (row["cohort"], row["used_by"]) in people,
                    f"unknown rater {row['used_by']!r} of cohort {row['cohort']!r}",
                )
        if "role" in row:
            check(
                "invites.csv",
                line,
                "role",
                row["role"] in ("rater", "lead"),
                f"must be rater or lead, got {row['role']!r}",
            )
    signed: set[tuple[str, str]] = set()
    for line, row in tables.get("identities.csv", []):
        if {"issuer", "subject"} <= set(row):
            key = (row["issuer"], row["subject"])
            check(
                "identities.csv",
                line,
                "subject",
                key not in signed,
                f"{key[1]!r} of {key[0]!r} appears twice",
            )
            signed.add(key)
        if {"cohort", "rater"} <= set(row):
            check(
                "identities.csv",
                line,
                "rater",
                (row["cohort"], row["rater"]) in people,
                f"unknown rater {row['rater']!r} of cohort {row['cohort']!r}",
            )

    def check_pair(file: str, line: int, row: dict) -> None:
        known = row["bank"] in pairs_of
        check(file, line, "bank", known, f"unknown bank {row['bank']!r}")
        check(
            file,
            line,
            "pair_id",
            not known or row["pair_id"] in pairs_of[row["bank"]],
            f"unknown pair {row['pair_id']!r} of bank {row['bank']!r}",
        )

    for line, row in tables.get("pair_changes.csv", []):
        check_pair("pair_changes.csv", line, row)
        choices = ", ".join(CHANGE_FIELDS[:-1]) + " or " + CHANGE_FIELDS[-1]
        check(
            "pair_changes.csv",
            line,
            "field",
            row["field"] in CHANGE_FIELDS,
            f"must be {choices}, got {row['field']!r}",
        )
        cohort, name = row["changed_by_cohort"], row["changed_by"]
        if (cohort is None) != (name is None):
            field = "changed_by" if name is None else "changed_by_cohort"
            check("pair_changes.csv", line, field, False, "give changed_by_cohort and changed_by, or neither")
        elif name is not None:
            check(
                "pair_changes.csv",
                line,
                "changed_by",
                (cohort, name) in people,
                f"unknown rater {name!r} of cohort {cohort!r}",
            )
    gone: set[tuple[str, str]] = set()
    for line, row in tables.get("retired_pairs.csv", []):
        check_pair("retired_pairs.csv", line, row)
        key = (row["bank"], row["pair_id"])
        message = f"pair {key[1]!r} of bank {key[0]!r} appears twice"
        check("retired_pairs.csv", line, "pair_id", key not in gone, message)
        gone.add(key)
    guided: set[str] = set()
    for line, row in tables.get("cohort_guidelines.csv", []):
        cohort = row["cohort"]
        check("cohort_guidelines.csv", line, "cohort", cohort in cohort_names, f"unknown cohort {cohort!r}")
        check(
            "cohort_guidelines.csv", line, "cohort", cohort not in guided, f"cohort {cohort!r} appears twice"
        )
        guided.add(cohort)
        if row.get("updated_by") is not None:
            check(
                "cohort_guidelines.csv",
                line,
                "updated_by",
                (cohort, row["updated_by"]) in people,
                f"unknown rater {row['updated_by']!r} of cohort {cohort!r}",
            )
    problems += _assessment_problems(directory, tables, pairs_of, cohort_names, people)
    return problems


def _assessment_problems(
    directory: Path,
    tables: dict[str, list[tuple[int, dict]]],
    pairs_of: dict[str, set],
    cohort_names: set[str],
    people: set[tuple[str, str]],
) -> list[Problem]:
    """Rows of the assessment files naming what the export does not hold, or given twice."""
    problems: list[Problem] = []

    def check(file: str, line: int, field: str, ok: bool, message: str) -> None:
        if not ok:
            problems.append(Problem(str(directory / file), line, field, message))

    for file in ("assessment_pairs.csv", "assessment_plans.csv", "assessment_attempts.csv"):
        for line, row in tables.get(file, []):
            if "cohort" in row:
                check(
                    file, line, "cohort", row["cohort"] in cohort_names, f"unknown cohort {row['cohort']!r}"
                )
            if "bank" in row:
                check(file, line, "bank", row["bank"] in pairs_of, f"unknown bank {row['bank']!r}")
    for line, row in tables.get("assessment_pairs.csv", []):
        if {"bank", "pair_id"} <= set(row) and row["bank"] in pairs_of:
            known = row["pair_id"] in pairs_of[row["bank"]]
            check(
                "assessment_pairs.csv",
                line,
                "pair_id",
                known,
                f"no pair {row['pair_id']!r} in {row['bank']!r}",
            )
    opened: set[tuple] = set()
    for line, row in tables.get("assessment_attempts.csv", []):
        if not {"cohort", "rater", "stage"} <= set(row):
            continue
        key = (row["cohort"], row["rater"], row["stage"])
        check("assessment_attempts.csv", line, "rater", key[:2] in people, f"unknown rater {row['rater']!r}")
        check("assessment_attempts.csv", line, "stage", key not in opened, f"a second {row['stage']} attempt")
        check(
            "assessment_attempts.csv",
            line,
            "stage",
            row["stage"] in STAGES,
            f"must be one of {', '.join(STAGES)}, got {row['stage']!r}",
        )
        opened.add(key)
    for line, row in tables.get("assessment_answers.csv", []):
        if {"cohort", "rater", "stage"} <= set(row):
            key = (row["cohort"], row["rater"], row["stage"])
            check(
                "assessment_answers.csv",
                line,
                "stage",
                key in opened,
                f"no {row['stage']} attempt of {row['rater']!r}",
            )
    return problems


def _insert(
    store: Store, conn: Connection, tables: dict[str, list[tuple[int, dict]]], bank_frames: list[pd.DataFrame]
) -> dict[str, int]:
    """Insert every row, in file order, into the empty database ``conn`` writes to."""

    def rows(name: str) -> list[dict]:
        return [row for _, row in tables[name]]

    def insert(table: sa.Table, values: list[dict]) -> None:
        for start in range(0, len(values), 5000):
            conn.execute(sa.insert(table), values[start : start + 5000])

    insert(settings, rows("settings.csv"))
    bank_ids = {}
    for row, frame in zip(rows("banks.csv"), bank_frames, strict=True):
        store.add_pairs(
            conn,
            row["name"],
            frame,
            source_file=row["source_file"],
            created_at=row["created_at"],
            read_only=row["read_only"],
        )
        bank_ids[row["name"]] = store.bank_id(row["name"], conn)
    insert(
        cohorts,
        [
            {**{k: v for k, v in row.items() if k != "bank"}, "bank_id": bank_ids.get(row["bank"])}
            for row in rows("cohorts.csv")
        ],
    )
    cohort_ids = dict(conn.execute(sa.select(cohorts.c.name, cohorts.c.id)).all())
    for row in rows("banks.csv"):  # a bank's owner is a cohort, and a cohort's bank a bank: owners now
        if row["owner_cohort"] is not None:
            conn.execute(
                sa.update(banks)
                .where(banks.c.id == bank_ids[row["name"]])
                .values(owner_cohort_id=cohort_ids[row["owner_cohort"]])
            )
    insert(
        raters,
        [
            {
                "cohort_id": cohort_ids[row["cohort"]],
                "name": row["name"],
                "role": row["role"],
                "password_hash": None,
                "failed_logins": 0,
                "locked_until": None,
                "simulated": row["simulated"],
                "created_at": row["created_at"],
                "kind": row["kind"],
                "admin": row["admin"],
                "removed_at": row["removed_at"],
            }
            for row in rows("raters.csv")
        ],
    )
    rater_ids = {
        (cohort, name): rid
        for cohort, name, rid in conn.execute(
            sa.select(cohorts.c.name, raters.c.name, raters.c.id).join(
                cohorts, cohorts.c.id == raters.c.cohort_id
            )
        )
    }

    def keyed(row: dict) -> dict:
        out = {k: v for k, v in row.items() if k not in ("cohort", "rater", "bank")}
        return {**out, "rater_id": rater_ids[(row["cohort"], row["rater"])], "bank_id": bank_ids[row["bank"]]}

    insert(drill_items, [keyed(row) for row in rows("drill_items.csv")])
    insert(judgments, [keyed(row) for row in rows("judgments.csv")])
    insert(
        invites,
        [
            {
                **{k: v for k, v in row.items() if k not in ("cohort", "used_by")},
                "cohort_id": cohort_ids[row["cohort"]],
                "used_by": None if row["used_by"] is None else rater_ids[(row["cohort"], row["used_by"])],
            }
            for row in rows("invites.csv")
        ],
    )
    insert(
        identities,
        [
            {
                "issuer": row["issuer"],
                "subject": row["subject"],
                "rater_id": rater_ids[(row["cohort"], row["rater"])],
                "created_at": row["created_at"],
            }
            for row in rows("identities.csv")
        ],
    )
    insert(
        pair_changes,
        [
            {
                **{k: v for k, v in row.items() if k not in ("bank", "changed_by_cohort", "changed_by")},
                "bank_id": bank_ids[row["bank"]],
                "changed_by": None
                if row["changed_by"] is None
                else rater_ids[(row["changed_by_cohort"], row["changed_by"])],
            }
            for row in rows("pair_changes.csv")
        ],
    )
    insert(
        retired_pairs,
        [
            {"bank_id": bank_ids[row["bank"]], "pair_id": row["pair_id"], "retired_at": row["retired_at"]}
            for row in rows("retired_pairs.csv")
        ],
    )
    insert(
        cohort_guidelines,
        [
            {
                "cohort_id": cohort_ids[row["cohort"]],
                "text": row["text"],
                "updated_at": row["updated_at"],
                "updated_by": None
                if row["updated_by"] is None
                else rater_ids[(row["cohort"], row["updated_by"])],
            }
            for row in rows("cohort_guidelines.csv")
        ],
    )
    insert(
        assessment_pairs,
        [
            {
                **{k: v for k, v in row.items() if k not in ("cohort", "bank")},
                "cohort_id": cohort_ids[row["cohort"]],
                "bank_id": bank_ids[row["bank"]],
            }
            for row in rows("assessment_pairs.csv")
        ],
    )
    insert(
        assessment_plans,
        [
            {
                **{k: v for k, v in row.items() if k not in ("cohort", "bank")},
                "cohort_id": cohort_ids[row["cohort"]],
                "bank_id": bank_ids[row["bank"]],
            }
            for row in rows("assessment_plans.csv")
        ],
    )
    for row in rows("assessment_attempts.csv"):  # one at a time: each answer names its attempt's id
        conn.execute(
            sa.insert(assessment_attempts).values(
                **{k: v for k, v in row.items() if k not in ("cohort", "rater", "bank")},
                rater_id=rater_ids[(row["cohort"], row["rater"])],
                bank_id=bank_ids[row["bank"]],
            )
        )
    attempt_ids = {
        (rater_id, stage): attempt_id
        for attempt_id, rater_id, stage in conn.execute(
            sa.select(assessment_attempts.c.id, assessment_attempts.c.rater_id, assessment_attempts.c.stage)
        )
    }
    insert(
        assessment_answers,
        [
            {
                **{k: v for k, v in row.items() if k not in ("cohort", "rater", "stage")},
                "attempt_id": attempt_ids[(rater_ids[(row["cohort"], row["rater"])], row["stage"])],
            }
            for row in rows("assessment_answers.csv")
        ],
    )
    counts = {name.removesuffix(".csv"): len(rows) for name, rows in tables.items()}
    counts["pairs"] = sum(len(frame) for frame in bank_frames)
    return counts
