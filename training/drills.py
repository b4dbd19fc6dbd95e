"""The drill engine: which pairs a rater judges each day, and what they see after answering.

A drill is a fixed list of pairs for one rater, stored in the table
``drill_items`` the moment it is first asked for, so a reload, a second tab or
a restarted server shows the same pairs in the same order with the same side on
the left. Its key names it:

* ``"daily:YYYY-MM-DD"``: the daily drill (one per rater and day; the streak
  counts these);
* ``"practice:YYYY-MM-DD:K"``, K = 1, 2, ...: extra practice rounds of that
  day, counted apart from the daily drill.

Positions run from 0 to ``size - 1``. An item is answered once: the table
``judgments`` is unique on (rater, bank, pair, drill), so a second submit of
the same item stores nothing and the first answer stands. The gold and the
expert's rationale leave this module only for answered items
(:func:`submit`, :func:`feedback_for`).

Which pairs a drill gets is decided by :func:`training.selection.choose_pairs`,
leaning to the rater's track (:func:`training.tracks.drill_track`), bringing
back the trap kinds missed 1, 3 and 7 days before through fresh pairs, and
resting a missed pair for a week (rules 6 and 7 there).

Everything random comes from one ``numpy.random.Generator`` seeded from the
rater id and the drill key (:func:`drill_seed`), so the same database gives
the same drill.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from calibration.data import prepare
from calibration.debrief import skill_by_confidence
from calibration.scoring import ranked_probability_skill
from pairs.bank import with_probe_columns
from pairs.features import response_features
from storage import assessments as assessment_rows
from storage import audit
from storage import drills as rows
from storage.schema import as_utc
from storage.store import Store, now
from training.selection import (  # noqa: F401 (ADAPT_AFTER, ...: part of this module's API)
    ADAPT_AFTER,
    CONTROL_SHARE,
    MAX_SHARE,
    choose_pairs,
    choose_probes,
    probe_slots,
)
from training.tracks import drill_track

__all__ = [
    "best_offered_confidence",
    "ADAPT_AFTER",
    "CHOICES",
    "CONFIDENCE_PERCENTS",
    "CONTROL_SHARE",
    "LENGTH_NOTE_RATIO",
    "MAX_SHARE",
    "Drill",
    "DrillItem",
    "Feedback",
    "Progress",
    "DrillPage",
    "choose_pairs",
    "cohort_streaks",
    "drill_key",
    "drill_seed",
    "feedback",
    "feedback_for",
    "get_or_create_drill",
    "is_practice",
    "latest_round",
    "mark_shown",
    "open_drill",
    "parse_drill_key",
    "rater_history",
    "streak",
    "submit",
    "today_progress",
]

#: The answers a drill takes: a response by identity, or "About equally good" where the cohort offers it.
CHOICES = ("A", "B", "tie")

#: The confidences the drill offers, in percent: a rater chooses one for every answer (none is preselected).
CONFIDENCE_PERCENTS = (50, 60, 70, 80, 90, 100)


def best_offered_confidence(split_percent: int) -> int:
    """The confidence the drill offers that earns most on average on a pair the experts split on.

    The leaderboard's score is quadratic in the stated confidence, so its expectation peaks at
    the experts' own share (``split_percent``, the majority's percent) and falls off evenly on
    both sides: the offered confidence nearest to it is the best one (the lower on a tie, whose
    two choices earn the same).

    >>> best_offered_confidence(98), best_offered_confidence(62), best_offered_confidence(75)
    (100, 60, 70)
    """
    return min(CONFIDENCE_PERCENTS, key=lambda c: (abs(c - split_percent), c))


#: Word ratio from which the feedback note says the rater picked the longer answer.
LENGTH_NOTE_RATIO = 1.5

KINDS = ("daily", "practice")
_KEY = re.compile(r"^(daily):(\d{4}-\d{2}-\d{2})$|^(practice):(\d{4}-\d{2}-\d{2}):([1-9]\d{0,5})$")


# -- keys --------------------------------------------------------------------------------------


def drill_key(day: date, kind: str = "daily", round: int = 1) -> str:
    """The key of a rater's drill on ``day``.

    Parameters
    ----------
    day : date
        The drill's day (a ``datetime`` counts as its date).
    kind : {"daily", "practice"}
        The daily drill, or a practice round beyond it.
    round : int, default 1
        Practice round number, 1, 2, ...; the daily drill has only round 1.

    Examples
    --------
    >>> drill_key(date(2026, 3, 9))
    'daily:2026-03-09'
    >>> drill_key(date(2026, 3, 9), kind="practice", round=2)
    'practice:2026-03-09:2'
    """
    if not isinstance(day, date):
        raise ValueError(f"day must be a date; got {day!r}.")
    if isinstance(day, datetime):
        day = day.date()
    if kind not in KINDS:
        raise ValueError(f"kind must be 'daily' or 'practice'; got {kind!r}.")
    if isinstance(round, bool) or not isinstance(round, (int, np.integer)) or round < 1:
        raise ValueError(f"round must be a positive integer; got {round!r}.")
    if kind == "daily":
        if round != 1:
            raise ValueError(f"a day has one daily drill; round must be 1, got {round}.")
        return f"daily:{day.isoformat()}"
    return f"practice:{day.isoformat()}:{int(round)}"


def parse_drill_key(key: str) -> tuple[str, date, int]:
    """``(kind, day, round)`` of a drill key; the daily drill is round 1.

    >>> parse_drill_key("practice:2026-03-09:2")
    ('practice', datetime.date(2026, 3, 9), 2)
    """
    match = _KEY.match(key) if isinstance(key, str) else None
    if match is None:
        raise ValueError(
            f"{key!r} is not a drill key; expected 'daily:YYYY-MM-DD' or 'practice:YYYY-MM-DD:K'."
        )
    try:
        if match.group(1):
            return "daily", date.fromisoformat(match.group(2)), 1
        return "practice", date.fromisoformat(match.group(4)), int(match.group(5))
    except ValueError:
        raise ValueError(f"{key!r} is not a drill key: its date does not exist.") from None


def is_practice(key: str) -> bool:
    """True for a practice round's key, False for a daily drill's.

    >>> is_practice("practice:2026-03-09:1"), is_practice("daily:2026-03-09")
    (True, False)
    """
    return parse_drill_key(key)[0] == "practice"


def drill_seed(rater_id: int, key: str, salt: int | None = None) -> int:
    """Seed of a drill's random generator: a hash of the rater id, the key (and ``salt``)."""
    text = f"paircal-drill\x1f{int(rater_id)}\x1f{key}" + ("" if salt is None else f"\x1f{int(salt)}")
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


