"""The whole store as plain files: ``python -m pairs store export DIR`` and ``store import DIR``.

Checked, on SQLite and PostgreSQL:

* Round trip. A rich store (the starter bank; a bank of awkward text: unicode, emoji, new lines,
  text starting with ``=``, ``+``, ``-``, ``@``, an apostrophe or a tab, commas and quotes, a tie,
  gold confidence, tags; settings; a lead's cohort whose two raters stopped part-way through their
  drills; a simulated demo cohort; judgments imported from a CSV file into another cohort) is
  exported, imported into a new empty database and exported again: the two directories hold the
  same files, byte for byte, for each of SQLite and PostgreSQL on either side. The new database
  answers the same: the judgments export, every bank, each rater's drill (same items, answers and
  next position), the invite codes, and every field of banks, raters and judgments that version 2
  of the format added (a bank owned by a cohort, a read-only bank, the admin, a removed rater,
  imported raters, a repeat judgment), the lead invitations and the identities, and the gold
  audit's recorded changes (one by a rater deleted since), retired pairs and each cohort's
  guidelines. Each of those fields, dropped from the export, and each of those files, emptied,
  makes the check fail.
* A version-2 export written before the gold audit's files joined the format (no
  ``pair_changes.csv``, ``retired_pairs.csv`` or ``cohort_guidelines.csv``, none listed in the
  manifest) is imported with those tables empty and the rest unchanged.
* Version 1 (the format before banks had owners), as the code of commit 52ca376 wrote it
  (``tests/fixtures/store-v1/``): imported with the new fields filled as the database upgrade
  fills them; exported again as version 2 whose version-1 columns are the version-1 files, byte
  for byte. An unknown version is refused.
* No password, password hash or session token is exported; imported people cannot sign in until
  ``python -m pairs accounts set-password`` gives them a password; a simulated or unknown rater is
  refused one.
* An import into a database that is not empty is refused (exit 2) and changes nothing.
* A corrupted export is refused whole: every problem is listed as ``FILE:LINE: field: message``
  (exit 1) and the database stays empty; a missing directory, manifest or file is a one-line error
  (exit 2), never a traceback.
* An export into a directory that is not empty writes nothing (exit 2); an export leaves no
  temporary files behind.
* Text a spreadsheet would run, or that starts with an apostrophe, comes back exactly, and no cell
  of an exported CSV file starts with ``=``, ``+``, ``-`` or ``@``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

import storage.backup
from calibration.simulate import demo_cohort
from cli.pairs import main
from pairs.bank import STARTER_BANK_NAME, STARTER_BANK_PATH
from storage import audit
from storage.backup import ADDED_IN_2_FILES, FILES, FILES_BY_VERSION, MANIFEST, decode_text, encode_text
from storage.schema import (
    as_utc,
    banks,
    cohort_guidelines,
    identities,
    invites,
    judgments,
    pair_changes,
    raters,
    retired_pairs,
)
from storage.store import Store, cohorts, metadata
from training import accounts, drills
from training.accounts import AccountError

ROOT = Path(__file__).resolve().parent.parent

STARTER_PAIRS = len(STARTER_BANK_PATH.read_text("utf-8").splitlines())
AWKWARD_BANK = '=awkward, "bank" ünï 🎉'
AWKWARD_PAIRS = [
    {
        "id": "=SUM(A1)",
        "prompt": "=SUM(A1)",
        "response_a": '+1, and a "quoted" word\nsecond line',
        "response_b": "-1\r\nwindows line end",
        "gold": "A",
        "rationale": "@mention, 'apostrophe'",
        "tags": ["length", "polish"],
        "domain": "=domain",
        "source": "-source",
        "gold_confidence": 0.75,
    },
    {
        "id": "'quoted",
        "prompt": "'quoted prompt",
        "response_a": "\ttab first",
        "response_b": "''two apostrophes",
        "gold": "tie",
        "rationale": "",
        "tags": [],
        "domain": "",
        "source": "",
    },
    {
        "id": 'ünï 🎉, "x"',
        "prompt": "Ünïcödé 🎉 emoji, non-breaking\u00a0space, zero\u200bwidth, 日本語",
        "response_a": "@at the start",
        "response_b": "plain",
        "gold": "B",
        "rationale": "Ⅻ ﬁ — composed é and decomposed e\u0301",
        "tags": ["factual", "constraint"],
        "domain": "math",
        "source": "paircal-test",
        "gold_confidence": 1.0,
    },
    {
        "id": "-minus-id",
        "prompt": "+plus prompt",
        "response_a": "A",
        "response_b": "B",
        "gold": "B",
        "tags": ["control"],
        "gold_confidence": 0.5,
    },
]
ALL_PAIRS = STARTER_PAIRS + len(AWKWARD_PAIRS)
SETTINGS = {
    "drill_size": "12",
    "=formula key": '-5, "quoted"\nsecond line',
    "'apostrophe": "''two",
    "tab": "\ttab first, @at",
}
COHORT = '-Team "Ünï", 🎉'
DEMO_COHORT = "Demo cohort"
CSV_COHORT = "+imported, 'csv'"
LEAD, ANN, BOB = "@Lead", "=Ann", "'Bob O'Brien"
PASSWORDS = {LEAD: "lead's long secret", ANN: "ann-pässwörd-🎉", BOB: "bob bob bob bob"}
DAY = date(2026, 11, 20)
CSV_JUDGMENTS = (
    "rater,pair_id,choice,confidence,left,answered_at,seconds\n"
    "-minus,=SUM(A1),A,0.9,B,2026-11-18T09:00:00Z,14\n"
    "-minus,'quoted,B,,A,2026-11-18T09:01:00.123456Z,\n"
    '"comma, ""quoted"" ü",-minus-id,B,0.55,,2026-11-18T10:00:00+02:00,3.25\n'
    '@at,"ünï 🎉, ""x""",A,1,A,2026-11-19T00:00:00Z,120\n'
    "@at,-minus-id,A,,B,,\n"
)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
V1_EXPORT = Path(__file__).resolve().parent / "fixtures" / "store-v1" / "export"

# The fields version 2 of the export added, each set to a value that is not its default.
REMOVED_AT = datetime(2026, 11, 21, 8, 30, 0, 123456, tzinfo=UTC)
INVITED_AT = datetime(2026, 11, 19, 12, 0, tzinfo=UTC)
# token hash, cohort, created, expires, used at, used by (None: unused), stored in this order
INVITES = [
    (hashlib.sha256(b"lead invite 2").hexdigest(), DEMO_COHORT, INVITED_AT, timedelta(days=7), None, None),
    (
        hashlib.sha256(b"lead invite 1").hexdigest(),
        COHORT,
        INVITED_AT,
        timedelta(days=7),
        INVITED_AT + timedelta(hours=1, microseconds=5),
        LEAD,
    ),
]
ISSUER = "https://id.example.org/"
# issuer, subject, cohort, rater: all signed in at one moment, so their key orders them
IDENTITIES = [
    ("https://other.example.com", "10001", DEMO_COHORT, "Dee"),
    (ISSUER, "=ann's subject ü", COHORT, ANN),
    (ISSUER, "10001", DEMO_COHORT, "Dee"),
]
SIGNED_UP_AT = datetime(2026, 11, 18, 7, 0, 0, 42, tzinfo=UTC)
# The gold audit, on the awkward bank (owned by the lead's cohort), at fixed times.
AUDITED_AT = datetime(2026, 11, 21, 9, 0, 0, 654321, tzinfo=UTC)
REASON = '-see the guidelines, "tie"\nsecond line'
GONE_LEAD = '=Gone, "lead"'
THE_LEAD = (COHORT, LEAD)
MINUTE, HOUR = timedelta(minutes=1), timedelta(hours=1)
# bank, pair, field, old, new, changed by (None: a rater deleted since), name shown, when; in the
# order stored. Every correction is undone, so the bank ends as AWKWARD_PAIRS; the last row is older
# than the others but stored last.
PAIR_CHANGES = [
    (AWKWARD_BANK, "=SUM(A1)", "gold", "A", "tie", THE_LEAD, LEAD, AUDITED_AT),
    (AWKWARD_BANK, "'quoted", "rationale", "", REASON, THE_LEAD, LEAD, AUDITED_AT + MINUTE),
    (AWKWARD_BANK, "'quoted", "rationale", REASON, "", THE_LEAD, LEAD, AUDITED_AT + 2 * MINUTE),
    (AWKWARD_BANK, "=SUM(A1)", "gold", "tie", "A", THE_LEAD, LEAD, AUDITED_AT + 3 * MINUTE),
    (AWKWARD_BANK, "=SUM(A1)", "retired", "no", "yes", THE_LEAD, LEAD, AUDITED_AT + HOUR),
    (AWKWARD_BANK, "-minus-id", "retired", "no", "yes", THE_LEAD, LEAD, AUDITED_AT + HOUR),
    (AWKWARD_BANK, "'quoted", "retired", "no", "yes", THE_LEAD, LEAD, AUDITED_AT + 2 * HOUR),
    (AWKWARD_BANK, "'quoted", "retired", "yes", "no", THE_LEAD, LEAD, AUDITED_AT + 3 * HOUR),
    (
        AWKWARD_BANK,
        'ünï 🎉, "x"',
        "rationale",
        "'an older reason",
        AWKWARD_PAIRS[2]["rationale"],
        None,
        GONE_LEAD,
        AUDITED_AT - 24 * HOUR,
    ),
]
# bank, pair, retired at: what the changes above leave retired
RETIRED = [(AWKWARD_BANK, "-minus-id", AUDITED_AT + HOUR), (AWKWARD_BANK, "=SUM(A1)", AUDITED_AT + HOUR)]
# cohort, text, written by (None: a rater deleted since), when
GUIDELINES = [
    (
        COHORT,
        "- Prefer the response that follows the prompt.\n=Ties are \"fine\".\n\n'Quote' 🎉",
        LEAD,
        AUDITED_AT,
    ),
    (DEMO_COHORT, "Read both responses in full, then choose.", "Dee", AUDITED_AT + 24 * HOUR),
    (CSV_COHORT, "@everyone: judge the content, not the length", None, AUDITED_AT - 48 * HOUR),
]


