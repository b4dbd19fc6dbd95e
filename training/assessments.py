"""Assessment forms: held-out pairs taken before training, after it, and later again.

A cohort's lead sets pairs of a bank aside (:func:`mark_pairs`); no drill, practice round or review
of the cohort shows them again. PairCal splits them into parallel forms
(:func:`pairs.forms.split_forms`) matched on trap mix, length and polish balance and, where the
cohort has answered them, difficulty, and the lead sees how well matched they are
(:func:`form_balance`). The lead's plan (:func:`save_plan`) says when the forms fall due:

* **pre** (baseline): as soon as the rater joins, before the first drill;
* **post**: ``post_after_days`` days or ``post_after_drills`` finished drills after the baseline,
  whichever comes first;
* **retention** (optional): ``retention_after_days`` days after the post form.

Each rater takes each stage once, on the form :func:`pairs.forms.form_order` gives the rater's place
in the cohort (a Latin square: half the raters take form X first, half form Y), so the two forms'
difficulty cancels out of the cohort's change. An attempt is timed: it closes
``time_limit_minutes`` after it opens, the deadline is stored, and an answer after it is refused.
Nothing about a form's pairs (gold, reason, right or wrong) is shown until the attempt is closed;
then :func:`results` gives accuracy, score and overconfidence, and the gold and reasons.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from calibration.data import prepare
from calibration.leaderboard import skill_points
from storage import assessments as rows
from storage.schema import STAGES, as_utc
from storage.store import Store, now
from training.accounts import AccountError, Rater, cohort_info

DEFAULT_PLAN: dict[str, Any] = {
    "post_after_days": 7,
    "post_after_drills": 5,
    "retention_after_days": None,
    "time_limit_minutes": 20,
    "min_accuracy": 0.8,
    "max_overconfidence": 0.10,
}
"""A plan's settings until the lead changes them."""

STAGE_NAMES = {"pre": "Baseline form", "post": "Post-training form", "retention": "Retention form"}
"""What the pages call each stage."""

MIN_DRILL_PAIRS = 10
"""Pairs of the cohort's drill bank that must stay in drills when the lead sets pairs aside."""

READINESS_QUIZ = 20
"""Pairs of the quiz the readiness estimate speaks of (a platform's qualification quiz)."""

DEMO_FORM_SIZE = 30
"""Pairs per form in the demo cohort's simulated forms: enough for the effect to show."""

MIN_DIFFICULTY_ANSWERS = 3
"""Answers a pair needs before its cohort accuracy is used to balance the forms' difficulty."""


class AssessmentClosed(Exception):
    """The form takes no more answers: its deadline has passed, or it was closed."""


@dataclass(frozen=True)
class FormItem:
    """One pair of an attempt, as shown: its place, pair id, the response on the left, any answer."""

    position: int
    pair_id: str
    left: str
    choice: str | None
    confidence: float | None
    shown_at: datetime | None


@dataclass(frozen=True)
class Attempt:
    """A rater's attempt at one stage's form."""

    id: int
    stage: str
    form: str
    bank: str
    started_at: datetime
    deadline: datetime
    closed_at: datetime | None
    items: tuple[FormItem, ...] = ()

    @property
    def closed(self) -> bool:
        """True once the attempt takes no more answers."""
        return self.closed_at is not None

    @property
    def answered(self) -> int:
        """Items answered."""
        return sum(item.choice is not None for item in self.items)

    @property
    def next_position(self) -> int | None:
        """The first unanswered item's position, None when every item is answered."""
        return next((item.position for item in self.items if item.choice is None), None)

    def seconds_left(self, moment: datetime) -> float:
        """Seconds until the deadline (0 when past it)."""
        return max(0.0, (self.deadline - as_utc(moment)).total_seconds())


@dataclass(frozen=True)
class Status:
    """Where a rater stands: the stage due now (None if none), attempts by stage, what comes next."""

    due: str | None
    attempts: dict[str, Attempt] = field(default_factory=dict)
    next_note: str = ""

    @property
    def open_attempt(self) -> Attempt | None:
        """The attempt in progress, if any."""
        return next((a for a in self.attempts.values() if not a.closed), None)


# -- the lead's side -----------------------------------------------------------------------------