# -- the data classes --------------------------------------------------------------------------


@dataclass
class DrillItem:
    """One pair of a drill; ``choice``, ``confidence`` and ``answered_at`` are None until answered.

    ``left`` is the response (``"A"`` or ``"B"``) shown on the left; ``choice``
    names a response by identity, whichever side it was on, or is ``"tie"``
    ("About equally good"). ``repeat`` is True
    when the rater had answered this pair before (in another drill): the
    answer is practice and counts in no statistic and on no leaderboard.
    """

    position: int
    bank_id: int
    pair_id: str
    left: str
    shown_at: datetime | None = None
    choice: str | None = None
    confidence: float | None = None
    answered_at: datetime | None = None
    repeat: bool = False

    @property
    def answered(self) -> bool:
        return self.choice is not None


@dataclass
class Drill:
    """A rater's drill: its key, the bank its pairs come from, and its items by position."""

    key: str
    rater_id: int
    bank: str
    items: list[DrillItem]

    @property
    def answered(self) -> int:
        """Items answered so far."""
        return sum(item.answered for item in self.items)

    @property
    def size(self) -> int:
        return len(self.items)

    @property
    def finished(self) -> bool:
        return self.size > 0 and self.answered == self.size

    @property
    def next_position(self) -> int | None:
        """Position of the first unanswered item, None when finished."""
        return next((item.position for item in self.items if not item.answered), None)

    @property
    def kind(self) -> str:
        return parse_drill_key(self.key)[0]

    @property
    def day(self) -> date:
        return parse_drill_key(self.key)[1]