# -- fixtures and helpers --------------------------------------------------------------


def dialect(url: str) -> str:
    return sa.engine.make_url(url).get_backend_name()


@pytest.fixture(autouse=True)
def _forget_unknown_failures():
    accounts._unknown_failures.clear()
    yield
    accounts._unknown_failures.clear()


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    """``python -m pairs ARGV`` in this process: (exit code, stdout, stderr)."""
    capsys.readouterr()
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def run_process(argv: list[str], stdin: str | None = None) -> subprocess.CompletedProcess:
    """``python -m pairs ARGV`` exactly as typed in a shell, in a new process."""
    return subprocess.run(
        [sys.executable, "-m", "pairs", *argv],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )


def row_counts(url: str) -> dict[str, int]:
    store = Store(url)
    try:
        with store.read() as conn:
            return {
                t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                for t in metadata.sorted_tables
            }
    finally:
        store.engine.dispose()


def files_of(directory: Path) -> dict[str, bytes]:
    """Every file under ``directory`` (relative name: bytes)."""
    found = {p.relative_to(directory).as_posix(): p for p in directory.rglob("*") if p.is_file()}
    return {name: found[name].read_bytes() for name in sorted(found)}


def csv_cells(directory: Path) -> list[str]:
    """Every cell of every CSV file in an export, as the csv module reads it."""
    cells = []
    for path in sorted(directory.glob("*.csv")):
        with open(path, encoding="utf-8", newline="") as handle:
            cells += [cell for row in csv.reader(handle) for cell in row]
    return cells


@dataclass
class Rich:
    """What :func:`build_rich_store` made, to check a copy against."""

    invites: dict[str, str]
    drills: list[tuple[str, str, str, int, str]]  # cohort, rater, bank, size, kind of each drill
    token: str
    simulated: str
    removed: str  # a simulated rater the lead removed


def build_rich_store(url: str, tmp: Path) -> Rich:
    """Fill the empty database ``url`` with one of everything an export holds (see the module docstring)."""
    store = Store(url)
    assert store.ensure_starter_bank()
    bank_file = tmp / "awkward.jsonl"
    bank_file.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in AWKWARD_PAIRS), "utf-8")
    assert main(["import", str(bank_file), "--bank", AWKWARD_BANK, "--db", url]) == 0
    for key, value in SETTINGS.items():
        store.set_setting(key, value)

    lead, invite = accounts.create_cohort(store, COHORT, LEAD, PASSWORDS[LEAD], drill_size=5)
    ann = accounts.join_cohort(store, invite, ANN, PASSWORDS[ANN])
    bob = accounts.join_cohort(store, invite, BOB, PASSWORDS[BOB])
    # Ann: a daily drill of the starter bank with three answers and a fourth item shown but not
    # answered, and a practice round not started.
    daily = drills.get_or_create_drill(store, ann.id, STARTER_BANK_NAME, DAY, size=5)
    t0 = datetime.now(UTC) - timedelta(hours=1)  # shown before answered: every "seconds" is positive
    for position, (choice, confidence) in enumerate([("A", 0.9), ("B", 0.5), ("A", 1.0)]):
        drills.mark_shown(store, ann.id, daily.key, position, at=t0 + timedelta(minutes=position))
        assert drills.submit(store, ann.id, daily.key, position, choice, confidence) is not None
    drills.mark_shown(store, ann.id, daily.key, 3, at=t0 + timedelta(minutes=3, microseconds=123456))
    drills.get_or_create_drill(store, ann.id, STARTER_BANK_NAME, DAY, size=3, kind="practice")
    # Bob: every pair of the awkward bank, one answered without having been marked shown.
    awkward = drills.get_or_create_drill(store, bob.id, AWKWARD_BANK, DAY, size=len(AWKWARD_PAIRS))
    assert drills.submit(store, bob.id, awkward.key, 0, "B", 0.75) is not None
    # Sign-ins: a session, and a failed attempt (a count that must not travel either).
    accounts.login(store, COHORT, ANN, PASSWORDS[ANN])
    token = accounts.start_session(store, ann.id)
    with pytest.raises(AccountError):
        accounts.login(store, COHORT, BOB, "not bob's password")

    # A simulated demo cohort, loaded as the lead's console does it (views/lead.py).
    demo_lead, demo_invite = accounts.create_cohort(store, DEMO_COHORT, "Dee", PASSWORDS[LEAD], by=lead)
    simulated = demo_cohort(
        store.load_bank(STARTER_BANK_NAME), n_raters=8, n_per_rater=40, seed=3, start="2026-10-01"
    )
    accounts.add_simulated_raters(store, demo_lead.cohort_id, sorted(simulated["rater"].unique()))
    assert store.import_judgments(simulated, bank=STARTER_BANK_NAME, cohort=DEMO_COHORT)["added"] == 320

    # Judgments from a CSV file, into a cohort of their own.
    csv_file = tmp / "judgments.csv"
    csv_file.write_text(CSV_JUDGMENTS, "utf-8")
    argv = ["judgments", "import", str(csv_file), "--bank", AWKWARD_BANK, "--cohort", CSV_COHORT, "--db", url]
    assert main(argv) == 0

    csv_invite = accounts.cohort_info(store, cohort_id(store, CSV_COHORT))["invite_code"]
    removed = sorted(simulated["rater"].unique())[1]
    add_new_fields(store, removed)
    add_gold_audit(store)
    store.engine.dispose()
    return Rich(
        invites={COHORT: invite, DEMO_COHORT: demo_invite, CSV_COHORT: csv_invite},
        drills=[
            (COHORT, ANN, STARTER_BANK_NAME, 5, "daily"),
            (COHORT, ANN, STARTER_BANK_NAME, 3, "practice"),
            (COHORT, BOB, AWKWARD_BANK, len(AWKWARD_PAIRS), "daily"),
        ],
        token=token,
        simulated=sorted(simulated["rater"].unique())[0],
        removed=removed,
    )


def add_new_fields(store: Store, removed: str) -> None:
    """Give every field version 2 of the export added a value that is not its default.

    Set directly in the tables, at fixed times: a bank owned by a cohort and the
    read-only starter bank, the lead as the admin, a removed rater, the raters of
    the CSV cohort imported, a repeat judgment, two lead invitations (one used)
    and three identities.
    """

    def fn(conn: sa.Connection) -> None:
        cohort_ids = dict(conn.execute(sa.select(cohorts.c.name, cohorts.c.id)).all())
        rater_ids = {
            (cohort, name): rid
            for cohort, name, rid in conn.execute(
                sa.select(cohorts.c.name, raters.c.name, raters.c.id).join(
                    cohorts, cohorts.c.id == raters.c.cohort_id
                )
            )
        }
        awkward = banks.c.name == AWKWARD_BANK
        conn.execute(sa.update(banks).where(awkward).values(owner_cohort_id=cohort_ids[COHORT]))
        conn.execute(sa.update(banks).where(banks.c.name == STARTER_BANK_NAME).values(read_only=True))
        conn.execute(sa.update(raters).values(admin=raters.c.id == rater_ids[(COHORT, LEAD)]))
        gone = raters.c.id == rater_ids[(DEMO_COHORT, removed)]
        conn.execute(sa.update(raters).where(gone).values(removed_at=REMOVED_AT))
        imported = raters.c.cohort_id == cohort_ids[CSV_COHORT]
        conn.execute(sa.update(raters).where(imported).values(kind="imported"))
        again = sa.and_(
            judgments.c.rater_id == rater_ids[(CSV_COHORT, "@at")], judgments.c.pair_id == "-minus-id"
        )
        conn.execute(sa.update(judgments).where(again).values(repeat=True))
        for token_hash, cohort, created, valid, used_at, used_by in INVITES:
            conn.execute(
                sa.insert(invites).values(
                    token_hash=token_hash,
                    cohort_id=cohort_ids[cohort],
                    role="lead",
                    created_at=created,
                    expires_at=created + valid,
                    used_at=used_at,
                    used_by=None if used_by is None else rater_ids[(cohort, used_by)],
                )
            )
        for issuer, subject, cohort, name in IDENTITIES:
            conn.execute(
                sa.insert(identities).values(
                    issuer=issuer,
                    subject=subject,
                    rater_id=rater_ids[(cohort, name)],
                    created_at=SIGNED_UP_AT,
                )
            )

    store.write(fn)


