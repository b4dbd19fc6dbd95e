"""The SQL of assessment forms: pairs set aside, each cohort's plan, attempts and their answers.

What is due when, and what a rater may see, lives in :mod:`training.assessments`; this module
reads and writes the rows, each public function in one transaction (or inside the caller's
connection where it takes one).

An attempt is one row of ``assessment_attempts`` (unique per rater and stage, so two tabs opening
the same form end with one attempt) and its items in ``assessment_answers``, stored when it opens:
a reload, another tab or a restarted server shows the same pairs in the same order, and the
deadline is a stored time, not a timer in the browser. An answer is written only while its item is
unanswered and the attempt open and before its deadline, all checked in the same transaction.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pairs.judgments import COLUMNS as JUDGMENT_COLUMNS
from storage.schema import (
    STAGES,
    assessment_answers,
    assessment_attempts,
    assessment_pairs,
    assessment_plans,
    banks,
    cohorts,
    judgments,
    raters,
)
from storage.store import Store

PLAN_FIELDS = (
    "post_after_days",
    "post_after_drills",
    "retention_after_days",
    "time_limit_minutes",
    "min_accuracy",
    "max_overconfidence",
)
"""The settings of a cohort's plan besides its bank (see ``storage.schema.assessment_plans``)."""


# -- pairs set aside -------------------------------------------------------------------------


def set_marked(
    store: Store, cohort_id: int, bank_id: int, pair_ids: Iterable[str], *, marked: bool, at: datetime
) -> int:
    """Set pairs of a bank aside for the cohort's forms (``marked``) or give them back to drills.

    Returns the number of pairs whose state changed. A pair marked again keeps its form;
    marking or unmarking clears the forms of the others (the split is then made again).
    """
    ids = sorted({str(p) for p in pair_ids})

    def fn(conn: Connection) -> int:
        key = (assessment_pairs.c.cohort_id == int(cohort_id), assessment_pairs.c.bank_id == int(bank_id))
        held = set(conn.execute(sa.select(assessment_pairs.c.pair_id).where(*key)).scalars())
        if marked:
            new = [p for p in ids if p not in held]
            if new:
                conn.execute(
                    sa.insert(assessment_pairs),
                    [
                        {"cohort_id": int(cohort_id), "bank_id": int(bank_id), "pair_id": p, "marked_at": at}
                        for p in new
                    ],
                )
            changed = len(new)
        else:
            gone = [p for p in ids if p in held]
            if gone:
                conn.execute(sa.delete(assessment_pairs).where(*key, assessment_pairs.c.pair_id.in_(gone)))
            changed = len(gone)
        if changed:
            conn.execute(sa.update(assessment_pairs).where(*key).values(form=""))
        return changed

    return int(store.write(fn))


def set_forms(store: Store, cohort_id: int, bank_id: int, forms: Mapping[str, str]) -> None:
    """Store the form of each marked pair (``{pair_id: "X"}``); pairs not named get no form."""

    def fn(conn: Connection) -> None:
        key = (assessment_pairs.c.cohort_id == int(cohort_id), assessment_pairs.c.bank_id == int(bank_id))
        conn.execute(sa.update(assessment_pairs).where(*key).values(form=""))
        for form in sorted(set(forms.values())):
            chosen = [str(p) for p, f in forms.items() if f == form]
            conn.execute(
                sa.update(assessment_pairs)
                .where(*key, assessment_pairs.c.pair_id.in_(chosen))
                .values(form=str(form))
            )

    store.write(fn)


def marked_pairs(store: Store, cohort_id: int, *, bank_id: int | None = None) -> pd.DataFrame:
    """The cohort's pairs set aside: columns ``bank``, ``bank_id``, ``pair_id``, ``form``, sorted."""
    query = (
        sa.select(
            banks.c.name, assessment_pairs.c.bank_id, assessment_pairs.c.pair_id, assessment_pairs.c.form
        )
        .join(banks, banks.c.id == assessment_pairs.c.bank_id)
        .where(assessment_pairs.c.cohort_id == int(cohort_id))
        .order_by(assessment_pairs.c.bank_id, assessment_pairs.c.pair_id)
    )
    if bank_id is not None:
        query = query.where(assessment_pairs.c.bank_id == int(bank_id))
    with store.read() as conn:
        rows = conn.execute(query).all()
    return pd.DataFrame(rows, columns=["bank", "bank_id", "pair_id", "form"])


def hidden_pairs(store: Store, cohort_id: int, bank: str, conn: Connection | None = None) -> set[str]:
    """Ids of the pairs of ``bank`` the cohort set aside for its forms (empty for an unknown bank)."""
    query = (
        sa.select(assessment_pairs.c.pair_id)
        .join(banks, banks.c.id == assessment_pairs.c.bank_id)
        .where(assessment_pairs.c.cohort_id == int(cohort_id), banks.c.name == bank)
    )
    if conn is not None:
        return set(conn.execute(query).scalars())
    with store.read() as c:
        return set(c.execute(query).scalars())