@dataclass
class Feedback:
    """What a rater sees after answering: the expert's gold and reason, and what may have swayed them.

    ``correct`` says whether the answer agrees with the experts' majority: a
    tie answer ("About equally good") is right on a gold tie and wrong on a
    decided pair; a side picked on a gold tie is None (no side was right).
    ``note`` is one sentence when the rater picked the longer or the more
    polished answer and the expert preferred the other one, else None.
    ``gold_share`` is the share of experts for gold when they split (below 1),
    else None; ``split`` then reads it as ``"60/40"``. ``points`` is what the
    answer scores on the leaderboard
    (:func:`calibration.scoring.ranked_probability_skill`, against the split),
    and ``points_at`` what the same answer would have scored at each of
    :data:`CONFIDENCE_PERCENTS`, as ``(percent, points)`` pairs.
    ``repeat`` is True when the rater had answered the pair before: the answer
    counts in no score.
    """

    gold: str
    rationale: str
    tags: tuple[str, ...]
    correct: bool | None
    note: str | None
    repeat: bool = False
    gold_share: float | None = None
    points: float | None = None
    points_at: tuple[tuple[int, float], ...] = ()

    @property
    def split(self) -> str | None:
        """The experts' split as ``"majority/minority"`` in whole percent, None when they agreed."""
        if self.gold_share is None:
            return None
        majority = round(100 * self.gold_share)
        return f"{majority}/{100 - majority}"


@dataclass(frozen=True)
class Progress:
    """A rater's day: the daily drill's progress and the practice done beyond it."""

    daily_answered: int
    daily_size: int
    daily_finished: bool
    practice_rounds: int
    practice_answered: int
    streak: int


# -- drills in the store -----------------------------------------------------------------------


def get_or_create_drill(
    store: Store,
    rater_id: int,
    bank: str,
    day: date,
    *,
    size: int,
    kind: str = "daily",
    round: int = 1,
    rng_seed: int | None = None,
) -> Drill:
    """The rater's drill of that key, created from ``bank`` on first use.

    If the drill exists it is returned as stored (with the answers so far),
    whatever ``bank`` and ``size`` say now: a drill keeps its pairs. Otherwise
    ``size`` pairs are chosen with :func:`choose_pairs` from the rater's
    history on ``bank``, each gets a random side on the left, and all are
    inserted in one write transaction that ignores rows already present; the
    drill is then read back. So two tabs or two servers creating the same
    drill at once end with one drill, and both get it.

    Parameters
    ----------
    store : Store
    rater_id : int
    bank : str
        Name of the bank to draw from.
    day : date
    size : int
        Pairs in a new drill (fewer if the bank is smaller).
    kind, round
        As in :func:`drill_key`.
    rng_seed : int, optional
        Mixed into the seed (:func:`drill_seed`); by default the seed depends
        only on the rater and the key, so a lost drill would be drawn again the same.
    """
    key = drill_key(day, kind, round)
    _check_size(size)
    with store.read() as conn:
        drill = _drill(conn, rater_id, key)
    return drill if drill is not None else _create_drill(store, rater_id, bank, key, size, rng_seed)


def _check_size(size: Any) -> None:
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"size must be a positive integer; got {size!r}.")


def _create_drill(store: Store, rater_id: int, bank: str, key: str, size: int, rng_seed: int | None) -> Drill:
    """Draw and store a new drill (see :func:`get_or_create_drill`), then read it back.

    Probes (rules 8 to 10 of :mod:`training.selection`) are chosen first, then
    the ordinary pairs for the other places, from the bank without its probe
    rows and without the bases of the probes chosen; the probes take random
    places among them. With no probe to offer, no random number is spent on
    them, so the drill is the one drawn before probes existed.
    """
    pairs, bank_id, raw = _judged(store, rater_id, bank)
    rng = np.random.default_rng(drill_seed(rater_id, key, rng_seed))
    drawable = pairs[~pairs["id"].isin(audit.retired(store, bank))]  # a retired pair is never drawn again
    held_out = _held_out(store, rater_id, bank)  # nor a pair set aside for the cohort's assessment forms
    if held_out:
        drawable = drawable[~drawable["id"].isin(held_out) & ~_probe_bases(drawable).isin(held_out)]
    history = prepare(pairs, raw)
    day = parse_drill_key(key)[1]
    probes = choose_probes(drawable, history, probe_slots(min(int(size), len(drawable))), rng, today=day)
    picked = {pair_id for pair_id, _ in probes}  # derived probes, and the pairs coming back swapped
    derived = with_probe_columns(drawable)["probe"].fillna("") != ""  # probes come in only in probe places
    picked |= set(drawable.loc[derived & drawable["id"].isin(picked), "probe_of"].astype(str))
    ordinary = drawable[~derived & ~drawable["id"].isin(picked)]  # nor the bases of the probes
    chosen: list[str] = []
    if int(size) > len(probes) and len(ordinary):
        chosen = choose_pairs(
            ordinary,
            history,
            int(size) - len(probes),
            rng,
            track=drill_track(store, rater_id, ordinary),
            today=day,  # spaced re-practice of missed trap kinds, missed pairs resting
        )
    swapped: dict[str, str] = {}
    for pair_id, left in probes:  # each probe at a random place among the pairs
        chosen.insert(int(rng.integers(len(chosen) + 1)), pair_id)
        if left is not None:
            swapped[pair_id] = left
    items = [
        {
            "position": position,
            "bank_id": bank_id,
            "pair_id": pair_id,
            "left": swapped.get(pair_id) or ("A" if rng.random() < 0.5 else "B"),
        }
        for position, pair_id in enumerate(chosen)
    ]
    rows.insert_items(store, rater_id, key, items)
    with store.read() as conn:
        drill = _drill(conn, rater_id, key)
    if drill is None:  # pragma: no cover - the insert above committed
        raise RuntimeError(f"drill {key!r} of rater {rater_id} was not stored.")
    return drill