def _require_lead(lead: Rater) -> None:
    if not lead.is_lead:
        raise AccountError("Only the cohort's lead can change its assessments.")


def mark_pairs(
    store: Store, lead: Rater, bank: str, pair_ids: list[str] | None = None, *, marked: bool = True
) -> int:
    """Set pairs of ``bank`` aside for the cohort's forms (every pair when ``pair_ids`` is None).

    ``marked=False`` gives them back to drills. The forms are split again afterwards
    (:func:`split`). Returns the number of pairs whose state changed.
    """
    _require_lead(lead)
    pairs = store.load_bank(bank)
    ids = pairs["id"].astype(str).tolist() if pair_ids is None else [str(p) for p in pair_ids]
    unknown = sorted(set(ids) - set(pairs["id"].astype(str)))
    if unknown:
        raise AccountError(f"The bank {bank} has no pair {', '.join(unknown[:5])}.")
    if marked and bank == cohort_info(store, lead.cohort_id)["bank"]:
        held = hidden_pairs(store, lead.cohort_id, bank) | set(ids)
        if len(pairs) - len(held & set(pairs["id"].astype(str))) < MIN_DRILL_PAIRS:
            raise AccountError(
                f"{bank} is the cohort's drill bank: set aside fewer pairs, so that at least "
                f"{MIN_DRILL_PAIRS} stay for drills (or drill on another bank)."
            )
    changed = rows.set_marked(store, lead.cohort_id, store.bank_id(bank), ids, marked=marked, at=now())
    if changed:
        split(store, lead.cohort_id, bank)
    return changed


def _marked_bank(store: Store, cohort_id: int, bank: str) -> pd.DataFrame:
    """The bank's rows of the cohort's marked pairs."""
    marked = rows.marked_pairs(store, cohort_id, bank_id=store.bank_id(bank))
    pairs = store.load_bank(bank)
    return pairs[pairs["id"].astype(str).isin(set(marked["pair_id"]))].reset_index(drop=True)


def pair_easiness(store: Store, cohort: str, bank: str, pair_ids: list[str]) -> pd.Series | None:
    """Share of the cohort's answers that were right, per pair with enough answers; None if none has.

    Read from drill answers (given before the pair was set aside) and closed forms.
    """
    answers = pd.concat(
        [
            store.cohort_judgments(cohort=cohort, bank=bank),
            rows.form_judgments(store, cohort=cohort, bank=bank).drop(columns="form"),
        ],
        ignore_index=True,
    )
    answers = answers[answers["pair_id"].isin(pair_ids)]
    if answers.empty:
        return None
    correct = prepare(store.load_bank(bank), answers).groupby("pair_id")["correct"].agg(["mean", "count"])
    enough = correct[correct["count"] >= MIN_DIFFICULTY_ANSWERS]["mean"]
    return enough.rename("easiness") if len(enough) else None


def split(store: Store, cohort_id: int, bank: str, *, n_forms: int | None = None, seed: int = 0) -> pd.Series:
    """Split the cohort's marked pairs of ``bank`` into ``n_forms`` parallel forms and store them.

    ``n_forms`` None: as many as the cohort's plan needs (:func:`forms_needed`). Returns the form
    of each pair (:func:`pairs.forms.split_forms`); empty when fewer than ``2 * n_forms`` pairs
    are marked (a form needs at least two).
    """
    from pairs.forms import split_forms

    if n_forms is None:
        n_forms = forms_needed(plan(store, cohort_id))
    marked = _marked_bank(store, cohort_id, bank)
    if len(marked) < 2 * n_forms:
        rows.set_forms(store, cohort_id, store.bank_id(bank), {})
        return pd.Series(dtype=object)
    cohort = _cohort_name(store, cohort_id)
    difficulty = pair_easiness(store, cohort, bank, marked["id"].astype(str).tolist())
    try:
        forms = split_forms(marked, n_forms=n_forms, difficulty=difficulty, seed=seed)
    except ValueError as error:  # e.g. probes and shared prompts leave fewer groups than forms
        raise AccountError(f"The pairs set aside cannot be split into {n_forms} forms: {error}") from None
    rows.set_forms(store, cohort_id, store.bank_id(bank), {str(k): str(v) for k, v in forms.items()})
    return forms