def add_gold_audit(store: Store) -> None:
    """Record :data:`PAIR_CHANGES`, leaving :data:`RETIRED`, and write :data:`GUIDELINES`.

    As the lead's console does (``storage.audit``), but for what only a rater deleted since could
    have written: set directly in the tables.
    """
    owner = cohort_id(store, COHORT)
    for bank, pair, field, old, new, by, name, at in PAIR_CHANGES:
        if by is None:
            row = {"pair_id": pair, "field": field, "old": old, "new": new, "changed_by_name": name}

            def gone(conn: sa.Connection, row: dict = row, at: datetime = at, bank: str = bank) -> None:
                bank_id = conn.execute(sa.select(banks.c.id).where(banks.c.name == bank)).scalar_one()
                conn.execute(
                    sa.insert(pair_changes).values(**row, bank_id=bank_id, changed_by=None, changed_at=at)
                )

            store.write(gone)
        elif field == "retired":
            done = audit.set_retired(
                store,
                bank=bank,
                cohort_id=owner,
                pair_id=pair,
                retired=new == "yes",
                by=rater_id(store, *by),
                moment=at,
            )
            assert done
        else:
            done = audit.change_pair(
                store,
                bank=bank,
                cohort_id=owner,
                pair_id=pair,
                field=field,
                new=new,
                by=rater_id(store, *by),
                moment=at,
            )
            assert done
    for cohort, text, by, at in GUIDELINES:
        if by is None:
            where = cohort_id(store, cohort)

            def unsigned(
                conn: sa.Connection, where: int = where, text: str = text, at: datetime = at
            ) -> None:
                conn.execute(
                    sa.insert(cohort_guidelines).values(
                        cohort_id=where, text=text, updated_at=at, updated_by=None
                    )
                )

            store.write(unsigned)
        else:
            audit.set_guidelines(
                store, cohort_id(store, cohort), text, by=rater_id(store, cohort, by), moment=at
            )


def new_fields(url: str) -> dict[str, list[tuple]]:
    """Every value of the fields version 2 of the export added, row ids replaced by names.

    Banks, raters, judgments and recorded changes in the order stored; invitations, identities,
    retired pairs and guidelines sorted.
    """
    store = Store(url)
    try:
        with store.read() as conn:
            cohort_names = dict(conn.execute(sa.select(cohorts.c.id, cohorts.c.name)).all())
            bank_names = dict(conn.execute(sa.select(banks.c.id, banks.c.name)).all())
            who = {
                rid: (cohort_names[cid], name)
                for rid, cid, name in conn.execute(sa.select(raters.c.id, raters.c.cohort_id, raters.c.name))
            }

            def utc(moment: datetime | None) -> datetime | None:
                return None if moment is None else as_utc(moment)

            return {
                "banks": [
                    (r.name, cohort_names.get(r.owner_cohort_id), r.read_only)
                    for r in conn.execute(sa.select(banks).order_by(banks.c.id))
                ],
                "raters": [
                    (*who[r.id], r.kind, r.admin, utc(r.removed_at))
                    for r in conn.execute(sa.select(raters).order_by(raters.c.id))
                ],
                "repeats": [
                    (*who[r.rater_id], bank_names[r.bank_id], r.pair_id, r.drill)
                    for r in conn.execute(sa.select(judgments).order_by(judgments.c.id))
                    if r.repeat
                ],
                "invites": sorted(
                    (
                        r.token_hash,
                        cohort_names[r.cohort_id],
                        r.role,
                        utc(r.created_at),
                        utc(r.expires_at),
                        utc(r.used_at),
                        who.get(r.used_by),
                    )
                    for r in conn.execute(sa.select(invites))
                ),
                "identities": sorted(
                    (r.issuer, r.subject, *who[r.rater_id], utc(r.created_at))
                    for r in conn.execute(sa.select(identities))
                ),
                "pair_changes": [
                    (
                        bank_names[r.bank_id],
                        r.pair_id,
                        r.field,
                        r.old,
                        r.new,
                        who.get(r.changed_by),
                        r.changed_by_name,
                        utc(r.changed_at),
                    )
                    for r in conn.execute(sa.select(pair_changes).order_by(pair_changes.c.id))
                ],
                "retired_pairs": sorted(
                    (bank_names[r.bank_id], r.pair_id, utc(r.retired_at))
                    for r in conn.execute(sa.select(retired_pairs))
                ),
                "guidelines": sorted(
                    (
                        cohort_names[r.cohort_id],
                        r.text,
                        who.get(r.updated_by, (None, None))[1],
                        utc(r.updated_at),
                    )
                    for r in conn.execute(sa.select(cohort_guidelines))
                ),
            }
    finally:
        store.engine.dispose()


def assert_every_new_field_set(fields: dict[str, list[tuple]], removed: str) -> None:
    """The rich store's new fields hold what :func:`add_new_fields` put there.

    So that a copy holding the same is not a vacuous check.
    """
    assert fields["banks"] == [(STARTER_BANK_NAME, None, True), (AWKWARD_BANK, COHORT, False)]
    by_name = {(cohort, name): rest for cohort, name, *rest in fields["raters"]}
    assert [who for who, (_, admin, _) in by_name.items() if admin] == [(COHORT, LEAD)]
    assert [(who, at) for who, (_, _, at) in by_name.items() if at] == [((DEMO_COHORT, removed), REMOVED_AT)]
    assert {by_name[(CSV_COHORT, n)][0] for n in ("-minus", "@at", 'comma, "quoted" ü')} == {"imported"}
    assert {by_name[(COHORT, n)][0] for n in (LEAD, ANN, BOB)} == {"account"}
    assert (CSV_COHORT, "@at", AWKWARD_BANK, "-minus-id") in [r[:4] for r in fields["repeats"]]
    assert fields["invites"] == sorted(
        (h, cohort, "lead", created, created + valid, used_at, None if by is None else (cohort, by))
        for h, cohort, created, valid, used_at, by in INVITES
    )
    assert fields["identities"] == sorted((*identity, SIGNED_UP_AT) for identity in IDENTITIES)
    assert fields["pair_changes"] == PAIR_CHANGES
    assert fields["retired_pairs"] == sorted(RETIRED)
    assert fields["guidelines"] == sorted(GUIDELINES)


def assert_same_new_fields(source: str, copy: str) -> None:
    """The store at ``copy`` holds every value of the new fields that the one at ``source`` holds."""
    before, after = new_fields(source), new_fields(copy)
    for kind, values in before.items():
        assert after[kind] == values, kind


def cohort_id(store: Store, name: str) -> int:
    with store.read() as conn:
        return conn.execute(sa.select(cohorts.c.id).where(cohorts.c.name == name)).scalar_one()


def rater_id(store: Store, cohort: str, name: str) -> int:
    return int(accounts.list_raters(store, cohort_id(store, cohort)).set_index("name").loc[name, "id"])