def _held_out(store: Store, rater_id: int, bank: str) -> set[str]:
    """Pairs of ``bank`` the rater's cohort set aside for its assessment forms (never drilled)."""
    with store.read() as conn:
        cohort_id = assessment_rows.rater_cohort(conn, rater_id)
        return set() if cohort_id is None else assessment_rows.hidden_pairs(store, cohort_id, bank, conn)


def _probe_bases(pairs: pd.DataFrame) -> pd.Series:
    """Each row's base pair id if it is a probe, else "": a probe of a held-out pair is held out too."""
    return with_probe_columns(pairs)["probe_of"].fillna("").astype(str)


def _drill(conn, rater_id: int, key: str) -> Drill | None:
    found = rows.read_items(conn, rater_id, key)
    if not found:
        return None
    items = [
        DrillItem(
            position=int(r["position"]),
            bank_id=int(r["bank_id"]),
            pair_id=r["pair_id"],
            left=r["left"],
            shown_at=r["shown_at"],
            choice=r["choice"],
            confidence=None if r["confidence"] is None else float(r["confidence"]),
            answered_at=r["answered_at"],
            repeat=bool(r["repeat"]),
        )
        for r in found
    ]
    return Drill(key=key, rater_id=int(rater_id), bank=found[0]["bank"], items=items)


@dataclass(frozen=True)
class DrillPage:
    """Everything the drill page shows, read in one transaction (:func:`open_drill`).

    ``drill`` is the drill to work on: today's daily drill or, once it is done,
    the day's latest practice round if there is one (so a reload resumes it).
    """

    daily: Drill
    drill: Drill
    streak: int
    latest_round: int


def open_drill(
    store: Store, rater_id: int, bank: str, day: date, *, size: int, practice: bool = False
) -> DrillPage:
    """The rater's daily drill (created on first use), the practice round in progress, and the streak.

    Once the daily drill is done, the drill to work on is the day's latest
    practice round, read from the database: a reload, a new tab or another
    server resumes it at its first unanswered pair. ``practice`` True starts
    round 1 when the day has none yet. One read transaction when the drills
    exist; a first visit of the day (or of a practice round) adds one write
    and one read to create it.
    """
    _check_size(size)
    day = _day(day)
    daily_key = drill_key(day)
    with store.read() as conn:
        daily = _drill(conn, rater_id, daily_key)
        finished = _finished_days(rows.drill_counts(conn, rater_id, "daily:%"))
        rounds = rows.drill_counts(conn, rater_id, f"practice:{day.isoformat()}:%")
        latest = _latest_round(rounds)
        current = None
        if daily is not None and daily.finished and (practice or latest > 0):
            current = _drill(conn, rater_id, drill_key(day, "practice", max(latest, 1)))
    if daily is None:
        daily = _create_drill(store, rater_id, bank, daily_key, size, None)
    if practice and daily.finished and current is None:
        latest = max(latest, 1)
        current = _create_drill(store, rater_id, bank, drill_key(day, "practice", latest), size, None)
    return DrillPage(
        daily=daily,
        drill=current if current is not None else daily,
        streak=_streak(finished, day),
        latest_round=latest,
    )


