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

Choosing the pairs (:func:`choose_pairs`)
-----------------------------------------
1. **Freshness.** Pairs the rater has never judged come first; then pairs
   judged before, the least recently judged first (by the UTC day of their
   last judgment; a judgment without a time counts as the oldest).
2. **Adaptive lean.** Within a freshness tier pairs are drawn at random
   without replacement, each with weight 1 until the rater has
   :data:`ADAPT_AFTER` decided (non-tie) judgments. From then on a pair's weight
   is the rater's smoothed miss rate on its tags, the largest over its tags:
   ``(misses + 1) / (judged + 2)``, the posterior mean of the error rate under
   a Beta(1, 1) prior. A tag they have not met yet weighs 0.5 (the prior
   mean); a pair without tags weighs the rater's overall smoothed miss rate.
   So a rater who misses every ``constraint`` trap of 10 (weight 11/12) gets
   such pairs about eleven times as often as one they always get right
   (weight 1/12), as far as the control quota and the balance rule below
   leave room. A miss counts for every tag of its pair, so missing
   constraint traps that are also length traps raises the weight of the
   ``length`` tag as well.
3. **Controls.** At least :data:`CONTROL_SHARE` of the drill (rounded up:
   2 of 10) are pairs tagged ``control``, as far as the bank has them, even if
   they must come from a staler tier.
4. **Balance.** Gold must not follow length or polish within a drill. Among
   its pairs whose gold is decided and whose two answers differ in word count
   (:func:`pairs.features.pair_features` column ``longer``), neither "gold is
   the longer answer" nor "gold is the shorter answer" may hold for more than
   60 %; the same for "gold is the more polished answer" and "the plainer
   one" among pairs whose polish counts differ. Ties (gold ``"tie"``, equal
   words, equal polish) are not counted. When fewer than 5 pairs count, an
   even split may be impossible and a lead of one pair is allowed (2 of 3).
   A drill of 10 with every pair counted thus has 4, 5 or 6 pairs with the
   longer answer as gold.