def assert_same_answers(source: str, copy: str, rich: Rich, tmp: Path) -> None:
    """The store at ``copy`` answers every question as the one at ``source`` does."""
    old, new = Store(source), Store(copy)
    try:
        # The judgments, as `python -m pairs judgments export` writes them.
        exported = []
        for n, url in enumerate([source, copy]):
            out = tmp / f"judgments-{n}.csv"
            assert main(["judgments", "export", "--out", str(out), "--db", url]) == 0
            exported.append(out.read_bytes())
        assert exported[0].count(b"\n") == 1 + 3 + 1 + 320 + 5
        assert exported[1] == exported[0]  # whichever databases are on either side
        # Every bank, pair for pair.
        assert new.bank_names() == old.bank_names() == [STARTER_BANK_NAME, AWKWARD_BANK]
        for name in old.bank_names():
            pd.testing.assert_frame_equal(new.load_bank(name), old.load_bank(name))
        assert new.load_bank(AWKWARD_BANK).drop(columns="gold_confidence").to_dict("records") == [
            {**dict.fromkeys(["rationale", "domain", "source", "probe", "probe_of", "styled"], ""), **pair}
            | {"tags": tuple(pair["tags"])}
            for pair in ({k: v for k, v in p.items() if k != "gold_confidence"} for p in AWKWARD_PAIRS)
        ]
        assert {k: new.get_setting(k) for k in SETTINGS} == SETTINGS
        # Cohorts keep their invite codes, bank and drill size; raters their names and roles.
        for cohort, invite in rich.invites.items():
            old_info = accounts.cohort_info(old, cohort_id(old, cohort))
            new_info = accounts.cohort_info(new, cohort_id(new, cohort))
            assert {**new_info, "id": 0} == {**old_info, "id": 0} and new_info["invite_code"] == invite
            new_raters, old_raters = (
                accounts.list_raters(s, info["id"]).drop(columns="id")
                for s, info in ((new, new_info), (old, old_info))
            )
            pd.testing.assert_frame_equal(new_raters, old_raters)  # row ids may differ: they are not exported
        # Each drill resumes where its rater stopped: same items, answers and next position.
        for cohort, name, bank, size, kind in rich.drills:
            before, after = (
                drills.get_or_create_drill(s, rater_id(s, cohort, name), bank, DAY, size=size, kind=kind)
                for s in (old, new)
            )
            assert after.bank == before.bank == bank
            without_ids = [[replace(item, bank_id=0) for item in d.items] for d in (after, before)]
            assert without_ids[0] == without_ids[1]  # row ids are not exported: the bank's may differ
            assert (after.answered, after.next_position) == (before.answered, before.next_position)
        assert [
            (d.answered, d.next_position)
            for d in (
                drills.get_or_create_drill(new, rater_id(new, c, n), b, DAY, size=s, kind=k)
                for c, n, b, s, k in rich.drills
            )
        ] == [(3, 3), (0, 0), (1, 1)]
        assert new.count_judgments() == old.count_judgments()
    finally:
        old.engine.dispose()
        new.engine.dispose()


@pytest.fixture(scope="module")
def rich_source(tmp_path_factory) -> tuple[str, Rich]:
    """The rich store, built once on SQLite, and what it holds; tests must not change it."""
    tmp = tmp_path_factory.mktemp("rich")
    url = f"sqlite:///{tmp / 'source.db'}"
    return url, build_rich_store(url, tmp)


@pytest.fixture(scope="module")
def exported(rich_source, tmp_path_factory) -> Path:
    """An export of the rich store; tests that change it work on a copy."""
    directory = tmp_path_factory.mktemp("exported") / "export"
    assert main(["store", "export", str(directory), "--db", rich_source[0]]) == 0
    return directory


# -- round trip ------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_export_import_export_gives_identical_files(db_url, target, new_db, tmp_path):
    rich = build_rich_store(db_url, tmp_path)
    first, second = tmp_path / "first", tmp_path / "second"
    summary = f"2 banks ({ALL_PAIRS} pairs), 3 cohorts, 15 raters, 12 drill items, 329 judgments, 4 settings"
    # The commands exactly as a user types them.
    done = run_process(["store", "export", str(first), "--db", db_url])
    assert (done.returncode, done.stderr, done.stdout) == (0, "", f"wrote {summary} to {first}\n")
    copy = new_db(target)
    done = run_process(["store", "import", str(first), "--db", copy])
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.splitlines() == [
        f"{first}: imported {summary} into {sa.engine.make_url(copy).render_as_string(hide_password=True)}",
        "No passwords were imported: give each person a new one with "
        "python -m pairs accounts set-password --cohort NAME --rater NAME",
    ]
    assert main(["store", "export", str(second), "--db", copy]) == 0

    before, after = files_of(first), files_of(second)
    assert list(before) == sorted(
        [MANIFEST, *FILES, "banks/001-starter.jsonl", "banks/002-awkward-bank-n.jsonl"]
    )
    assert list(after) == list(before)
    for name, data in before.items():
        assert after[name] == data, f"{name} differs after export, import, export"
    assert not [cell for cell in csv_cells(first) if cell.startswith(FORMULA_START)]
    assert json.loads(before[MANIFEST])["rows"] == {
        "banks": 2,
        "cohorts": 3,
        "drill_items": 12,
        "judgments": 329,
        "pairs": ALL_PAIRS,
        "raters": 15,
        "settings": 4,
        "invites": 2,
        "identities": 3,
        "pair_changes": len(PAIR_CHANGES),
        "retired_pairs": len(RETIRED),
        "cohort_guidelines": len(GUIDELINES),
        # no assessments in this store (tests/test_assessments_backup.py round-trips them)
        "assessment_pairs": 0,
        "assessment_plans": 0,
        "assessment_attempts": 0,
        "assessment_answers": 0,
    }
    assert json.loads(before[MANIFEST])["version"] == 2
    assert_same_answers(db_url, copy, rich, tmp_path)
    assert_every_new_field_set(new_fields(db_url), rich.removed)
    assert_same_new_fields(db_url, copy)


# Each field version 2 added, as an export that forgot it would write it: its default in every row,
# or for a time another time (None: every row of the file left out). A tuple: columns dropped together.
ANOTHER_TIME = datetime(2026, 1, 1, tzinfo=UTC)
DROPPED = [
    ("banks.csv", "owner_cohort", None),
    ("banks.csv", "read_only", False),
    ("raters.csv", "kind", "account"),
    ("raters.csv", "admin", False),
    ("raters.csv", "removed_at", None),
    ("judgments.csv", "repeat", False),
    ("invites.csv", "used_at", None),
    ("invites.csv", "used_by", None),
    ("invites.csv", None, None),
    ("identities.csv", None, None),
    ("pair_changes.csv", "field", "gold"),
    ("pair_changes.csv", "old", ""),
    ("pair_changes.csv", "new", ""),
    ("pair_changes.csv", ("changed_by_cohort", "changed_by"), None),
    ("pair_changes.csv", "changed_by_name", ""),
    ("pair_changes.csv", "changed_at", ANOTHER_TIME),
    ("pair_changes.csv", None, None),
    ("retired_pairs.csv", "retired_at", ANOTHER_TIME),
    ("retired_pairs.csv", None, None),
    ("cohort_guidelines.csv", "text", ""),
    ("cohort_guidelines.csv", "updated_at", ANOTHER_TIME),
    ("cohort_guidelines.csv", "updated_by", None),
    ("cohort_guidelines.csv", None, None),
]


@pytest.mark.parametrize("file, column, value", DROPPED, ids=lambda v: str(v))
def test_an_export_that_drops_a_new_field_fails_the_round_trip_check(
    file, column, value, rich_source, tmp_path, monkeypatch
):
    source = rich_source[0]
    real = storage.backup._read_store

    def forgetful(store, conn):
        tables, bank_frames = real(store, conn)
        if column is None:
            tables[file] = []
        else:
            columns = column if isinstance(column, tuple) else (column,)
            tables[file] = [{**row, **dict.fromkeys(columns, value)} for row in tables[file]]
        return tables, bank_frames

    monkeypatch.setattr(storage.backup, "_read_store", forgetful)
    assert main(["store", "export", str(tmp_path / "export"), "--db", source]) == 0
    copy = f"sqlite:///{tmp_path / 'copy.db'}"
    assert main(["store", "import", str(tmp_path / "export"), "--db", copy]) == 0
    with pytest.raises(AssertionError):
        assert_same_new_fields(source, copy)


# -- version 1 -------------------------------------------------------------------------