def _item(store: Store, rater_id: int, key: str, position: int) -> DrillItem:
    _check_position(key, position)
    with store.read() as conn:
        drill = _drill(conn, rater_id, key)
    if drill is None:
        raise ValueError(f"rater {rater_id} has no drill {key!r}.")
    if not 0 <= position < drill.size:
        raise ValueError(f"drill {key!r} has positions 0 to {drill.size - 1}; got {position}.")
    return drill.items[int(position)]


def _check_position(key: str, position: Any) -> None:
    parse_drill_key(key)
    if isinstance(position, bool) or not isinstance(position, (int, np.integer)):
        raise ValueError(f"position must be an integer; got {position!r}.")


def mark_shown(store: Store, rater_id: int, key: str, position: int, *, at: datetime | None = None) -> bool:
    """Record when an item was first shown; True if this call set it (it is never overwritten)."""
    _check_position(key, position)
    return rows.mark_shown(store, rater_id, key, int(position), as_utc(at) if at else now())


def submit(
    store: Store,
    rater_id: int,
    key: str,
    position: int,
    choice: str,
    confidence: float,
    *,
    at: datetime | None = None,
) -> Feedback | None:
    """Store the rater's answer to one drill item and return the feedback on it.

    One write transaction reads the item, stores the answer and reads the
    pair, so the feedback returned is on exactly the answer stored.

    Parameters
    ----------
    choice : {"A", "B", "tie"}
        The response picked, by identity (not by side), or ``"tie"``: "About
        equally good", only where the rater's cohort offers it.
    confidence : float
        In [0.5, 1]: 0.5 a coin flip, 1 certain.
    at : datetime, optional
        When it was answered (for tests and imports); default now.

    Returns
    -------
    Feedback or None
        None, and nothing stored, if the item was already answered: an answer
        cannot be changed.

    Raises
    ------
    ValueError
        If ``choice`` or ``confidence`` is invalid, the drill has no such
        position, or ``choice`` is ``"tie"`` and the cohort does not offer it.
    """
    if choice not in CHOICES:
        raise ValueError(f"choice must be 'A', 'B' or 'tie'; got {choice!r}.")
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float, np.integer, np.floating)):
        raise ValueError(f"confidence must be a number in [0.5, 1]; got {confidence!r}.")
    if not 0.5 <= float(confidence) <= 1.0:  # also refuses NaN
        raise ValueError(f"confidence must be in [0.5, 1]; got {confidence!r}.")
    _check_position(key, position)
    status, item, pair = rows.record_answer(
        store,
        rater_id,
        key,
        int(position),
        choice=choice,
        confidence=float(confidence),
        answered_at=as_utc(at) if at else now(),
        drill_date=parse_drill_key(key)[1],
    )
    if status == "no-drill":
        raise ValueError(f"rater {rater_id} has no drill {key!r}.")
    if status == "no-tie":
        raise ValueError("this cohort does not offer 'About equally good'; choice must be 'A' or 'B'.")
    if status.startswith("missing:"):
        size = int(status.split(":")[1])
        raise ValueError(f"drill {key!r} has positions 0 to {size - 1}; got {position}.")
    if status != "stored" or pair is None or item is None:
        return None
    return dataclasses.replace(
        feedback(pair, choice, confidence=float(confidence)), repeat=bool(item["repeat"])
    )


def feedback_for(store: Store, rater_id: int, key: str, position: int) -> Feedback | None:
    """The feedback on an answered item (for a reloaded page); None while it is unanswered."""
    item = _item(store, rater_id, key, position)
    if item.choice is None:
        return None
    found = feedback(
        rows.read_pair(store, item.bank_id, item.pair_id), item.choice, confidence=item.confidence
    )
    return dataclasses.replace(found, repeat=item.repeat)