The draw takes the best ``size`` pairs by (freshness tier, weighted random
key), the best controls first up to the quota. The key of a pair of weight
``w`` is ``E / w`` with ``E`` standard exponential, so sorting by it draws
without replacement with probabilities proportional to the weights
(Efraimidis and Spirakis, 2006, "Weighted random sampling with a
reservoir", Information Processing Letters 97(5)). When the result breaks
the balance rule, pairs are swapped, each time the swap that most reduces the
excess over 60 % (bringing in the freshest, luckiest pair that helps,
dropping the stalest, unluckiest one), until the rule holds or no swap
helps: the rule then holds as far as the bank allows. The chosen pairs are
shown in a random order, so the order of the draw tells the rater nothing.

Everything random comes from one ``numpy.random.Generator`` seeded from the
rater id and the drill key (:func:`drill_seed`), so the same database gives
the same drill.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from calibration.data import prepare
from pairs.features import pair_features, response_features
from storage.store import Store, banks, drill_items, judgments, now, pairs_table, raters

__all__ = [
    "ADAPT_AFTER",
    "CONTROL_SHARE",
    "LENGTH_NOTE_RATIO",
    "MAX_SHARE",
    "Drill",
    "DrillItem",
    "Feedback",
    "Progress",
    "choose_pairs",
    "drill_key",
    "drill_seed",
    "feedback",
    "feedback_for",
    "get_or_create_drill",
    "is_practice",
    "latest_round",
    "mark_shown",
    "parse_drill_key",
    "rater_history",
    "streak",
    "submit",
    "today_progress",
]

#: Decided judgments on a bank after which drills lean toward the rater's weak tags.
ADAPT_AFTER = 30

#: Smallest share of a drill given to pairs tagged ``control`` (rounded up), when the bank has them.
CONTROL_SHARE = 0.2

#: Largest share of a drill's counted pairs on one side of each balance rule.
MAX_SHARE = 0.6

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
    names a response by identity, whichever side it was on.
    """

    position: int
    bank_id: int
    pair_id: str
    left: str
    shown_at: datetime | None = None
    choice: str | None = None
    confidence: float | None = None
    answered_at: datetime | None = None

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

    ``correct`` is None when gold is a tie; ``note`` is one sentence when the
    rater picked the longer or the more polished answer and the expert
    preferred the other one, else None.
    """

    gold: str
    rationale: str
    tags: tuple[str, ...]
    correct: bool | None
    note: str | None


@dataclass(frozen=True)
class Progress:
    """A rater's day: the daily drill's progress and the practice done beyond it."""

    daily_answered: int
    daily_size: int
    daily_finished: bool
    practice_rounds: int
    practice_answered: int
    streak: int


# -- choosing pairs ----------------------------------------------------------------------------

_HISTORY_COLUMNS = ("pair_id", "answered_at", "correct", "tags")


def choose_pairs(bank: pd.DataFrame, history: pd.DataFrame, n: int, rng: np.random.Generator) -> list[str]:
    """Pick ``n`` pairs for a rater's next drill (rules in the module docstring).

    Parameters
    ----------
    bank : DataFrame
        A pair bank (:data:`pairs.bank.COLUMNS`).
    history : DataFrame
        The rater's judgments on this bank, prepared by
        :func:`calibration.data.prepare` (columns used: ``pair_id``,
        ``answered_at``, ``correct``, ``tags``); may be empty.
    n : int
        Pairs wanted; a bank with fewer pairs gives all of them.
    rng : numpy.random.Generator
        Source of every random choice: the same generator state gives the same pairs.

    Returns
    -------
    list of str
        ``min(n, len(bank))`` distinct pair ids, in the order to show them.

    Examples
    --------
    >>> from calibration.simulate import synthetic_bank
    >>> bank = synthetic_bank(40, seed=0)
    >>> picked = choose_pairs(bank, pd.DataFrame(), 10, np.random.default_rng(1))
    >>> len(picked), len(set(picked)), set(picked) <= set(bank["id"])
    (10, 10, True)
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer; got {n!r}.")
    if not isinstance(rng, np.random.Generator):
        raise ValueError("rng must be a numpy.random.Generator, e.g. numpy.random.default_rng(seed).")
    if len(bank) == 0:
        raise ValueError("the bank has no pairs to choose from.")
    ids = bank["id"].astype(str).to_numpy(dtype=object)
    n = min(int(n), len(ids))
    history = _check_history(history)
    tags = [tuple(t) if isinstance(t, (tuple, list, np.ndarray)) else () for t in bank["tags"]]
    length_side, polish_side = _balance_sides(bank, ids)
    control = np.array(["control" in t for t in tags], dtype=bool)

    tier = _freshness_tier(ids, history)
    key = rng.exponential(size=len(ids)) / _tag_weights(tags, history)
    rank = np.empty(len(ids), dtype=np.int64)
    rank[np.lexsort((key, tier))] = np.arange(len(ids))

    quota = min(math.ceil(CONTROL_SHARE * n - 1e-9), int(control.sum()))
    chosen = np.zeros(len(ids), dtype=bool)
    chosen[np.flatnonzero(control)[np.argsort(rank[control])[:quota]]] = True
    rest = np.flatnonzero(~chosen)
    chosen[rest[np.argsort(rank[rest])[: n - quota]]] = True

    chosen = _rebalance(chosen, rank, length_side, polish_side, control, quota)
    return ids[rng.permutation(np.flatnonzero(chosen))].tolist()


def _check_history(history: pd.DataFrame | None) -> pd.DataFrame:
    if history is None or len(history) == 0:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in _HISTORY_COLUMNS})
    missing = [c for c in _HISTORY_COLUMNS if c not in history.columns]
    if missing:
        raise ValueError(
            f"history lacks the column(s) {missing}; pass judgments prepared by calibration.data.prepare."
        )
    return history


def _balance_sides(bank: pd.DataFrame, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per pair: +1 when gold is the longer (more polished) answer, -1 the other, 0 not counted."""
    feats = pair_features(bank).reindex(ids)
    gold = bank["gold"].to_numpy(dtype=object)
    decided = (gold == "A") | (gold == "B")
    sides = []
    for column in ("longer", "more_polished"):
        bigger = feats[column].fillna("").to_numpy(dtype=object)
        counted = decided & (bigger != "")
        sides.append(np.where(counted, np.where(bigger == gold, 1, -1), 0).astype(np.int64))
    return sides[0], sides[1]


def _freshness_tier(ids: np.ndarray, history: pd.DataFrame) -> np.ndarray:
    """0 for unseen pairs; 1, 2, ... for seen ones, from the longest ago (by UTC day) to the latest."""
    tier = np.zeros(len(ids), dtype=np.int64)
    if len(history) == 0:
        return tier
    when = pd.to_datetime(history["answered_at"], utc=True, errors="coerce")
    day = when.dt.floor("D").to_numpy(dtype="datetime64[ns]").astype(np.int64).astype(float)
    day[when.isna().to_numpy()] = -np.inf  # seen, time unknown: the oldest
    last = pd.Series(day).groupby(history["pair_id"].astype(str).to_numpy()).max()
    seen = pd.Series(ids).map(last).to_numpy(dtype=float)
    known = ~np.isnan(seen)
    tier[known] = 1 + np.unique(seen[known], return_inverse=True)[1]
    return tier


def _tag_weights(tags: list[tuple[str, ...]], history: pd.DataFrame) -> np.ndarray:
    """Sampling weight of each pair: 1, or (once the rater adapts) its tags' smoothed miss rate."""
    correct = pd.to_numeric(history["correct"], errors="coerce")
    decided = history[correct.notna().to_numpy()]
    if len(decided) < ADAPT_AFTER:
        return np.ones(len(tags))
    missed = 1.0 - pd.to_numeric(decided["correct"]).to_numpy(dtype=float)
    overall = (missed.sum() + 1) / (len(missed) + 2)
    judged: dict[str, list[float]] = {}
    for row_tags, miss in zip(decided["tags"], missed, strict=True):
        row = row_tags if isinstance(row_tags, (tuple, list, np.ndarray)) else ()
        for tag in set(row):
            judged.setdefault(tag, [0.0, 0.0])
            judged[tag][0] += miss
            judged[tag][1] += 1
    rate = {tag: (m + 1) / (k + 2) for tag, (m, k) in judged.items()}
    return np.array([max((rate.get(t, 0.5) for t in pair), default=overall) for pair in tags])


def _allowed(counted):
    """Most pairs one side may have among ``counted``: 60 %, or a lead of one when fewer than 5 count."""
    return np.maximum(np.floor(MAX_SHARE * np.asarray(counted) + 1e-9).astype(np.int64), (counted + 1) // 2)


def _excess(plus, minus):
    """Pairs by which the larger side exceeds what the balance rule allows (0 when it holds)."""
    return np.maximum(0, np.maximum(plus, minus) - _allowed(plus + minus))


def _tally(length_side, polish_side, control) -> np.ndarray:
    """Counts (gold longer, gold shorter, gold more polished, gold plainer, controls), last axis."""
    return np.stack(
        [length_side > 0, length_side < 0, polish_side > 0, polish_side < 0, control.astype(bool)], axis=-1
    ).astype(np.int64)


def _rebalance(chosen, rank, length_side, polish_side, control, quota) -> np.ndarray:
    """Swap pairs until the balance rule holds or no swap reduces its excess (see the module docstring)."""
    chosen = chosen.copy()
    # Pairs differ, for the rule, only by type: their two sides and whether they are controls.
    kind = (length_side + 1) * 6 + (polish_side + 1) * 2 + control
    while True:
        inside, outside = np.flatnonzero(chosen), np.flatnonzero(~chosen)
        counts = _tally(length_side[inside], polish_side[inside], control[inside]).sum(axis=0)
        current = _excess(counts[0], counts[1]) + _excess(counts[2], counts[3])
        if current == 0 or len(outside) == 0:
            return chosen
        # candidates to bring in: the best-ranked pair outside the drill of each type
        by_rank = outside[np.argsort(rank[outside])]
        _, first = np.unique(kind[by_rank], return_index=True)
        incoming = by_rank[first]  # (K,)
        new = (
            counts
            - _tally(length_side[inside], polish_side[inside], control[inside])[:, None, :]
            + _tally(length_side[incoming], polish_side[incoming], control[incoming])[None, :, :]
        )  # (drill, K, 5): counts after swapping drill item i for candidate k
        excess = _excess(new[..., 0], new[..., 1]) + _excess(new[..., 2], new[..., 3])
        excess = np.where(new[..., 4] >= quota, excess, np.iinfo(np.int64).max)
        best = excess.min()
        if best >= current:
            return chosen
        out_at, in_at = np.nonzero(excess == best)
        # the freshest, luckiest pair in; of those, the stalest, unluckiest pair out
        pick = np.lexsort((-rank[inside[out_at]], rank[incoming[in_at]]))[0]
        chosen[inside[out_at[pick]]] = False
        chosen[incoming[in_at[pick]]] = True


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
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"size must be a positive integer; got {size!r}.")
    drill = _read_drill(store, rater_id, key)
    if drill is not None:
        return drill
    pairs, bank_id, raw = _judged(store, rater_id, bank)
    rng = np.random.default_rng(drill_seed(rater_id, key, rng_seed))
    chosen = choose_pairs(pairs, prepare(pairs, raw), int(size), rng)
    rows = [
        {
            "rater_id": int(rater_id),
            "drill": key,
            "position": position,
            "bank_id": bank_id,
            "pair_id": pair_id,
            "left": "A" if rng.random() < 0.5 else "B",
            "shown_at": None,
        }
        for position, pair_id in enumerate(chosen)
    ]

    def insert(conn: Connection) -> None:
        exists = conn.execute(
            sa.select(drill_items.c.position)
            .where(drill_items.c.rater_id == int(rater_id), drill_items.c.drill == key)
            .limit(1)
        ).first()
        if exists is None:
            conn.execute(store.insert_ignore(drill_items, ["rater_id", "drill", "position"]), rows)

    store.write(insert)
    drill = _read_drill(store, rater_id, key)
    if drill is None:  # pragma: no cover - the insert above committed
        raise RuntimeError(f"drill {key!r} of rater {rater_id} was not stored.")
    return drill


def _read_drill(store: Store, rater_id: int, key: str, conn: Connection | None = None) -> Drill | None:
    j = judgments
    query = (
        sa.select(
            drill_items.c.position,
            drill_items.c.bank_id,
            drill_items.c.pair_id,
            drill_items.c.left,
            drill_items.c.shown_at,
            j.c.choice,
            j.c.confidence,
            j.c.answered_at,
            banks.c.name,
        )
        .join(banks, banks.c.id == drill_items.c.bank_id)
        .outerjoin(
            j,
            sa.and_(
                j.c.rater_id == drill_items.c.rater_id,
                j.c.bank_id == drill_items.c.bank_id,
                j.c.pair_id == drill_items.c.pair_id,
                j.c.drill == drill_items.c.drill,
            ),
        )
        .where(drill_items.c.rater_id == int(rater_id), drill_items.c.drill == key)
        .order_by(drill_items.c.position)
    )
    if conn is None:
        with store.read() as c:
            rows = c.execute(query).all()
    else:
        rows = conn.execute(query).all()
    if not rows:
        return None
    items = [
        DrillItem(
            position=int(r.position),
            bank_id=int(r.bank_id),
            pair_id=r.pair_id,
            left=r.left,
            shown_at=_utc(r.shown_at),
            choice=r.choice,
            confidence=None if r.confidence is None else float(r.confidence),
            answered_at=_utc(r.answered_at),
        )
        for r in rows
    ]
    return Drill(key=key, rater_id=int(rater_id), bank=rows[0].name, items=items)


def _item(store: Store, rater_id: int, key: str, position: int) -> DrillItem:
    parse_drill_key(key)
    if isinstance(position, bool) or not isinstance(position, (int, np.integer)):
        raise ValueError(f"position must be an integer; got {position!r}.")
    drill = _read_drill(store, rater_id, key)
    if drill is None:
        raise ValueError(f"rater {rater_id} has no drill {key!r}.")
    if not 0 <= position < drill.size:
        raise ValueError(f"drill {key!r} has positions 0 to {drill.size - 1}; got {position}.")
    return drill.items[int(position)]


def mark_shown(store: Store, rater_id: int, key: str, position: int, *, at: datetime | None = None) -> bool:
    """Record when an item was first shown; True if this call set it (it is never overwritten)."""
    _item(store, rater_id, key, position)
    at = _utc(at) or now()

    def fn(conn: Connection) -> bool:
        result = conn.execute(
            sa.update(drill_items)
            .where(
                drill_items.c.rater_id == int(rater_id),
                drill_items.c.drill == key,
                drill_items.c.position == int(position),
                drill_items.c.shown_at.is_(None),
            )
            .values(shown_at=at)
        )
        return result.rowcount > 0

    return store.write(fn)


def submit(
    store: Store, rater_id: int, key: str, position: int, choice: str, confidence: float
) -> Feedback | None:
    """Store the rater's answer to one drill item and return the feedback.

    Parameters
    ----------
    choice : {"A", "B"}
        The response picked, by identity (not by side).
    confidence : float
        In [0.5, 1]: 0.5 a coin flip, 1 certain.

    Returns
    -------
    Feedback or None
        None, and nothing stored, if the item was already answered: an answer
        cannot be changed.

    Raises
    ------
    ValueError
        If ``choice`` or ``confidence`` is invalid or the drill has no such position.
    """
    if choice not in ("A", "B"):
        raise ValueError(f"choice must be 'A' or 'B'; got {choice!r}.")
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float, np.integer, np.floating)):
        raise ValueError(f"confidence must be a number in [0.5, 1]; got {confidence!r}.")
    if not 0.5 <= float(confidence) <= 1.0:  # also refuses NaN
        raise ValueError(f"confidence must be in [0.5, 1]; got {confidence!r}.")
    item = _item(store, rater_id, key, position)
    if item.answered:
        return None
    stored = store.record_judgment(
        rater_id=int(rater_id),
        bank_id=item.bank_id,
        pair_id=item.pair_id,
        drill=key,
        choice=choice,
        confidence=float(confidence),
        left=item.left,
        shown_at=item.shown_at,
        drill_date=parse_drill_key(key)[1],
    )
    if not stored:
        return None
    return feedback(_pair(store, item.bank_id, item.pair_id), choice)