def forms_of(store: Store, cohort_id: int, bank: str) -> pd.Series:
    """The stored form of each marked pair of ``bank`` (index pair id); pairs without a form left out."""
    marked = rows.marked_pairs(store, cohort_id, bank_id=store.bank_id(bank))
    marked = marked[marked["form"] != ""]
    return pd.Series(marked["form"].to_numpy(), index=marked["pair_id"].to_numpy(), name="form", dtype=object)


def form_balance(store: Store, cohort_id: int, bank: str) -> pd.DataFrame:
    """How well the stored forms are matched (:func:`pairs.forms.form_balance`); empty before a split."""
    from pairs.forms import form_balance as balance

    forms = forms_of(store, cohort_id, bank)
    if forms.empty:
        return pd.DataFrame()
    marked = _marked_bank(store, cohort_id, bank)
    difficulty = pair_easiness(store, _cohort_name(store, cohort_id), bank, list(forms.index))
    return balance(marked, forms, difficulty=difficulty)


def hidden_pairs(store: Store, cohort_id: int, bank: str) -> set[str]:
    """Pairs of ``bank`` the cohort set aside for its forms: no drill, practice or review shows them."""
    return rows.hidden_pairs(store, cohort_id, bank)


def _cohort_name(store: Store, cohort_id: int) -> str:
    return str(cohort_info(store, cohort_id)["name"])