def feedback(pair: Mapping, choice: str, *, confidence: float | None = None) -> Feedback:
    """Feedback on picking ``choice`` in ``pair``: gold, rationale, tags, right or wrong, and a note.

    The note names the trap the rater fell for: they picked the answer with
    at least :data:`LENGTH_NOTE_RATIO` times the words of the other, or the one
    with more markdown elements (:mod:`pairs.features`), and the expert
    preferred the other answer.

    Parameters
    ----------
    pair : mapping or Series
        A bank row: ``response_a``, ``response_b``, ``gold`` and optionally
        ``rationale``, ``tags`` and ``gold_confidence`` (the experts' split).
    choice : {"A", "B", "tie"}

    Examples
    --------
    >>> pair = {"response_a": "one two three four five six seven eight nine ten eleven twelve",
    ...         "response_b": "one two three four five", "gold": "B", "tags": ("length",)}
    >>> feedback(pair, "A").note
    'You picked the answer that was 2.4x longer; the expert preferred the shorter one.'
    >>> feedback(pair, "B").correct, feedback(pair, "B").note
    (True, None)
    >>> split = feedback({**pair, "gold_confidence": 0.6}, "B", confidence=0.6)
    >>> split.split, round(split.points, 2)
    ('60/40', 0.04)
    """
    if choice not in CHOICES:
        raise ValueError(f"choice must be 'A', 'B' or 'tie'; got {choice!r}.")
    gold = pair["gold"]
    tags = pair.get("tags") or ()
    if gold == "tie":
        correct = True if choice == "tie" else None
    else:
        correct = choice == gold
    share = pair.get("gold_confidence")
    share = None if share is None or share != share or share >= 1 else float(share)  # NaN: unknown
    points = None
    points_at: tuple[tuple[int, float], ...] = ()
    if confidence is not None:
        points = float(
            ranked_probability_skill([choice], [confidence], [gold], [np.nan if share is None else share])[0]
        )
        levels = [p / 100 for p in CONFIDENCE_PERCENTS]
        other = skill_by_confidence(choice, gold, share, confidences=levels)
        points_at = tuple(zip(CONFIDENCE_PERCENTS, other.tolist(), strict=True))
    note = None
    if correct is False and choice != "tie":
        mine, other = (0, 1) if choice == "A" else (1, 0)
        words, polish = _words_and_polish(pair["response_a"], pair["response_b"])
        traits, preferred = [], []
        ratio = words[mine] / max(words[other], 1)
        if ratio >= LENGTH_NOTE_RATIO:
            traits.append(f"was {ratio:.1f}x longer")
            preferred.append("shorter")
        if polish[mine] > polish[other]:
            element = "element" if polish[mine] == 1 else "elements"
            traits.append(f"had more formatting ({polish[mine]} markdown {element} against {polish[other]})")
            preferred.append("plainer")
        if traits:
            note = (
                f"You picked the answer that {' and '.join(traits)}; "
                f"the expert preferred the {', '.join(preferred)} one."
            )
    return Feedback(
        gold=gold,
        rationale=pair.get("rationale") or "",
        tags=tuple(tags),
        correct=correct,
        note=note,
        gold_share=share,
        points=points,
        points_at=points_at,
    )