def feedback_for(store: Store, rater_id: int, key: str, position: int) -> Feedback | None:
    """The feedback on an answered item (for a reloaded page); None while it is unanswered."""
    item = _item(store, rater_id, key, position)
    if not item.answered:
        return None
    return feedback(_pair(store, item.bank_id, item.pair_id), item.choice)


def _pair(store: Store, bank_id: int, pair_id: str) -> dict:
    where = (pairs_table.c.bank_id == bank_id, pairs_table.c.pair_id == pair_id)
    with store.read() as conn:
        pair = dict(conn.execute(sa.select(pairs_table).where(*where)).mappings().one())
    pair["tags"] = tuple(json.loads(pair["tags"] or "[]"))
    return pair


def feedback(pair: Mapping, choice: str) -> Feedback:
    """Feedback on picking ``choice`` in ``pair``: gold, rationale, tags, right or wrong, and a note.

    The note names the trap the rater fell for: they picked the answer with
    at least :data:`LENGTH_NOTE_RATIO` times the words of the other, or the one
    with more markdown elements (:mod:`pairs.features`), and the expert
    preferred the other answer.

    Parameters
    ----------
    pair : mapping or Series
        A bank row: ``response_a``, ``response_b``, ``gold`` and optionally
        ``rationale`` and ``tags``.
    choice : {"A", "B"}

    Examples
    --------
    >>> pair = {"response_a": "one two three four five six seven eight nine ten eleven twelve",
    ...         "response_b": "one two three four five", "gold": "B", "tags": ("length",)}
    >>> feedback(pair, "A").note
    'You picked the answer that was 2.4x longer; the expert preferred the shorter one.'
    >>> feedback(pair, "B").correct, feedback(pair, "B").note
    (True, None)
    """
    if choice not in ("A", "B"):
        raise ValueError(f"choice must be 'A' or 'B'; got {choice!r}.")
    gold = pair["gold"]
    tags = pair.get("tags") or ()
    correct = None if gold == "tie" else choice == gold
    note = None
    if correct is False:
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
    j = judgments
    with store.read() as conn:
        if conn.execute(sa.select(raters.c.id).where(raters.c.id == int(rater_id))).first() is None:
            raise ValueError(f"there is no rater with id {rater_id}.")
        try:
            bank_id = store.bank_id(bank, conn)
        except KeyError:
            raise ValueError(f"there is no bank named {bank!r}.") from None
        rows = conn.execute(
            sa.select(
                raters.c.name.label("rater"),
                j.c.pair_id,
                j.c.choice,
                j.c.confidence,
                j.c.left,
                j.c.answered_at,
                j.c.seconds,
            )
            .join(raters, raters.c.id == j.c.rater_id)
            .where(j.c.rater_id == int(rater_id), j.c.bank_id == bank_id)
            .order_by(j.c.answered_at, j.c.id)
        ).all()
    frame = pd.DataFrame(
        rows, columns=["rater", "pair_id", "choice", "confidence", "left", "answered_at", "seconds"]
    )
    frame["answered_at"] = pd.to_datetime(frame["answered_at"], utc=True)
    return store.load_bank(bank), bank_id, frame