def test_a_version_1_export_is_imported_with_the_new_fields_filled(db_url, new_db, tmp_path, capsys):
    code, out, err = run(["store", "import", str(V1_EXPORT), "--db", db_url], capsys)
    assert (code, err) == (0, "")
    summary = "4 banks (9 pairs), 5 cohorts, 9 raters, 6 drill items, 11 judgments, 1 setting"
    assert out.startswith(f"{V1_EXPORT}: imported {summary} into ")
    fields = new_fields(db_url)
    # The starter bank and the banks used by two cohorts or none are the server's, read-only;
    # the bank only "Eval team" uses is that cohort's.
    assert fields["banks"] == [
        ("starter", None, True),
        ("team", "Eval team", False),
        ("shared", None, True),
        ("loose", None, True),
    ]
    # Leads and raters who drilled or who joined and did nothing yet are accounts; the simulated rater
    # and the names from judgment files are imported. The oldest lead is the admin.
    assert fields["raters"] == [
        ("Eval team", "Ada", "account", True, None),
        ("Eval team", "Bea", "account", False, None),
        ("Eval team", "Cal", "account", False, None),
        ("Starter users", "Dee", "account", False, None),
        ("Shared A", "Eve", "account", False, None),
        ("Shared B", "Fay", "account", False, None),
        ("Starter users", "sim-01", "imported", False, None),
        ("imported", "xan", "imported", False, None),
        ("imported", "yu", "imported", False, None),
    ]
    # Bea's second answer to t2 and xan's second to p1 of loose; not xan's p1 of another bank,
    # nor yu's p1 (another rater).
    assert fields["repeats"] == [
        ("Eval team", "Bea", "team", "t2", "daily:2026-03-03"),
        ("imported", "xan", "loose", "p1", "import:2026-03-01T11:00:00+00:00"),
    ]
    assert fields["invites"] == fields["identities"] == []
    assert fields["pair_changes"] == fields["retired_pairs"] == fields["guidelines"] == []

    # Exported again: version 2, whose version-1 columns are the version-1 files, byte for byte.
    again = tmp_path / "again"
    assert run(["store", "export", str(again), "--db", db_url], capsys)[0] == 0
    v1, v2 = files_of(V1_EXPORT), files_of(again)
    assert json.loads(v2[MANIFEST])["version"] == 2
    assert json.loads(v2[MANIFEST])["rows"] == {
        **json.loads(v1[MANIFEST])["rows"],
        "invites": 0,
        "identities": 0,
        "pair_changes": 0,
        "retired_pairs": 0,
        "cohort_guidelines": 0,
        "assessment_pairs": 0,
        "assessment_plans": 0,
        "assessment_attempts": 0,
        "assessment_answers": 0,
    }
    assert sorted(v2) == sorted([*v1, *ADDED_IN_2_FILES])
    for name, columns in FILES_BY_VERSION[1].items():
        rows = list(csv.DictReader(io.StringIO(v2[name].decode("utf-8"), newline="")))
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([row[c] for c in columns] for row in rows)
        assert buffer.getvalue().encode("utf-8") == v1[name], name
    for name in v1:
        if name.startswith("banks/"):
            assert v2[name] == v1[name], name
    # And it goes round as version 2 unchanged.
    copy, third = new_db(dialect(db_url)), tmp_path / "third"
    assert run(["store", "import", str(again), "--db", copy], capsys)[0] == 0
    assert run(["store", "export", str(third), "--db", copy], capsys)[0] == 0
    assert files_of(third) == v2


GOLD_AUDIT_FILES = ("pair_changes.csv", "retired_pairs.csv", "cohort_guidelines.csv")


def test_a_version_2_export_from_before_the_gold_audit_is_imported_with_those_tables_empty(
    rich_source, exported, db_url, tmp_path, capsys
):
    # Version 2 as first written: the same files less the three, which its manifest does not list.
    directory = tmp_path / "export"
    shutil.copytree(exported, directory)
    manifest = json.loads((directory / MANIFEST).read_text("utf-8"))
    for name in GOLD_AUDIT_FILES:
        (directory / name).unlink()
        del manifest["rows"][name.removesuffix(".csv")]
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", "utf-8")

    code, out, err = run(["store", "import", str(directory), "--db", db_url], capsys)
    assert (code, err) == (0, "")
    before, after = new_fields(rich_source[0]), new_fields(db_url)
    assert after["pair_changes"] == after["retired_pairs"] == after["guidelines"] == []
    assert before["pair_changes"] and before["retired_pairs"] and before["guidelines"]  # not vacuous
    for kind in ("banks", "raters", "repeats", "invites", "identities"):
        assert after[kind] == before[kind], kind
    # A bank's revision is not exported: each imported bank is at 1, as any bank newly loaded.
    store = Store(db_url)
    with store.read() as conn:
        assert dict(conn.execute(sa.select(banks.c.name, banks.c.revision)).all()) == {
            STARTER_BANK_NAME: 1,
            AWKWARD_BANK: 1,
        }
    store.engine.dispose()

    # Exported again: the full version 2, the three files holding a header only.
    again = tmp_path / "again"
    assert run(["store", "export", str(again), "--db", db_url], capsys)[0] == 0
    expected = files_of(exported)
    for name in GOLD_AUDIT_FILES:
        expected[name] = (",".join(FILES[name]) + "\n").encode()
    written = files_of(again)
    assert sorted(written) == sorted(expected)
    for name, data in expected.items():
        if name != MANIFEST:
            assert written[name] == data, name
    rows = json.loads(written[MANIFEST])["rows"]
    assert rows == {
        **json.loads(expected[MANIFEST])["rows"],
        "pair_changes": 0,
        "retired_pairs": 0,
        "cohort_guidelines": 0,
    }


def test_an_export_of_an_unknown_version_is_refused(tmp_path, capsys):
    for version in (3, True, "2", None, [2]):
        directory = tmp_path / f"export-{version}"
        shutil.copytree(V1_EXPORT, directory)
        manifest = json.loads((directory / MANIFEST).read_text("utf-8"))
        manifest["version"] = version
        (directory / MANIFEST).write_text(json.dumps(manifest), "utf-8")
        url = f"sqlite:///{tmp_path / f'{version}.db'}"
        code, out, err = run(["store", "import", str(directory), "--db", url], capsys)
        assert (code, out) == (1, f"{directory}: not valid, 1 problem\n")
        assert (
            err
            == f"{directory / MANIFEST}:: version: version {version!r}; this PairCal reads versions 1 and 2\n"
        )
        assert set(row_counts(url).values()) == {0}


@pytest.mark.postgres
def test_judgments_export_lists_judgments_without_a_time_alike_on_both_databases(new_db, tmp_path):
    bank_file, csv_file = tmp_path / "awkward.jsonl", tmp_path / "judgments.csv"
    bank_file.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in AWKWARD_PAIRS), "utf-8")
    csv_file.write_text(CSV_JUDGMENTS, "utf-8")
    exported = []
    for kind in ("sqlite", "postgresql"):
        url, out = new_db(kind), tmp_path / f"{kind}.csv"
        assert main(["import", str(bank_file), "--bank", "b", "--db", url]) == 0
        assert main(["judgments", "import", str(csv_file), "--bank", "b", "--db", url]) == 0
        assert main(["judgments", "export", "--out", str(out), "--db", url]) == 0
        exported.append(out.read_bytes())
    assert exported[1] == exported[0]


# -- passwords and sessions ------------------------------------------------------------