def _check_count(name: str, value: Any, *, minimum: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise AccountError(f"{name} must be a whole number of at least {minimum}; got {value!r}.")
    return int(value)


def save_plan(
    store: Store,
    lead: Rater,
    *,
    bank: str,
    post_after_days: int | None = 7,
    post_after_drills: int | None = 5,
    retention_after_days: int | None = None,
    time_limit_minutes: int = 20,
    min_accuracy: float = 0.8,
    max_overconfidence: float = 0.10,
) -> dict[str, Any]:
    """Store the cohort's schedule and qualification bar; returns the plan as :func:`plan` reads it.

    At least one of ``post_after_days`` and ``post_after_drills`` must be set: the post form falls due
    at whichever comes first. ``retention_after_days`` None means no retention form.
    """
    _require_lead(lead)
    values: dict[str, Any] = {
        "post_after_days": _check_count("post_after_days", post_after_days, minimum=0),
        "post_after_drills": _check_count("post_after_drills", post_after_drills, minimum=1),
        "retention_after_days": _check_count("retention_after_days", retention_after_days, minimum=1),
        "time_limit_minutes": _check_count("time_limit_minutes", time_limit_minutes, minimum=1),
        "min_accuracy": float(min_accuracy),
        "max_overconfidence": float(max_overconfidence),
    }
    if values["post_after_days"] is None and values["post_after_drills"] is None:
        raise AccountError("Say after how many days or how many drills the post form falls due.")
    if not 0.5 <= values["min_accuracy"] <= 1.0:
        raise AccountError(f"The accuracy bar must be between 50% and 100%; got {min_accuracy!r}.")
    if not 0.0 <= values["max_overconfidence"] <= 0.5:
        raise AccountError(
            f"The overconfidence bar must be between 0 and 50 points; got {max_overconfidence!r}."
        )
    rows.write_plan(store, lead.cohort_id, store.bank_id(bank), values, at=now())
    found = plan(store, lead.cohort_id)
    assert found is not None
    # a retention form needs a third form (the baseline's golds were shown on its results page);
    # the forms are split again only while nobody has opened one
    stored = set(forms_of(store, lead.cohort_id, bank))
    if stored and len(stored) != forms_needed(found) and not rows.cohort_started(store, lead.cohort_id):
        split(store, lead.cohort_id, bank)
    return found


def forms_needed(the_plan: dict[str, Any] | None) -> int:
    """Parallel forms the plan needs: three with a retention form, so no stage repeats a form whose
    golds a results page showed; two otherwise."""
    return 3 if the_plan is not None and the_plan.get("retention_after_days") else 2


def plan(store: Store, cohort_id: int) -> dict[str, Any] | None:
    """The cohort's plan (``bank`` and the settings of :func:`save_plan`), None when it has none."""
    return rows.read_plan(store, cohort_id)


# -- the rater's side ----------------------------------------------------------------------------


def _attempt(record: dict[str, Any], items: list[dict[str, Any]] | None = None) -> Attempt:
    return Attempt(
        id=int(record["id"]),
        stage=record["stage"],
        form=record["form"],
        bank=record["bank"],
        started_at=record["started_at"],
        deadline=record["deadline"],
        closed_at=record["closed_at"],
        items=tuple(
            FormItem(
                position=int(i["position"]),
                pair_id=i["pair_id"],
                left=i["left"],
                choice=i["choice"],
                confidence=None if i["confidence"] is None else float(i["confidence"]),
                shown_at=i["shown_at"],
            )
            for i in items or []
        ),
    )


def _finished_drills_since(store: Store, rater_id: int, since: datetime) -> int:
    """Drills (daily and practice) the rater finished on or after the day of ``since``."""
    from storage import drills as drill_rows
    from training.drills import parse_drill_key

    with store.read() as conn:
        counts = drill_rows.drill_counts(conn, rater_id, "%")
    day = as_utc(since).date()
    return sum(
        1 for key, (size, done) in counts.items() if size and done >= size and parse_drill_key(key)[1] >= day
    )


def status(store: Store, rater_id: int, *, at: datetime | None = None) -> Status:
    """Where the rater stands with the cohort's forms at ``at`` (default now).

    An open attempt past its deadline is closed here (its unanswered items stay unanswered). The
    stage due is the first not taken whose time has come: the baseline at once, the post form by
    the plan's days or drills after the baseline closed, the retention form by its days after the
    post form. Leads, and cohorts without a plan or without split forms, have nothing due.
    """
    moment = as_utc(at or now())
    with store.read() as conn:
        cohort_id = rows.rater_cohort(conn, rater_id)
        if cohort_id is None:
            raise ValueError(f"there is no rater with id {rater_id}.")
        found = rows.attempts(conn, rater_id)
        the_plan = rows.read_plan(store, cohort_id, conn)
        is_rater = rater_id in rows.cohort_raters(conn, cohort_id)
    for record in found.values():
        if record["closed_at"] is None and moment > record["deadline"]:
            rows.close_attempt(store, int(record["id"]), at=moment)
            record["closed_at"] = record["deadline"]
    taken = {stage: _attempt(record) for stage, record in found.items()}
    if the_plan is None or not is_rater or forms_of(store, cohort_id, the_plan["bank"]).empty:
        return Status(due=None, attempts=taken)
    if any(not a.closed for a in taken.values()):
        open_stage = next(a.stage for a in taken.values() if not a.closed)
        return Status(due=open_stage, attempts=taken)
    if "pre" not in taken:
        return Status(due="pre", attempts=taken)
    if "post" not in taken:
        since = taken["pre"].closed_at or taken["pre"].started_at
        days, drills_needed = the_plan["post_after_days"], the_plan["post_after_drills"]
        waited = (moment - since).total_seconds() / 86400
        done = _finished_drills_since(store, rater_id, since) if drills_needed is not None else 0
        if (days is not None and waited >= days) or (drills_needed is not None and done >= drills_needed):
            return Status(due="post", attempts=taken)
        parts = []
        if days is not None:
            parts.append(f"on {(since + timedelta(days=days)).date().isoformat()}")
        if drills_needed is not None:
            left = drills_needed - done
            parts.append(f"after {left} more finished drill{'s' if left != 1 else ''}")
        return Status(
            due=None, attempts=taken, next_note="Your post-training form opens " + " or ".join(parts) + "."
        )
    if "retention" not in taken and the_plan["retention_after_days"] is not None:
        since = taken["post"].closed_at or taken["post"].started_at
        opens = since + timedelta(days=int(the_plan["retention_after_days"]))
        if moment >= opens:
            return Status(due="retention", attempts=taken)
        return Status(
            due=None, attempts=taken, next_note=f"Your retention form opens on {opens.date().isoformat()}."
        )
    return Status(due=None, attempts=taken)


def stage_form(store: Store, rater_id: int, stage: str) -> str:
    """The form the rater takes at ``stage``: the counterbalanced order of :func:`pairs.forms.form_order`."""
    from pairs.forms import form_order

    with store.read() as conn:
        cohort_id = rows.rater_cohort(conn, rater_id)
        if cohort_id is None:
            raise ValueError(f"there is no rater with id {rater_id}.")
        members = rows.cohort_raters(conn, cohort_id)
        the_plan = rows.read_plan(store, cohort_id, conn)
    if the_plan is None:
        raise AssessmentClosed("The cohort has no assessment plan.")
    labels = sorted(set(forms_of(store, cohort_id, the_plan["bank"])))
    index = members.index(rater_id) if rater_id in members else 0
    return str(form_order(index, len(labels), stages=STAGES)[stage])


def open_form(store: Store, rater_id: int, *, at: datetime | None = None) -> Attempt | None:
    """The attempt to work on now: the one in progress, else a new one for the stage due; None if none.

    A new attempt stores its items (the form's pairs in a random order, each with a random side on the
    left, seeded by rater and stage) and its deadline, ``time_limit_minutes`` from ``at``.
    """
    from training.drills import drill_seed

    moment = as_utc(at or now())
    state = status(store, rater_id, at=moment)
    if state.due is None:
        return None
    if state.due not in state.attempts:
        with store.read() as conn:
            cohort_id = rows.rater_cohort(conn, rater_id)
            the_plan = rows.read_plan(store, int(cohort_id or 0), conn)
        assert the_plan is not None and cohort_id is not None
        form = stage_form(store, rater_id, state.due)
        forms = forms_of(store, cohort_id, the_plan["bank"])
        ids = sorted(forms.index[forms == form].astype(str))
        rng = np.random.default_rng(drill_seed(rater_id, f"form:{state.due}"))
        order = rng.permutation(len(ids))
        items = [
            {"position": k, "pair_id": ids[i], "left": "A" if rng.random() < 0.5 else "B"}
            for k, i in enumerate(order)
        ]
        rows.create_attempt(
            store,
            rater_id,
            state.due,
            form,
            int(the_plan["bank_id"]),
            items,
            started_at=moment,
            deadline=moment + timedelta(minutes=int(the_plan["time_limit_minutes"])),
        )
    return attempt(store, rater_id, state.due)


def attempt(store: Store, rater_id: int, stage: str) -> Attempt | None:
    """The rater's attempt at ``stage`` with its items, None if there is none."""
    with store.read() as conn:
        record = rows.attempts(conn, rater_id).get(stage)
        if record is None:
            return None
        items = rows.read_items(conn, int(record["id"]))
    return _attempt(record, items)


def mark_shown(store: Store, rater_id: int, stage: str, position: int, *, at: datetime | None = None) -> bool:
    """Record when the item was first shown (the seconds an answer took start there)."""
    found = attempt(store, rater_id, stage)
    if found is None:
        raise ValueError(f"rater {rater_id} has no {stage} attempt.")
    return rows.mark_shown(store, found.id, int(position), as_utc(at or now()))


def answer(
    store: Store,
    rater_id: int,
    stage: str,
    position: int,
    choice: str,
    confidence: float | None,
    *,
    at: datetime | None = None,
) -> bool:
    """Store the answer to one item of the rater's ``stage`` form; False if it had an answer already.

    Nothing about the pair is returned: no feedback while the form is open.

    Raises
    ------
    AssessmentClosed
        When the deadline has passed (the attempt is closed then) or the attempt is closed.
    ValueError
        For a choice other than ``"A"``, ``"B"`` or ``"tie"``, or a confidence outside [0.5, 1].
    """
    if choice not in ("A", "B", "tie"):
        raise ValueError(f"choice must be 'A', 'B' or 'tie'; got {choice!r}.")
    if confidence is not None and not 0.5 <= float(confidence) <= 1.0:
        raise ValueError(f"confidence must be in [0.5, 1]; got {confidence!r}.")
    found = attempt(store, rater_id, stage)
    if found is None:
        raise ValueError(f"rater {rater_id} has no {stage} attempt.")
    outcome = rows.record_answer(
        store,
        found.id,
        int(position),
        choice,
        None if confidence is None else float(confidence),
        at=as_utc(at or now()),
    )
    if outcome == "late":
        raise AssessmentClosed("The time for this form is up: answers after its deadline are not kept.")
    if outcome == "closed":
        raise AssessmentClosed("This form is closed.")
    return outcome == "stored"


@dataclass(frozen=True)
class Results:
    """A closed attempt's results: per item (with gold and reason) and the summary figures.

    ``items`` columns: ``position``, ``pair_id``, ``left``, ``choice``, ``confidence``, ``gold``,
    ``rationale``, ``correct`` (NaN unanswered or on a gold tie), ``points`` (Brier skill over a coin).
    ``accuracy`` is the share right of the answered decided pairs, ``score`` the mean points,
    ``overconfidence`` mean confidence minus accuracy (points of probability, positive: too sure).
    """

    attempt: Attempt
    items: pd.DataFrame
    answered: int
    accuracy: float
    score: float
    overconfidence: float


def results(store: Store, rater_id: int, stage: str, *, at: datetime | None = None) -> Results | None:
    """The results of the rater's ``stage`` form once it is closed at ``at`` (default now); None while
    it is open or untaken."""
    status(store, rater_id, at=at)  # closes a form found past its deadline
    found = attempt(store, rater_id, stage)
    if found is None or not found.closed:
        return None
    bank = store.load_bank(found.bank).set_index("id")
    items = pd.DataFrame(
        [
            {
                "position": i.position,
                "pair_id": i.pair_id,
                "left": i.left,
                "choice": i.choice,
                "confidence": np.nan if i.confidence is None else i.confidence,
            }
            for i in found.items
        ]
    )
    items["gold"] = bank.loc[items["pair_id"], "gold"].to_numpy()
    items["rationale"] = bank.loc[items["pair_id"], "rationale"].fillna("").to_numpy()
    answered = items["choice"].notna().to_numpy()
    decided = items["gold"].to_numpy() != "tie"
    correct = np.where(answered & decided, (items["choice"] == items["gold"]).to_numpy(dtype=float), np.nan)
    items["correct"] = correct
    scored = answered & decided & items["confidence"].notna().to_numpy()
    points = np.full(len(items), np.nan)
    points[scored] = skill_points(correct[scored], items["confidence"].to_numpy()[scored])
    items["points"] = points
    n = int(np.sum(~np.isnan(correct)))
    accuracy = float(np.nanmean(correct)) if n else float("nan")
    score = float(np.nanmean(points)) if scored.any() else float("nan")
    over = (
        float(items["confidence"].to_numpy()[scored].mean() - correct[scored].mean())
        if scored.any()
        else float("nan")
    )
    return Results(found, items, int(answered.sum()), accuracy, score, over)


def load_demo_forms(
    store: Store, lead: Rater, bank: str, *, seed: int = 0, at: datetime | None = None, n_raters: int = 24
) -> int:
    """Give the cohort's simulated demo raters pre, post and retention forms with planted learning.

    The answers come from :func:`calibration.simulate.simulate_forms` (the demo raters of
    :func:`calibration.simulate.demo_raters` with ``seed``, the same names as
    :func:`calibration.simulate.demo_cohort`'s): skill that rises with training, a length pull that
    fades and confidence that comes closer to calibrated, on the cohort's forms when each has
    :data:`DEMO_FORM_SIZE` pairs (else on two forms of that size drawn at random from ``bank``;
    those pairs stay in drills, and nothing falls due for the cohort's people until the lead sets
    pairs aside). A cohort without a plan gets the default plan on ``bank``. The raters are stored
    as simulated (labelled so
    everywhere); forms dated after ``at`` (default now) are left out. Returns the attempts stored.
    """
    from calibration.simulate import FORM_DAYS, demo_raters, simulate_forms
    from training.accounts import add_simulated_raters

    _require_lead(lead)
    if plan(store, lead.cohort_id) is None:  # the reports read forms on the plan's bank
        save_plan(store, lead, bank=bank, **DEFAULT_PLAN)
    moment = pd.Timestamp(as_utc(at or now()))
    pairs = store.load_bank(bank)
    forms = forms_of(store, lead.cohort_id, bank)
    if sorted(set(forms)) != ["X", "Y"] or forms.value_counts().min() < DEMO_FORM_SIZE:
        picked = np.random.default_rng(seed).permutation(len(pairs))[: 2 * DEMO_FORM_SIZE]
        forms = pd.Series(["X", "Y"] * DEMO_FORM_SIZE, index=pairs["id"].astype(str).to_numpy()[picked])
    start = moment - pd.Timedelta(days=sum(FORM_DAYS) + 8)
    answers = simulate_forms(
        pairs, raters=demo_raters(n_raters, seed=seed), forms=forms, seed=seed, start=start
    )
    ids = add_simulated_raters(store, lead.cohort_id, sorted(answers["rater"].unique()))
    limit = timedelta(minutes=int((plan(store, lead.cohort_id) or DEFAULT_PLAN)["time_limit_minutes"]))
    stored = []
    for (rater, stage), group in answers.groupby(["rater", "form"], sort=True):
        when = pd.to_datetime(group["answered_at"], utc=True).dt.round("us")
        if when.max() > moment:
            continue
        seconds = group["seconds"].fillna(0.0).to_numpy(dtype=float)
        shown = (when - pd.to_timedelta(seconds, unit="s")).dt.round("us")
        started = shown.min().to_pydatetime()
        stored.append(
            {
                "rater_id": ids[rater],
                "stage": stage,
                "form": str(forms[str(group["pair_id"].iloc[0])]),
                "bank_id": store.bank_id(bank),
                "started_at": started,
                "deadline": started + max(limit, when.max().to_pydatetime() - started),
                "closed_at": when.max().to_pydatetime(),
                "answers": [
                    {
                        "position": k,
                        "pair_id": str(row.pair_id),
                        "left": row.left if row.left in ("A", "B") else "A",
                        "choice": row.choice,
                        "confidence": None if pd.isna(row.confidence) else float(row.confidence),
                        "shown_at": shown.iloc[k].to_pydatetime(),
                        "answered_at": when.iloc[k].to_pydatetime(),
                        "seconds": float(seconds[k]),
                    }
                    for k, row in enumerate(group.itertuples())
                ],
            }
        )
    return rows.insert_closed_attempts(store, stored)


def cohort_form_judgments(
    store: Store, cohort: str, banks: list[str] | tuple[str, ...]
) -> dict[str, pd.DataFrame]:
    """Every answer given in the cohort's closed forms, per bank (the judgments layout plus ``form``)."""
    return {bank: rows.form_judgments(store, cohort=cohort, bank=bank) for bank in banks}


def rater_form_judgments(store: Store, cohort: str, bank: str, name: str) -> pd.DataFrame:
    """One rater's answers in their closed forms on ``bank`` (the judgments layout plus ``form``)."""
    return rows.form_judgments(store, cohort=cohort, bank=bank, names=[name])


def _prepared_forms(store: Store, cohort: str, bank: str, names: list[str] | None = None) -> pd.DataFrame:
    answers = rows.form_judgments(store, cohort=cohort, bank=bank, names=names)
    return prepare(store.load_bank(bank), answers)


def cohort_form_answers(store: Store, cohort_id: int) -> pd.DataFrame:
    """The cohort's answers in closed forms on its plan's bank, prepared (with ``form``); empty if none.

    Added to the cohort's drill answers, they give :func:`calibration.report.build_report` its
    training effect.
    """
    the_plan = plan(store, cohort_id)
    if the_plan is None:
        return pd.DataFrame()
    return _prepared_forms(store, _cohort_name(store, cohort_id), the_plan["bank"])


def forms_version(store: Store, cohort_id: int) -> tuple[int, int]:
    """Closed attempts and their answers in the cohort: a cache key of figures built on the forms."""
    return rows.forms_version(store, cohort_id)


def _effect(prepared: pd.DataFrame) -> dict[str, Any] | None:
    """:func:`calibration.effect.training_effect` once there are pre and post answers, else None."""
    from calibration.effect import training_effect

    if not {"pre", "post"} <= set(prepared["form"]):
        return None
    return training_effect(prepared)


def _gate(the_plan: dict[str, Any], prepared_one: pd.DataFrame, quiz_size: int) -> tuple[dict, dict]:
    from calibration.effect import qualification, readiness

    bar = float(the_plan["min_accuracy"])
    passed = qualification(
        prepared_one, min_accuracy=bar, max_overconfidence=float(the_plan["max_overconfidence"])
    )
    return passed, readiness(prepared_one, quiz_size=quiz_size, bar=bar)


def rater_assessment(store: Store, rater: Rater) -> dict[str, Any] | None:
    """A rater's training effect, qualification and readiness from their closed forms; None without any.

    Returns ``{"stage", "effect", "qualification", "readiness", "forms"}``: ``effect`` is
    :func:`calibration.effect.training_effect` of the rater's forms (None before the post form),
    ``qualification`` the lead's bar judged on the confidence bounds of the latest form
    (:func:`calibration.effect.qualification`), ``readiness`` the chance of passing a
    :data:`READINESS_QUIZ`-pair quiz at the bar (:func:`calibration.effect.readiness`), ``forms``
    the cohort's prepared answers in closed forms the effect was fitted on (as
    :func:`cohort_form_answers`), for the rater's downloadable report without a second read.
    """
    the_plan = plan(store, rater.cohort_id)
    if the_plan is None:
        return None
    # the effect is fitted on the whole cohort's forms, as the cohort report does, so the
    # adjustment for a harder form (learnt from everyone) is the same on both pages; only this
    # rater's entry is kept
    cohort = _prepared_forms(store, rater.cohort, the_plan["bank"])
    prepared = cohort[cohort["rater"].astype(str) == rater.name] if not cohort.empty else cohort
    if prepared.empty:
        return None
    stage = next(s for s in reversed(STAGES) if (prepared["form"] == s).any())
    latest = prepared[prepared["form"] == stage]
    passed, ready = _gate(the_plan, latest, quiz_size=READINESS_QUIZ)
    effect = _effect(cohort) if {"pre", "post"} <= set(prepared["form"]) else None
    if effect is not None:
        effect = {"raters": {k: v for k, v in effect["raters"].items() if k == rater.name}}
    return {"stage": stage, "effect": effect, "qualification": passed, "readiness": ready, "forms": cohort}


def cohort_assessment(store: Store, cohort_id: int) -> dict[str, Any] | None:
    """The cohort's training effect and each rater's standing; None before any closed form.

    Returns ``{"effect", "raters", "simulated"}``: ``effect`` as in :func:`rater_assessment` for the
    whole cohort (None before anyone's post form); ``raters`` has one row per rater with closed
    forms: ``rater``, ``forms`` (stages taken), ``stage`` (latest), ``accuracy``, ``accuracy_low``,
    ``overconfidence``, ``overconfidence_high``, ``passed`` and ``readiness`` (probability).
    """
    the_plan = plan(store, cohort_id)
    if the_plan is None:
        return None
    cohort = _cohort_name(store, cohort_id)
    prepared = _prepared_forms(store, cohort, the_plan["bank"])
    if prepared.empty:
        return None
    table = []
    for name, mine in prepared.groupby("rater", sort=True):
        stage = next(s for s in reversed(STAGES) if (mine["form"] == s).any())
        latest = mine[mine["form"] == stage]
        passed, ready = _gate(the_plan, latest, quiz_size=READINESS_QUIZ)
        table.append(
            {
                "rater": str(name),
                "forms": ", ".join(s for s in STAGES if (mine["form"] == s).any()),
                "stage": stage,
                **{
                    k: passed[k]
                    for k in ("accuracy", "accuracy_low", "overconfidence", "overconfidence_high")
                },
                "passed": bool(passed["passed"]),
                "readiness": ready["probability"],
            }
        )
    simulated = set(store.simulated_raters(cohort=cohort))
    return {"effect": _effect(prepared), "raters": pd.DataFrame(table), "simulated": simulated}


__all__ = [
    "DEFAULT_PLAN",
    "STAGES",
    "STAGE_NAMES",
    "AssessmentClosed",
    "Attempt",
    "FormItem",
    "Results",
    "Status",
    "answer",
    "attempt",
    "form_balance",
    "forms_needed",
    "forms_of",
    "cohort_assessment",
    "cohort_form_answers",
    "cohort_form_judgments",
    "forms_version",
    "hidden_pairs",
    "load_demo_forms",
    "mark_pairs",
    "mark_shown",
    "open_form",
    "pair_easiness",
    "plan",
    "rater_assessment",
    "rater_form_judgments",
    "results",
    "save_plan",
    "split",
    "stage_form",
    "status",
]