def _drill_counts(store: Store, rater_id: int, pattern: str) -> dict[str, tuple[int, int]]:
    """``{key: (items, answered)}`` of the rater's drills whose key matches the LIKE ``pattern``."""
    j = judgments
    query = (
        sa.select(drill_items.c.drill, sa.func.count(), sa.func.count(j.c.id))
        .outerjoin(
            j,
            sa.and_(
                j.c.rater_id == drill_items.c.rater_id,
                j.c.bank_id == drill_items.c.bank_id,
                j.c.pair_id == drill_items.c.pair_id,
                j.c.drill == drill_items.c.drill,
            ),
        )
        .where(drill_items.c.rater_id == int(rater_id), drill_items.c.drill.like(pattern))
        .group_by(drill_items.c.drill)
    )
    with store.read() as conn:
        return {key: (int(size), int(done)) for key, size, done in conn.execute(query).all()}


def streak(store: Store, rater_id: int, today: date) -> int:
    """Days in a row with a finished daily drill, ending today or, if today's is not finished, yesterday.

    0 when neither today's nor yesterday's daily drill is finished. Practice
    rounds do not count.
    """
    finished = {
        parse_drill_key(key)[1]
        for key, (size, done) in _drill_counts(store, rater_id, "daily:%").items()
        if size > 0 and done == size
    }
    today = _day(today)
    day = today if today in finished else today - timedelta(days=1)
    count = 0
    while day in finished:
        count += 1
        day -= timedelta(days=1)
    return count