def test_no_password_or_session_is_exported_and_set_password_lets_people_in_again(
    db_url, new_db, tmp_path, capsys, monkeypatch
):
    rich = build_rich_store(db_url, tmp_path)
    source = Store(db_url)
    with source.read() as conn:
        hashes = [h for h in conn.execute(sa.text("SELECT password_hash FROM raters")).scalars() if h]
    assert len(hashes) == 4 and all(h.count("$") >= 3 for h in hashes)  # scheme$...$salt$digest
    directory = tmp_path / "export"
    assert run(["store", "export", str(directory), "--db", db_url], capsys)[0] == 0

    everything = b"".join(files_of(directory).values())
    assert rich.invites[COHORT].encode() in everything and b"=Ann" in everything  # not vacuous
    secret_bytes = [
        *(password.encode() for password in PASSWORDS.values()),
        *({h.strip("$").split("$")[0].encode() + b"$" for h in hashes}),  # the scheme's name
        *(h.encode() for h in hashes),
        *(h.split("$")[-1].encode() for h in hashes),  # the digest alone
        *(h.split("$")[-2].encode() for h in hashes),  # the salt alone
        rich.token.encode(),
        hashlib.sha256(rich.token.encode()).hexdigest().encode(),  # what the sessions table holds
    ]
    for secret in secret_bytes:
        assert secret not in everything

    copy = Store(new_db(dialect(db_url)))
    assert run(["store", "import", str(directory), "--db", copy.url], capsys)[0] == 0
    with copy.read() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM sessions")).scalar_one() == 0
        accounts_rows = conn.execute(sa.text("SELECT password_hash, failed_logins, locked_until FROM raters"))
        assert set(accounts_rows) == {(None, 0, None)}
    assert accounts.resolve_session(copy, rich.token) is None
    for name, password in PASSWORDS.items():
        with pytest.raises(AccountError, match=re.escape(accounts.WRONG_LOGIN)):
            accounts.login(copy, COHORT, name, password)

    # Ann's new password on standard input, in a real process as an administrator would type it.
    new_ann = "Änn's new pässword 🎉"
    argv = ["accounts", "set-password", "--cohort", COHORT, "--rater", ANN, "--stdin", "--db", copy.url]
    done = run_process(argv, stdin=new_ann + "\n")
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == f"password set for {ANN!r} in cohort {COHORT!r}\n"
    assert accounts.login(copy, f"  {COHORT} ", ANN, new_ann).name == ANN
    with pytest.raises(AccountError):
        accounts.login(copy, COHORT, ANN, PASSWORDS[ANN])
    # Bob's through main(), standard input replaced.
    monkeypatch.setattr(sys, "stdin", io.StringIO("bob's new password\r\nignored second line\n"))
    code, out, err = run(argv[:5] + [BOB, "--stdin", "--db", copy.url], capsys)
    assert (code, err, out) == (0, "", f"password set for {BOB!r} in cohort {COHORT!r}\n")
    assert accounts.login(copy, COHORT, BOB, "bob's new password").name == BOB
    # The lead's: a random temporary password, printed once.
    code, out, err = run(argv[:5] + [LEAD, "--db", copy.url], capsys)
    assert (code, err) == (0, "")
    prefix = (
        f"temporary password for {LEAD!r} in cohort {COHORT!r} (shown only now; give it to them privately): "
    )
    assert out.startswith(prefix) and out.endswith("\n")
    lead = accounts.login(copy, COHORT, LEAD, out[len(prefix) : -1])
    assert (lead.name, lead.role) == (LEAD, "lead")

    # Refused: a simulated rater, an unknown rater or cohort, a password too short.
    refusals = [
        (
            [DEMO_COHORT, rich.simulated],
            f"error: '{rich.simulated}' is a simulated rater; simulated raters never sign in.\n",
        ),
        ([COHORT, "nobody"], f"error: There is no rater 'nobody' in a cohort '{COHORT}'.\n"),
        (["no such cohort", ANN], f"error: There is no rater '{ANN}' in a cohort 'no such cohort'.\n"),
        # The command's output escapes control characters: a name cannot drive the terminal.
        ([COHORT, "\x00"], f"error: There is no rater '\\x00' in a cohort '{COHORT}'.\n"),
    ]
    for (cohort, name), message in refusals:
        monkeypatch.setattr(sys, "stdin", io.StringIO("a good long password\n"))
        argv = ["accounts", "set-password", "--cohort", cohort, "--rater", name, "--stdin", "--db", copy.url]
        assert run(argv, capsys) == (1, "", message)
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    argv = ["accounts", "set-password", "--cohort", COHORT, "--rater", ANN, "--stdin", "--db", copy.url]
    assert run(argv, capsys) == (1, "", "error: The password must have at least 8 characters.\n")
    with copy.read() as conn:
        hashes = dict(conn.execute(sa.text("SELECT name, password_hash FROM raters")).all())
    assert sorted(name for name, h in hashes.items() if h) == sorted([LEAD, ANN, BOB])
    assert accounts.login(copy, COHORT, ANN, new_ann).name == ANN  # the refused password changed nothing

    # In the source store, a new password ends the sessions the old one started.
    assert accounts.resolve_session(source, rich.token).name == ANN
    monkeypatch.setattr(sys, "stdin", io.StringIO("a good long password\n"))
    argv = ["accounts", "set-password", "--cohort", COHORT, "--rater", ANN, "--stdin", "--db", db_url]
    assert run(argv, capsys)[0] == 0
    assert accounts.resolve_session(source, rich.token) is None
    for store in (source, copy):
        store.engine.dispose()


# -- an import needs an empty database -------------------------------------------------


@pytest.mark.parametrize("content", ["starter bank", "a setting"])
def test_import_into_a_database_that_is_not_empty_is_refused(db_url, exported, content, capsys):
    store = Store(db_url)
    if content == "starter bank":
        store.ensure_starter_bank()
        tables = "banks, pairs"
    else:
        store.set_setting("theme", "dark")
        tables = "settings"
    before = row_counts(db_url)
    code, out, err = run(["store", "import", str(exported), "--db", db_url], capsys)
    assert (code, out) == (2, "")
    assert err == (
        f"error: {store.url_for_display}: the database is not empty (it has rows in {tables}); import only "
        "into an empty database. Nothing was imported.\n"
    )
    assert row_counts(db_url) == before
    store.engine.dispose()


# -- corrupted exports -----------------------------------------------------------------


def edit_csv(path: Path, row: int, column: str, value: str) -> None:
    """Set one cell of a CSV file of an export (``row`` 1 is the first after the header)."""
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    rows[row][rows[0].index(column)] = value
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


def edit_manifest(directory: Path, **changes: int) -> None:
    """Add ``changes`` to the manifest's row counts."""
    manifest = json.loads((directory / MANIFEST).read_text("utf-8"))
    for kind, change in changes.items():
        manifest["rows"][kind] += change
    (directory / MANIFEST).write_text(json.dumps(manifest), "utf-8")


def unknown_rater(d: Path) -> list[str]:
    edit_csv(d / "judgments.csv", 1, "rater", "nobody")
    return [f"{d}/judgments.csv:2: rater: unknown rater 'nobody' of cohort {COHORT!r}"]


def bad_time(d: Path) -> list[str]:
    edit_csv(d / "judgments.csv", 3, "answered_at", "2026-11-20 09:00:00")
    return [
        f"{d}/judgments.csv:4: answered_at: not a time like 2026-11-20T09:00:00.000000Z: "
        "'2026-11-20 09:00:00'"
    ]


def wrong_row_count(d: Path) -> list[str]:
    edit_manifest(d, judgments=1)
    return [f"{d}/{MANIFEST}:: rows: judgments: the manifest says 330, the files hold 329"]


def truncated_bank_line(d: Path) -> list[str]:
    path = d / "banks" / "002-awkward-bank-n.jsonl"
    lines = path.read_text("utf-8").splitlines(keepends=True)
    path.write_text("".join([lines[0], lines[1][:40] + "\n", *lines[2:]]), "utf-8")
    return [
        f"{path}:2: json: not valid JSON (Unterminated string starting at column 29)",
        f"{d}/{MANIFEST}:: rows: pairs: the manifest says {ALL_PAIRS}, the files hold {STARTER_PAIRS}",
    ]


def drill_item_not_in_bank(d: Path) -> list[str]:
    edit_csv(d / "drill_items.csv", 1, "pair_id", "no-such-pair")
    return [f"{d}/drill_items.csv:2: pair_id: unknown pair 'no-such-pair' of bank 'starter'"]


def wrong_header(d: Path) -> list[str]:
    path = d / "raters.csv"
    path.write_text(path.read_text("utf-8").replace(",removed_at\n", ",removed\n", 1), "utf-8")
    return [
        f"{d}/raters.csv:1: header: must be cohort,name,role,simulated,created_at,kind,admin,removed_at",
        f"{d}/{MANIFEST}:: rows: raters: the manifest says 15, the files hold 0",
    ]


def bad_choice_and_confidence(d: Path) -> list[str]:
    edit_csv(d / "judgments.csv", 2, "choice", "C")
    edit_csv(d / "judgments.csv", 2, "confidence", "0.3")
    return [
        f"{d}/judgments.csv:3: choice: must be A, B or tie, got 'C'",
        f"{d}/judgments.csv:3: confidence: must be in [0.5, 1], got 0.3",
    ]


def missing_cell(d: Path) -> list[str]:
    path = d / "cohorts.csv"
    lines = path.read_text("utf-8").splitlines(keepends=True)
    lines[2] = lines[2].rsplit(",", 1)[0] + "\n"
    path.write_text("".join(lines), "utf-8")
    return [
        f"{d}/cohorts.csv:3: row: 6 cells, expected 7",
        f"{d}/{MANIFEST}:: rows: cohorts: the manifest says 3, the files hold 2",
    ]


def unclosed_quote(d: Path) -> list[str]:
    path = d / "settings.csv"
    path.write_text(path.read_text("utf-8") + 'theme,"dark\n', "utf-8")
    return [f"{d}/settings.csv:7: csv: unexpected end of data"]


def not_utf8(d: Path) -> list[str]:  # a regression test: this was a UnicodeDecodeError traceback
    path = d / "raters.csv"
    path.write_bytes(path.read_bytes().replace(b"\nDemo cohort,Dee,", b"\nDemo cohort,D\xe9e,"))
    return [
        f"{d}/raters.csv:5: encoding: not UTF-8 (byte 0xe9)",
        f"{d}/{MANIFEST}:: rows: raters: the manifest says 15, the files hold 0",
    ]


def manifest_not_utf8(d: Path) -> list[str]:  # a regression test: this was a UnicodeDecodeError traceback
    path = d / MANIFEST
    data = path.read_bytes().replace(b'"version"', b'"v\xffrsion"')
    path.write_bytes(data)
    return [f"{path}:3: encoding: not UTF-8"]


def bank_twice(d: Path) -> list[str]:  # a regression test: the two were merged into one bank, silently
    path = d / "banks.csv"
    lines = path.read_text("utf-8").splitlines(keepends=True)
    path.write_text("".join([*lines, lines[2]]), "utf-8")
    edit_manifest(d, banks=1, pairs=len(AWKWARD_PAIRS))
    return [f"{d}/banks.csv:4: name: bank {AWKWARD_BANK!r} appears twice"]