@functools.lru_cache(maxsize=256)
def _words_and_polish(response_a: str, response_b: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """Word and markdown-element counts of a pair's two responses, remembered by their texts.

    The drill page asks for the feedback on the same pair at submit and again
    when it draws it; counting costs milliseconds, looking up a few hundred texts nothing.
    """
    feats = response_features(pd.Series([response_a, response_b]))
    return tuple(feats["words"].tolist()), tuple(feats["polish"].tolist())


# -- history and progress ----------------------------------------------------------------------


def rater_history(store: Store, rater_id: int, bank: str) -> pd.DataFrame:
    """The rater's judgments on ``bank`` (every drill and import), prepared, oldest first.

    Columns as :func:`calibration.data.prepare` returns them; ``rater`` is the rater's name.
    """
    pairs, _, raw = _judged(store, rater_id, bank)
    return prepare(pairs, raw)


def _judged(store: Store, rater_id: int, bank: str) -> tuple[pd.DataFrame, int, pd.DataFrame]:
    """The bank's pairs, its id, and the rater's judgments on it in the CSV layout, oldest first."""
    with store.read() as conn:
        if not rows.rater_exists(conn, rater_id):
            raise ValueError(f"there is no rater with id {rater_id}.")
        try:
            bank_id = store.bank_id(bank, conn)
        except KeyError:
            raise ValueError(f"there is no bank named {bank!r}.") from None
        frame = rows.rater_judgments(conn, rater_id, bank_id)
        pairs = store.load_bank(bank, conn)
    return pairs, bank_id, frame


def _finished_days(counts: Mapping[str, tuple[int, int]]) -> set[date]:
    """Days whose daily drill is finished, from ``{key: (items, answered)}``."""
    return {parse_drill_key(key)[1] for key, (size, done) in counts.items() if size > 0 and done == size}


def _streak(finished: set[date], today: date) -> int:
    """Days in a row in ``finished`` ending today or, if today is not in it, yesterday."""
    day = today if today in finished else today - timedelta(days=1)
    count = 0
    while day in finished:
        count += 1
        day -= timedelta(days=1)
    return count


def streak(store: Store, rater_id: int, today: date) -> int:
    """Days in a row with a finished daily drill, ending today or, if today's is not finished, yesterday.

    0 when neither today's nor yesterday's daily drill is finished. Practice
    rounds do not count; the drill size does not matter (a drill of 5 finished
    counts as much as one of 10).
    """
    with store.read() as conn:
        counts = rows.drill_counts(conn, rater_id, "daily:%")
    return _streak(_finished_days(counts), _day(today))


def cohort_streaks(store: Store, cohort_id: int, today: date) -> dict[str, int]:
    """Each rater's :func:`streak`, by rater name, for a whole cohort.

    Raters who never finished a daily drill are left out (their streak is 0).
    The count runs over all time: a leaderboard limited to this week still
    shows a streak that began last week. One query reads everyone's last
    ``_STREAK_WINDOW`` days of daily drills; a second reads, over all time, only
    the raters whose streak reaches the first of those days.
    """
    today = _day(today)
    # Only the last _STREAK_WINDOW days are read for everyone; a rater whose streak reaches back
    # to the window's first day (it may go on before it) is read again over all time.
    start = today - timedelta(days=_STREAK_WINDOW)
    counts = _cohort_streaks(store, cohort_id, today, from_key=drill_key(start))
    reaching = [rater for rater, (n, first) in counts.items() if n > 0 and first <= start]
    if reaching:
        counts.update(_cohort_streaks(store, cohort_id, today, names=reaching))
    return {rater: n for rater, (n, _) in counts.items() if n > 0}


_STREAK_WINDOW = 10
"""Days of daily drills :func:`cohort_streaks` reads for every rater before reading longer streaks in full."""


def _cohort_streaks(store: Store, cohort_id: int, today: date, **where: Any) -> dict[str, tuple[int, date]]:
    """``{rater: (streak, its first day)}`` from the daily drills (``cohort_drill_counts`` filters)."""
    frame = rows.cohort_drill_counts(store, cohort_id, "daily:%", **where)
    done = frame[(frame["items"] > 0) & (frame["items"] == frame["answered"])]
    days: dict[str, set[date]] = {}
    for rater, key in zip(done["rater"], done["drill"], strict=True):
        days.setdefault(rater, set()).add(parse_drill_key(key)[1])
    counts: dict[str, tuple[int, date]] = {}
    for rater, finished in days.items():
        n = _streak(finished, today)
        end = today if today in finished else today - timedelta(days=1)
        counts[rater] = (n, end - timedelta(days=n - 1))
    return counts


def latest_round(store: Store, rater_id: int, day: date) -> int:
    """The highest practice round the rater has started on ``day``; 0 if none."""
    with store.read() as conn:
        keys = rows.drill_counts(conn, rater_id, f"practice:{_day(day).isoformat()}:%")
    return _latest_round(keys)


def _latest_round(keys: Mapping[str, Any]) -> int:
    """The highest round among practice drill keys; 0 if there are none."""
    return max((parse_drill_key(k)[2] for k in keys), default=0)


def today_progress(store: Store, rater_id: int, day: date) -> Progress:
    """The rater's progress on ``day``: the daily drill (size 0 if not started yet), practice and streak."""
    day = _day(day)
    with store.read() as conn:
        daily = rows.drill_counts(conn, rater_id, "daily:%")
        practice = rows.drill_counts(conn, rater_id, f"practice:{day.isoformat()}:%")
    daily_size, daily_done = daily.get(drill_key(day), (0, 0))
    return Progress(
        daily_answered=daily_done,
        daily_size=daily_size,
        daily_finished=daily_size > 0 and daily_done == daily_size,
        practice_rounds=len(practice),
        practice_answered=sum(done for _, done in practice.values()),
        streak=_streak(_finished_days(daily), day),
    )


def _day(day: date) -> date:
    if not isinstance(day, date):
        raise ValueError(f"day must be a date; got {day!r}.")
    return day.date() if isinstance(day, datetime) else day