def rater_cohort(conn: Connection, rater_id: int) -> int | None:
    """The cohort id of a rater (None when there is no such rater)."""
    found = conn.execute(sa.select(raters.c.cohort_id).where(raters.c.id == int(rater_id))).scalar()
    return None if found is None else int(found)


# -- the plan --------------------------------------------------------------------------------


def read_plan(store: Store, cohort_id: int, conn: Connection | None = None) -> dict[str, Any] | None:
    """The cohort's plan: ``bank_id``, ``bank`` and :data:`PLAN_FIELDS`; None when it has none."""
    query = (
        sa.select(assessment_plans, banks.c.name.label("bank"))
        .join(banks, banks.c.id == assessment_plans.c.bank_id)
        .where(assessment_plans.c.cohort_id == int(cohort_id))
    )
    if conn is not None:
        row = conn.execute(query).mappings().first()
    else:
        with store.read() as c:
            row = c.execute(query).mappings().first()
    return None if row is None else dict(row)


def write_plan(
    store: Store, cohort_id: int, bank_id: int, values: Mapping[str, Any], *, at: datetime
) -> None:
    """Store (replace) the cohort's plan."""
    row = {"cohort_id": int(cohort_id), "bank_id": int(bank_id), "updated_at": at}
    row.update({field: values.get(field) for field in PLAN_FIELDS})

    def fn(conn: Connection) -> None:
        conn.execute(sa.delete(assessment_plans).where(assessment_plans.c.cohort_id == int(cohort_id)))
        conn.execute(sa.insert(assessment_plans).values(**row))

    store.write(fn)


# -- attempts --------------------------------------------------------------------------------


def attempts(conn: Connection, rater_id: int) -> dict[str, dict[str, Any]]:
    """The rater's attempts by stage: the row, its ``bank`` (name), ``answered`` and ``items`` counts."""
    a = assessment_attempts
    counts = (
        sa.select(
            assessment_answers.c.attempt_id,
            sa.func.count().label("n_items"),
            sa.func.count(assessment_answers.c.choice).label("n_answered"),
        )
        .group_by(assessment_answers.c.attempt_id)
        .subquery()
    )
    query = (
        sa.select(
            a,
            banks.c.name.label("bank"),
            sa.func.coalesce(counts.c.n_items, 0),
            sa.func.coalesce(counts.c.n_answered, 0),
        )
        .join(banks, banks.c.id == a.c.bank_id)
        .outerjoin(counts, counts.c.attempt_id == a.c.id)
        .where(a.c.rater_id == int(rater_id))
    )
    found: dict[str, dict[str, Any]] = {}
    for row in conn.execute(query).all():
        record = dict(row._mapping)
        record["items"], record["answered"] = int(row[-2]), int(row[-1])
        found[record["stage"]] = record
    return found


def create_attempt(
    store: Store,
    rater_id: int,
    stage: str,
    form: str,
    bank_id: int,
    items: list[dict[str, Any]],
    *,
    started_at: datetime,
    deadline: datetime,
) -> int:
    """Store a new attempt and its items (``position``, ``pair_id``, ``left``) unless the stage has one.

    Returns the id of the stage's attempt: the new one, or the one another tab stored first.
    """
    if stage not in STAGES:
        raise ValueError(f"stage must be one of {', '.join(STAGES)}; got {stage!r}.")

    def fn(conn: Connection) -> int:
        key = (assessment_attempts.c.rater_id == int(rater_id), assessment_attempts.c.stage == stage)
        found = conn.execute(sa.select(assessment_attempts.c.id).where(*key)).scalar()
        if found is not None:
            return int(found)
        values = {
            "rater_id": int(rater_id),
            "stage": stage,
            "form": form,
            "bank_id": int(bank_id),
            "started_at": started_at,
            "deadline": deadline,
        }
        conn.execute(store.insert_ignore(assessment_attempts, ["rater_id", "stage"]).values(**values))
        attempt_id = int(conn.execute(sa.select(assessment_attempts.c.id).where(*key)).scalar_one())
        if (
            items
            and not conn.execute(
                sa.select(assessment_answers.c.position).where(assessment_answers.c.attempt_id == attempt_id)
            ).first()
        ):
            conn.execute(
                sa.insert(assessment_answers),
                [
                    {
                        "attempt_id": attempt_id,
                        "position": int(i["position"]),
                        "pair_id": str(i["pair_id"]),
                        "left": i["left"],
                    }
                    for i in items
                ],
            )
        return attempt_id

    return int(store.write(fn))