def position_too_large(d: Path) -> list[str]:  # a regression test: this was an OverflowError traceback
    edit_csv(d / "drill_items.csv", 5, "position", "99999999999999999999")
    return [
        f"{d}/drill_items.csv:6: position: must be a whole number from 0 to 2147483647, "
        "got '99999999999999999999'"
    ]


def unknown_owner_and_kind(d: Path) -> list[str]:
    edit_csv(d / "banks.csv", 2, "owner_cohort", "no such cohort")
    edit_csv(d / "raters.csv", 1, "kind", "robot")
    edit_csv(d / "raters.csv", 2, "admin", "yes")
    edit_csv(d / "judgments.csv", 1, "repeat", "")
    return [
        f"{d}/banks.csv:3: owner_cohort: unknown cohort 'no such cohort'",
        f"{d}/raters.csv:2: kind: must be account or imported, got 'robot'",
        f"{d}/raters.csv:3: admin: must be true or false, got 'yes'",
        f"{d}/judgments.csv:2: repeat: must be true or false, got ''",
    ]


def csv_row(path: Path, column: str, cell: str) -> int:
    """The number of the first row of a CSV file whose ``column`` holds ``cell`` (1: after the header)."""
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return next(n for n, row in enumerate(rows, start=1) if row[column] == cell)


def invite_and_identity_of_nobody(d: Path) -> list[str]:
    used = csv_row(d / "invites.csv", "used_by", encode_text(LEAD))  # the other one is unused
    edit_csv(d / "invites.csv", used, "used_by", "nobody")
    edit_csv(d / "invites.csv", 3 - used, "role", "owner")
    # Identities are ordered by time, then issuer and subject: Dee at id.example.org first.
    edit_csv(d / "identities.csv", 3, "rater", "nobody")
    edit_csv(d / "identities.csv", 1, "cohort", "no such cohort")
    return [
        f"{d}/invites.csv:{used + 1}: used_by: unknown rater 'nobody' of cohort {COHORT!r}",
        f"{d}/invites.csv:{4 - used}: role: must be rater or lead, got 'owner'",
        f"{d}/identities.csv:4: rater: unknown rater 'nobody' of cohort {DEMO_COHORT!r}",
        f"{d}/identities.csv:2: rater: unknown rater 'Dee' of cohort 'no such cohort'",
    ]


def invite_and_identity_twice(d: Path) -> list[str]:
    for name in ("invites.csv", "identities.csv"):
        lines = (d / name).read_text("utf-8").splitlines(keepends=True)
        (d / name).write_text("".join([*lines, lines[1]]), "utf-8")
    edit_manifest(d, invites=1, identities=1)
    return [
        f"{d}/invites.csv:4: token_hash: an invitation appears twice",
        f"{d}/identities.csv:5: subject: '10001' of {ISSUER!r} appears twice",
    ]


def csv_line(path: Path, row: int) -> int:
    """The line of a CSV file that row ``row`` starts on (1: the first after the header)."""
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        start = reader.line_num + 1
        for number, _ in enumerate(reader, start=1):
            if number == row:
                return start
            start = reader.line_num + 1
    raise IndexError(row)


def gold_audit_of_nobody(d: Path) -> list[str]:
    changes, gone, rules = d / "pair_changes.csv", d / "retired_pairs.csv", d / "cohort_guidelines.csv"
    edit_csv(changes, 1, "bank", "no such bank")
    edit_csv(changes, 2, "field", "prompt")
    edit_csv(changes, 4, "changed_by", "nobody")
    edit_csv(changes, 5, "pair_id", "no-such-pair")
    edit_csv(changes, 6, "changed_by_cohort", "")
    edit_csv(changes, 9, "changed_by_cohort", encode_text(COHORT))  # a rater deleted since: no cohort
    edit_csv(gone, 2, "pair_id", "no-such-pair")
    edit_csv(gone, 1, "bank", "no such bank")
    edit_csv(rules, 1, "updated_by", "nobody")
    edit_csv(rules, 3, "cohort", "no such cohort")
    both = "give changed_by_cohort and changed_by, or neither"
    return [
        f"{changes}:{csv_line(changes, 1)}: bank: unknown bank 'no such bank'",
        f"{changes}:{csv_line(changes, 2)}: field: must be gold, rationale or retired, got 'prompt'",
        f"{changes}:{csv_line(changes, 4)}: changed_by: unknown rater 'nobody' of cohort {COHORT!r}",
        f"{changes}:{csv_line(changes, 5)}: pair_id: unknown pair 'no-such-pair' of bank {AWKWARD_BANK!r}",
        f"{changes}:{csv_line(changes, 6)}: changed_by_cohort: {both}",
        f"{changes}:{csv_line(changes, 9)}: changed_by: {both}",
        f"{gone}:3: pair_id: unknown pair 'no-such-pair' of bank {AWKWARD_BANK!r}",
        f"{gone}:2: bank: unknown bank 'no such bank'",
        f"{rules}:2: updated_by: unknown rater 'nobody' of cohort {COHORT!r}",
        f"{rules}:{csv_line(rules, 3)}: cohort: unknown cohort 'no such cohort'",
    ]


def gold_audit_twice(d: Path) -> list[str]:
    gone, rules = d / "retired_pairs.csv", d / "cohort_guidelines.csv"
    lines = gone.read_text("utf-8").splitlines(keepends=True)
    gone.write_text("".join([*lines, lines[2]]), "utf-8")
    with open(rules, "a", encoding="utf-8", newline="") as handle:  # Demo cohort's guidelines again
        csv.writer(handle, lineterminator="\n").writerow(
            [DEMO_COHORT, "Other rules.", "2026-11-23T00:00:00.000000Z", ""]
        )
    edit_manifest(d, retired_pairs=1, cohort_guidelines=1)
    return [
        f"{gone}:4: pair_id: pair '=SUM(A1)' of bank {AWKWARD_BANK!r} appears twice",
        f"{rules}:{csv_line(rules, 4)}: cohort: cohort {DEMO_COHORT!r} appears twice",
    ]


CORRUPTIONS = [
    unknown_rater,
    bad_time,
    wrong_row_count,
    truncated_bank_line,
    drill_item_not_in_bank,
    wrong_header,
    bad_choice_and_confidence,
    missing_cell,
    unclosed_quote,
    not_utf8,
    manifest_not_utf8,
    bank_twice,
    position_too_large,
    unknown_owner_and_kind,
    invite_and_identity_of_nobody,
    invite_and_identity_twice,
    gold_audit_of_nobody,
    gold_audit_twice,
]
PROBLEM_LINE = re.compile(r"(?P<file>/\S[^:]*):(?P<line>\d*): (?P<field>\w+): (?P<message>.+)")


def assert_refused(directory: Path, url: str, expected: list[str], capsys, *, exact: bool) -> None:
    """Importing ``directory`` into the empty database ``url`` fails with ``expected`` among the problems."""
    code, out, err = run(["store", "import", str(directory), "--db", url], capsys)
    problems = err.splitlines()
    assert code == 1
    assert all(PROBLEM_LINE.fullmatch(p) and p.startswith(f"{directory}/") for p in problems), problems
    if exact:
        assert sorted(problems) == sorted(expected)
    else:
        assert set(expected) <= set(problems), problems
    noun = "problem" if len(problems) == 1 else "problems"
    assert out == f"{directory}: not valid, {len(problems)} {noun}\n"
    assert set(row_counts(url).values()) == {0}


@pytest.mark.parametrize("corrupt", CORRUPTIONS, ids=lambda f: f.__name__)
def test_a_corrupted_export_is_refused_whole(corrupt, exported, tmp_path, capsys):
    directory = tmp_path / "export"
    shutil.copytree(exported, directory)
    expected = corrupt(directory)
    # A file that cannot be read, or a bank file that cannot, makes every row naming what it held a
    # problem too; the problems asked for must be among those listed.
    assert_refused(directory, f"sqlite:///{tmp_path / 'new.db'}", expected, capsys, exact=False)


def test_every_problem_of_an_export_is_listed_and_nothing_is_imported(db_url, exported, tmp_path, capsys):
    directory = tmp_path / "export"
    shutil.copytree(exported, directory)
    cases = [unknown_rater, bad_time, wrong_row_count, drill_item_not_in_bank, bad_choice_and_confidence]
    expected = [problem for corrupt in cases for problem in corrupt(directory)]
    assert len(expected) == 6
    assert_refused(directory, db_url, expected, capsys, exact=True)
    # The database is still empty: the good export goes in.
    assert run(["store", "import", str(exported), "--db", db_url], capsys)[0] == 0