def latest_round(store: Store, rater_id: int, day: date) -> int:
    """The highest practice round the rater has started on ``day``; 0 if none."""
    keys = _drill_counts(store, rater_id, f"practice:{_day(day).isoformat()}:%")
    return max((parse_drill_key(k)[2] for k in keys), default=0)


def today_progress(store: Store, rater_id: int, day: date) -> Progress:
    """The rater's progress on ``day``: the daily drill (size 0 if not started yet), practice and streak."""
    day = _day(day)
    daily_size, daily_done = _drill_counts(store, rater_id, drill_key(day)).get(drill_key(day), (0, 0))
    practice = _drill_counts(store, rater_id, f"practice:{day.isoformat()}:%")
    return Progress(
        daily_answered=daily_done,
        daily_size=daily_size,
        daily_finished=daily_size > 0 and daily_done == daily_size,
        practice_rounds=len(practice),
        practice_answered=sum(done for _, done in practice.values()),
        streak=streak(store, rater_id, day),
    )


def _day(day: date) -> date:
    if not isinstance(day, date):
        raise ValueError(f"day must be a date; got {day!r}.")
    return day.date() if isinstance(day, datetime) else day


def _utc(value: datetime | None) -> datetime | None:
    """An aware UTC datetime (SQLite hands back naive ones, which are UTC)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