def read_items(conn: Connection, attempt_id: int) -> list[dict[str, Any]]:
    """An attempt's items in position order, with their answers (None while unanswered)."""
    query = (
        sa.select(assessment_answers)
        .where(assessment_answers.c.attempt_id == int(attempt_id))
        .order_by(assessment_answers.c.position)
    )
    return [dict(row) for row in conn.execute(query).mappings()]


def mark_shown(store: Store, attempt_id: int, position: int, at: datetime) -> bool:
    """Record when an item was first shown; False when it had been already."""

    def fn(conn: Connection) -> bool:
        done = conn.execute(
            sa.update(assessment_answers)
            .where(
                assessment_answers.c.attempt_id == int(attempt_id),
                assessment_answers.c.position == int(position),
                assessment_answers.c.shown_at.is_(None),
            )
            .values(shown_at=at)
        )
        return bool(done.rowcount)

    return bool(store.write(fn))


def record_answer(
    store: Store, attempt_id: int, position: int, choice: str, confidence: float | None, *, at: datetime
) -> str:
    """Store an answer if the attempt takes it: ``"stored"``, ``"late"``, ``"closed"`` or ``"answered"``.

    ``"late"``: ``at`` is past the deadline (the attempt is closed then, in the same transaction);
    ``"closed"``: the attempt was closed already; ``"answered"``: the item has an answer. The last
    answer of an attempt closes it.
    """

    def fn(conn: Connection) -> str:
        a = assessment_attempts
        attempt = conn.execute(
            sa.select(a.c.deadline, a.c.closed_at).where(a.c.id == int(attempt_id))
        ).first()
        if attempt is None:
            raise KeyError(f"no assessment attempt {attempt_id}")
        if attempt.closed_at is not None:
            return "closed"
        if at > attempt.deadline:
            conn.execute(sa.update(a).where(a.c.id == int(attempt_id)).values(closed_at=attempt.deadline))
            return "late"
        item = (
            assessment_answers.c.attempt_id == int(attempt_id),
            assessment_answers.c.position == int(position),
        )
        shown = conn.execute(sa.select(assessment_answers.c.shown_at).where(*item)).first()
        if shown is None:
            raise KeyError(f"attempt {attempt_id} has no item at position {position}")
        seconds = None if shown.shown_at is None else max(0.0, (at - shown.shown_at).total_seconds())
        done = conn.execute(
            sa.update(assessment_answers)
            .where(*item, assessment_answers.c.choice.is_(None))
            .values(choice=choice, confidence=confidence, answered_at=at, seconds=seconds)
        )
        if not done.rowcount:
            return "answered"
        left = conn.execute(
            sa.select(sa.func.count())
            .select_from(assessment_answers)
            .where(assessment_answers.c.attempt_id == int(attempt_id), assessment_answers.c.choice.is_(None))
        ).scalar_one()
        if int(left) == 0:
            conn.execute(sa.update(a).where(a.c.id == int(attempt_id)).values(closed_at=at))
        return "stored"

    return str(store.write(fn))


def close_attempt(store: Store, attempt_id: int, *, at: datetime) -> bool:
    """Close an open attempt at ``at`` (or at its deadline, if earlier); False if it was closed."""

    def fn(conn: Connection) -> bool:
        a = assessment_attempts
        row = conn.execute(sa.select(a.c.deadline, a.c.closed_at).where(a.c.id == int(attempt_id))).first()
        if row is None or row.closed_at is not None:
            return False
        conn.execute(sa.update(a).where(a.c.id == int(attempt_id)).values(closed_at=min(at, row.deadline)))
        return True

    return bool(store.write(fn))


def cohort_raters(conn: Connection, cohort_id: int) -> list[int]:
    """Ids of the cohort's raters (not its leads), in the order they joined: the counterbalancing order."""
    query = (
        sa.select(raters.c.id)
        .where(raters.c.cohort_id == int(cohort_id), raters.c.role == "rater")
        .order_by(raters.c.id)
    )
    return [int(i) for i in conn.execute(query).scalars()]


def cohort_started(store: Store, cohort_id: int) -> bool:
    """Whether any rater of the cohort has opened an assessment form (the forms are then fixed)."""
    a = assessment_attempts
    query = (
        sa.select(sa.func.count())
        .select_from(a)
        .join(raters, raters.c.id == a.c.rater_id)
        .where(raters.c.cohort_id == int(cohort_id))
    )
    with store.read() as conn:
        return int(conn.execute(query).scalar_one()) > 0


# -- answers as judgments -------------------------------------------------------------------------