@pytest.mark.postgres
@pytest.mark.parametrize(
    "file, column, value, message",
    [
        ("drill_items.csv", "drill", "daily:" + "x" * 70, "value too long for type character varying(64)"),
        (
            "settings.csv",
            "value",
            "a NUL \x00 character",
            "PostgreSQL text fields cannot contain NUL (0x00) bytes",
        ),
    ],
)
def test_a_value_postgresql_refuses_is_reported_not_a_traceback(
    file, column, value, message, exported, new_db, tmp_path, capsys
):
    # A regression test: PostgreSQL's DataError escaped as a traceback (SQLite stores such values).
    directory = tmp_path / "export"
    shutil.copytree(exported, directory)
    edit_csv(directory / file, 1, column, value)
    url = new_db("postgresql")
    code, out, err = run(["store", "import", str(directory), "--db", url], capsys)
    assert (code, out) == (1, "")
    assert err == f"{directory}: not consistent, nothing imported: {message}\n"
    assert set(row_counts(url).values()) == {0}


def test_two_rows_with_one_key_are_refused_and_nothing_is_imported(db_url, exported, tmp_path, capsys):
    directory = tmp_path / "export"
    shutil.copytree(exported, directory)
    path = directory / "judgments.csv"
    lines = path.read_text("utf-8").splitlines(keepends=True)
    path.write_text("".join([*lines, lines[1]]), "utf-8")
    edit_manifest(directory, judgments=1)
    code, out, err = run(["store", "import", str(directory), "--db", db_url], capsys)
    assert (code, out) == (1, "")
    assert err.startswith(f"{directory}: not consistent, nothing imported: ") and err.count("\n") <= 2
    assert set(row_counts(db_url).values()) == {0}


def missing_directory(d: Path) -> Path:
    shutil.rmtree(d)
    return d / MANIFEST


def missing_manifest(d: Path) -> Path:
    (d / MANIFEST).unlink()
    return d / MANIFEST


def missing_csv_file(d: Path) -> Path:
    (d / "cohorts.csv").unlink()
    return d / "cohorts.csv"


def missing_bank_file(d: Path) -> Path:
    (d / "banks" / "001-starter.jsonl").unlink()
    return d / "banks" / "001-starter.jsonl"


def missing_gold_audit_file(d: Path) -> Path:  # one a version-2 export may lack, but the manifest lists
    (d / "retired_pairs.csv").unlink()
    return d / "retired_pairs.csv"


@pytest.mark.parametrize(
    "remove",
    [missing_directory, missing_manifest, missing_csv_file, missing_bank_file, missing_gold_audit_file],
    ids=lambda f: f.__name__,
)
def test_a_missing_directory_or_file_is_a_one_line_error(remove, exported, tmp_path, capsys):
    directory = tmp_path / "export"
    shutil.copytree(exported, directory)
    missing = remove(directory)
    url = f"sqlite:///{tmp_path / 'new.db'}"
    assert run(["store", "import", str(directory), "--db", url], capsys) == (
        2,
        "",
        f"error: {missing}: No such file or directory\n",
    )
    assert set(row_counts(url).values()) == {0}


def test_a_directory_that_is_not_an_export_is_refused_without_a_traceback(tmp_path):
    (tmp_path / "not-an-export").mkdir()
    (tmp_path / "not-an-export" / MANIFEST).write_text('{"format": "something else"}\n', "utf-8")
    url = f"sqlite:///{tmp_path / 'new.db'}"
    done = run_process(["store", "import", str(tmp_path / "not-an-export"), "--db", url])
    assert (done.returncode, done.stdout) == (1, f"{tmp_path / 'not-an-export'}: not valid, 1 problem\n")
    assert done.stderr == f"{tmp_path / 'not-an-export' / MANIFEST}:: format: not a paircal-store export\n"
    done = run_process(["store", "import", str(tmp_path / "nowhere"), "--db", url])
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"error: {tmp_path / 'nowhere' / MANIFEST}: No such file or directory\n"


# -- where an export goes --------------------------------------------------------------


def test_an_export_into_a_directory_that_is_not_empty_writes_nothing(db_url, tmp_path, capsys):
    Store(db_url).ensure_starter_bank()
    full = tmp_path / "full"
    full.mkdir()
    (full / "keep.txt").write_text("mine", "utf-8")
    a_file = tmp_path / "a-file"
    a_file.write_text("also mine", "utf-8")
    for target in (full, a_file):
        code, out, err = run(["store", "export", str(target), "--db", db_url], capsys)
        assert (code, out) == (2, "")
        assert err == f"error: {target}: exists and is not an empty directory; nothing written\n"
    assert [p.name for p in full.iterdir()] == ["keep.txt"] and (full / "keep.txt").read_text() == "mine"
    assert a_file.read_text() == "also mine"
    database = Path(sa.engine.make_url(db_url).database or "").name  # SQLite's file, beside the export
    left = {p.name for p in tmp_path.iterdir()} - {database, f"{database}-wal", f"{database}-shm"}
    assert left == {"a-file", "full"}  # and no temporary directory


def test_an_export_leaves_no_temporary_files(db_url, tmp_path, capsys, monkeypatch):
    Store(db_url).ensure_starter_bank()
    out = tmp_path / "out"
    out.mkdir()
    empty = out / "empty"
    empty.mkdir()
    for target in (out / "fresh", empty):  # a new path, and an empty directory
        assert run(["store", "export", str(target), "--db", db_url], capsys)[0] == 0
        assert sorted(files_of(target)) == sorted([MANIFEST, *FILES, "banks/001-starter.jsonl"])
    assert sorted(p.name for p in out.iterdir()) == ["empty", "fresh"]
    assert files_of(out / "fresh") == files_of(empty)

    # A write that fails part-way removes what was written.
    import storage.backup

    real_write, calls = storage.backup.atomic_write, []

    def failing_write(path, chunks):
        calls.append(path)
        if len(calls) == 4:
            raise OSError(28, "No space left on device", str(path))
        real_write(path, chunks)

    monkeypatch.setattr(storage.backup, "atomic_write", failing_write)
    code, stdout, err = run(["store", "export", str(out / "failed"), "--db", db_url], capsys)
    assert (code, stdout) == (2, "")
    assert err == f"error: {calls[3]}: No space left on device\n"
    assert sorted(p.name for p in out.iterdir()) == ["empty", "fresh"]


# -- formula-like text -----------------------------------------------------------------

TRICKY = ["=SUM(A1)", "'quoted", "''", "'", "'=1", "+1", "-1", "@at", "\ttab", "\rCR", "", "plain", " =space"]


def test_encode_text_hides_formulas_and_decode_text_undoes_it_exactly():
    for text in TRICKY:
        cell = encode_text(text)
        assert decode_text(cell) == text
        assert not cell.startswith(FORMULA_START)
        assert cell in (text, "'" + text)  # one apostrophe at most, and only at the start
        if text.startswith(("'", *FORMULA_START)):
            assert cell == "'" + text
    assert [encode_text(text) for text in ("plain", "", "a=b")] == ["plain", "", "a=b"]


def test_formula_like_text_survives_the_round_trip_exactly(exported, db_url, capsys):
    cells = csv_cells(exported)
    assert len(cells) > 329 * 12
    assert [cell for cell in cells if cell.startswith(FORMULA_START)] == []
    for cell in [
        "'=SUM(A1)",
        "''quoted",
        "'-minus-id",
        "'=Ann",
        "''Bob O'Brien",
        "'@Lead",
        "'-minus",
        "'@at",
    ]:
        assert cell in cells
    assert f"'{AWKWARD_BANK}" in cells and f"'{COHORT}" in cells and f"'{CSV_COHORT}" in cells
    assert "''apostrophe" in cells and "'''two" in cells and "'\ttab first, @at" in cells

    assert run(["store", "import", str(exported), "--db", db_url], capsys)[0] == 0
    store = Store(db_url)
    bank = store.load_bank(AWKWARD_BANK)
    for column in ("id", "prompt", "response_a", "response_b", "rationale", "domain", "source"):
        assert list(bank[column]) == [pair.get(column, "") for pair in AWKWARD_PAIRS]
    assert bank.loc[0, "prompt"] == "=SUM(A1)" and bank.loc[1, "prompt"] == "'quoted prompt"
    assert {key: store.get_setting(key) for key in SETTINGS} == SETTINGS
    names = {
        cohort: list(accounts.list_raters(store, cohort_id(store, cohort))["name"])
        for cohort in (COHORT, CSV_COHORT)
    }
    assert names == {COHORT: [LEAD, ANN, BOB], CSV_COHORT: ["-minus", "@at", 'comma, "quoted" ü']}
    judged = store.export_judgments(cohort=CSV_COHORT)
    assert sorted(judged["pair_id"]) == sorted(
        ["=SUM(A1)", "'quoted", "-minus-id", 'ünï 🎉, "x"', "-minus-id"]
    )
    store.engine.dispose()