def form_judgments(
    store: Store, *, cohort: str | None, bank: str, names: Collection[str] | None = None
) -> pd.DataFrame:
    """The answers given in closed assessment forms on ``bank``: the judgments CSV layout plus ``form``.

    ``form`` is the stage the answer was given at (``"pre"``, ``"post"`` or ``"retention"``), as
    ``calibration.data.prepare`` and the training effect read it. Only answered items of closed
    attempts (an open form shows nothing yet), of ``cohort``'s raters (every cohort if None) or of
    ``names``; oldest first. An answer on a pair the rater had already answered in a drill (its
    gold was shown there, e.g. a drill drawn before the lead set the pair aside) is left out: it
    would measure memory, not skill.
    """
    a, x = assessment_attempts, assessment_answers
    seen_in_a_drill = (
        sa.exists()
        .where(
            judgments.c.rater_id == a.c.rater_id,
            judgments.c.bank_id == a.c.bank_id,
            judgments.c.pair_id == x.c.pair_id,
            judgments.c.answered_at < x.c.answered_at,
        )
        .correlate(a, x)
    )
    query = (
        sa.select(
            raters.c.name,
            x.c.pair_id,
            x.c.choice,
            x.c.confidence,
            x.c.left,
            x.c.answered_at,
            x.c.seconds,
            a.c.stage,
        )
        .join(a, a.c.id == x.c.attempt_id)
        .join(raters, raters.c.id == a.c.rater_id)
        .join(cohorts, cohorts.c.id == raters.c.cohort_id)
        .join(banks, banks.c.id == a.c.bank_id)
        .where(banks.c.name == bank, x.c.choice.is_not(None), a.c.closed_at.is_not(None), ~seen_in_a_drill)
        .order_by(x.c.answered_at, a.c.id, x.c.position)
    )
    if cohort is not None:
        query = query.where(cohorts.c.name == cohort)
    if names is not None:
        query = query.where(raters.c.name.in_([str(n) for n in names]))
    with store.read() as conn:
        rows = conn.execute(query).all()
    frame = pd.DataFrame(rows, columns=[*JUDGMENT_COLUMNS, "form"])
    frame["answered_at"] = pd.to_datetime(frame["answered_at"], utc=True)
    frame["confidence"] = frame["confidence"].astype(float)
    frame["seconds"] = frame["seconds"].astype(float)
    return frame


def forms_version(store: Store, cohort_id: int) -> tuple[int, int]:
    """(closed attempts, answers in them) of the cohort's raters: changes when a form closes."""
    a, x = assessment_attempts, assessment_answers
    query = (
        sa.select(sa.func.count(sa.distinct(a.c.id)), sa.func.count(x.c.choice))
        .select_from(a)
        .join(raters, raters.c.id == a.c.rater_id)
        .outerjoin(x, x.c.attempt_id == a.c.id)
        .where(raters.c.cohort_id == int(cohort_id), a.c.closed_at.is_not(None))
    )
    with store.read() as conn:
        closed, answered = conn.execute(query).one()
    return int(closed), int(answered)


def insert_closed_attempts(store: Store, attempts_rows: list[dict[str, Any]]) -> int:
    """Store finished attempts in one transaction (a demo cohort's simulated forms).

    Each element: ``rater_id``, ``stage``, ``form``, ``bank_id``, ``started_at``, ``deadline``,
    ``closed_at`` and ``answers`` (dicts with ``position``, ``pair_id``, ``left``, ``choice``,
    ``confidence``, ``shown_at``, ``answered_at``, ``seconds``). An attempt the rater has at that stage
    already is left as it is. Returns the attempts stored.
    """

    def fn(conn: Connection) -> int:
        stored = 0
        for attempt in attempts_rows:
            values = {k: v for k, v in attempt.items() if k != "answers"}
            key = (
                assessment_attempts.c.rater_id == int(values["rater_id"]),
                assessment_attempts.c.stage == values["stage"],
            )
            if conn.execute(sa.select(assessment_attempts.c.id).where(*key)).first():
                continue
            conn.execute(sa.insert(assessment_attempts).values(**values))
            attempt_id = int(conn.execute(sa.select(assessment_attempts.c.id).where(*key)).scalar_one())
            if attempt["answers"]:
                conn.execute(
                    sa.insert(assessment_answers),
                    [{"attempt_id": attempt_id, **row} for row in attempt["answers"]],
                )
            stored += 1
        return stored

    return int(store.write(fn))


__all__ = [
    "PLAN_FIELDS",
    "attempts",
    "close_attempt",
    "cohort_raters",
    "cohort_started",
    "create_attempt",
    "form_judgments",
    "forms_version",
    "hidden_pairs",
    "insert_closed_attempts",
    "mark_shown",
    "marked_pairs",
    "rater_cohort",
    "read_items",
    "read_plan",
    "record_answer",
    "set_forms",
    "set_marked",
    "write_plan",
]
