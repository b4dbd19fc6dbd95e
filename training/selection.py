"""Choosing a drill's pairs: fresh first, leaning to the rater's weak trap kinds, balanced.

Pure functions of a bank, a rater's prepared history and a random generator:
no database, so every rule below is testable on its own.

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
   60%; the same for "gold is the more polished answer" and "the plainer
   one" among pairs whose polish counts differ. Ties (gold ``"tie"``, equal
   words, equal polish) are not counted. When fewer than 5 pairs count, an
   even split may be impossible and a lead of one pair is allowed (2 of 3).
   A drill of 10 with every pair counted thus has 4, 5 or 6 pairs with the
   longer answer as gold.
5. **Track** (optional, ``track=``: a ``domain`` of the bank). While the
   rater has fresh (never judged) pairs of the track, at least
   :data:`TRACK_SHARE` of the drill (rounded up: 7 of 10) are pairs of the
   track, as many as there are fresh ones up to that share, and the rest come
   from the other domains (from the track when the others run out), so every
   drill still mixes subjects and the bias measures see more than one. The
   track's part and the rest are each drawn by rules 1 and 2; the control
   quota and the balance rule hold over the whole drill (the track's part
   takes only fresh controls, the rest makes up the quota), and a balancing
   swap keeps the number of track pairs. Once the track has no fresh pairs left the drill is
   drawn as without a track: freshness comes first.

6. **Spaced re-practice** (with ``today=``, the drill's UTC day). Each miss
   (a decided pair answered wrongly, on UTC day ``d``) brings its trap kinds
   back on days ``d + 1``, ``d + 3`` and ``d + 7`` (:data:`REVIEW_DAYS`). A
   step is *due* from its day until the rater has answered a pair of that
   kind on or after it, so a rater who skips a day meets it at their next
   drill, and one who already met the kind again is not given it twice
   (:func:`due_trap_kinds`). While kinds are due, up to :data:`REVIEW_SHARE`
   of the drill (rounded up: 3 of 10) is given to *fresh* pairs of those
   kinds on top of the ones the draw brought by chance: the drill is drawn by
   rules 1 to 5, then each such slot brings in the best-ranked fresh pair of
   a due kind not yet in it, in place of the worst-ranked pair of the same
   part (track or not) that is neither a control nor of a due kind. The
   slots go to the kinds by their due steps (the D'Hondt rule: each next slot
   to the kind with the most due steps per slot it already has), so the kind
   missed most often gets most of them. A balancing swap keeps the number of
   pairs of due kinds. A miss counts for every kind of its pair, so the slots
   may go to a missed pair's other kinds too. In the simulation of
   ``tests/test_selection.py`` on the starter bank, a rater who misses every
   ``length`` pair meets 1.6 times as many ``length`` pairs over the next 13
   days' drills as one who gets them right (1.2 times on the second and third
   days, before the lean of rule 2 starts at :data:`ADAPT_AFTER` judgments).
7. **Rest** (with ``today=``). A pair the rater missed less than
   :data:`REST_DAYS` days before ``today`` (by UTC day; 7: missed on Monday,
   back at the earliest the next Tuesday) comes after every other pair,
   behind even the pairs judged the day before, so it is drawn again within
   that time only from a bank with nothing else left. Re-practice uses other
   pairs of the kind, never the pair whose gold the rater has just seen.

The draw takes the best ``size`` pairs by (freshness tier, weighted random
key), the best controls first up to the quota. The key of a pair of weight
``w`` is ``E / w`` with ``E`` standard exponential, so sorting by it draws
without replacement with probabilities proportional to the weights
(Efraimidis and Spirakis, 2006, "Weighted random sampling with a
reservoir", Information Processing Letters 97(5)). When the result breaks
the balance rule, pairs are swapped, each time the swap that most reduces the
excess over 60% (bringing in the freshest, luckiest pair that helps,
dropping the stalest, unluckiest one), until the rule holds or no swap
helps: the rule then holds as far as the bank allows. The chosen pairs are
shown in a random order, so the order of the draw tells the rater nothing.

Everything random comes from the ``numpy.random.Generator`` passed in.

Mixing probes in (:func:`choose_probes`)
----------------------------------------
A *probe* differs from a pair the rater could meet only in style, so a switch
of answer is due to style alone (:mod:`pairs.probes`). Derived probes are bank
rows whose ``probe`` field names their kind (``polish``, ``padding``,
``authority``) and whose ``probe_of`` names their base pair; a *swap* is a
pair the rater answered before, shown again with the sides swapped. A drill
mixes them in as follows:

8. **Share.** At most :data:`PROBE_SHARE` of the drill, rounded down (2 of
   10, 1 of 5, none in a drill of 4), is probes. Each slot goes to a kind
   drawn at random among the kinds available, then to a probe of that kind
   at random; the ordinary pairs are drawn for the remaining places by rules
   1 to 7 from the bank without its probe rows, and the probes take random
   places among them. Nothing on the page tells a probe from a pair.
9. **Never with the base.** A derived probe comes only while the rater has
   not answered it, nor, on the drill's day, its base or another probe of the
   same base; its base then stays out of the drill, and one base gives at
   most one probe per drill.
10. **Swaps.** A pair comes back as a swap when the rater answered it once,
    on the side (``left``) recorded, rightly, at least
    :data:`SWAP_AFTER_DAYS` days before the drill's day, and it is an
    ordinary pair still in the bank. It is shown with the other response
    first. Only pairs answered rightly come back: the rater saw the gold after
    a wrong answer, and switching to it would be learning, not inconsistency.
    A swap is a repeat, so it counts in no score (as every repeat), only in
    the swap consistency of the reports.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection
from datetime import date, timedelta

import numpy as np
import pandas as pd

from pairs.features import pair_features

__all__ = [
    "ADAPT_AFTER",
    "CONTROL_SHARE",
    "MAX_SHARE",
    "REST_DAYS",
    "REVIEW_DAYS",
    "REVIEW_SHARE",
    "PROBE_SHARE",
    "SWAP_AFTER_DAYS",
    "TRACK_SHARE",
    "choose_pairs",
    "choose_probes",
    "due_trap_kinds",
    "probe_slots",
]

#: Decided judgments on a bank after which drills lean toward the rater's weak tags.
ADAPT_AFTER = 30

#: Smallest share of a drill given to pairs tagged ``control`` (rounded up), when the bank has them.
CONTROL_SHARE = 0.2

#: Largest share of a drill's counted pairs on one side of each balance rule.
MAX_SHARE = 0.6

#: Smallest share of a drill given to the rater's track (rounded up), while fresh pairs of it remain.
TRACK_SHARE = 0.7

#: Days after a miss on which its trap kinds come back in the rater's drills (rule 6).
REVIEW_DAYS = (1, 3, 7)

#: Largest share of a drill reserved for fresh pairs of the trap kinds due again (rounded up).
REVIEW_SHARE = 0.3

#: Days after a miss during which the missed pair itself is drawn only if nothing else is left (rule 7).
REST_DAYS = 7

#: Largest share of a drill given to probes (rounded down, rule 8).
PROBE_SHARE = 0.2

#: Days after a right answer before its pair may come back with the sides swapped (rule 10).
SWAP_AFTER_DAYS = 7


# -- choosing pairs ----------------------------------------------------------------------------

_HISTORY_COLUMNS = ("pair_id", "answered_at", "correct", "tags")


def choose_pairs(
    bank: pd.DataFrame,
    history: pd.DataFrame,
    n: int,
    rng: np.random.Generator,
    *,
    track: str | None = None,
    today: date | None = None,
) -> list[str]:
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
    track : str, optional
        A ``domain`` of the bank the drill leans to (rule 5); None for no lean.
        The draw takes the same random numbers either way.
    today : date, optional
        The drill's UTC day: turns on spaced re-practice and the rest of
        missed pairs (rules 6 and 7); None leaves both out. The draw takes
        the same random numbers either way.

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

    A track takes 7 of 10 while the rater has fresh pairs of it:

    >>> bank = bank.assign(domain=["math"] * 20 + ["law"] * 20)
    >>> picked = choose_pairs(bank, pd.DataFrame(), 10, np.random.default_rng(1), track="math")
    >>> int(bank.set_index("id").loc[picked, "domain"].eq("math").sum())
    7

    Raises
    ------
    ValueError
        If ``n`` is not a positive integer, ``rng`` is not a generator, the bank
        is empty, ``history`` lacks a column or ``track`` is not a domain of the bank.
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
    in_track = _in_track(bank, track)

    tier = _freshness_tier(ids, history)
    if today is not None:  # rule 7: a pair missed lately comes after every other pair
        tier[_resting(ids, history, today)] = tier.max() + 1
    key = rng.exponential(size=len(ids)) / _tag_weights(tags, history)
    rank = np.empty(len(ids), dtype=np.int64)
    rank[np.lexsort((key, tier))] = np.arange(len(ids))

    n_track = _track_size(in_track, tier, n)
    if n_track == 0:  # no track, or none of its pairs is fresh: one group, as without a track
        in_track = np.zeros(len(ids), dtype=bool)
    quota = min(math.ceil(CONTROL_SHARE * n - 1e-9), int(control.sum()))
    # The track's part takes its fresh controls only; the other part makes up the quota.
    track_quota = min(quota, int((control & in_track & (tier == 0)).sum()))
    other_quota = min(quota - track_quota, int((control & ~in_track).sum()))
    chosen = np.zeros(len(ids), dtype=bool)
    quota = 0
    for group, size, group_quota in ((in_track, n_track, track_quota), (~in_track, n - n_track, other_quota)):
        group_quota = min(group_quota, size)
        controls = np.flatnonzero(control & group)
        chosen[controls[np.argsort(rank[controls])[:group_quota]]] = True
        rest = np.flatnonzero(group & ~chosen)
        chosen[rest[np.argsort(rank[rest])[: size - group_quota]]] = True
        quota += group_quota

    due = due_trap_kinds(history, today) if today is not None else {}
    review = np.array([bool(due.keys() & set(t)) for t in tags], dtype=bool) & (tier == 0)
    if due:  # rule 6
        chosen = _re_practice(chosen, tags, due, review, rank, control, in_track, n)
    reserved = int((chosen & review).sum())
    chosen = _rebalance(chosen, rank, length_side, polish_side, control, quota, in_track, review, reserved)
    return ids[rng.permutation(np.flatnonzero(chosen))].tolist()


def probe_slots(n: int) -> int:
    """Most probes a drill of ``n`` pairs takes (rule 8).

    >>> [probe_slots(n) for n in (4, 5, 10, 12, 50)]
    [0, 1, 2, 2, 10]
    """
    return int(math.floor(PROBE_SHARE * n + 1e-9))


def choose_probes(
    bank: pd.DataFrame,
    history: pd.DataFrame,
    slots: int,
    rng: np.random.Generator,
    *,
    today: date,
    answered_today: Collection[str] = (),
) -> list[tuple[str, str | None]]:
    """Probes for up to ``slots`` places of a rater's drill (rules 8 to 10 of the module docstring).

    Parameters
    ----------
    bank : DataFrame
        The pairs the drill may draw from; probe rows have ``probe`` and
        ``probe_of`` set (a bank without those columns has no derived probes).
    history : DataFrame
        The rater's judgments on this bank, every answer (prepared; columns
        ``pair_id``, ``answered_at``, ``correct`` and, for swaps, ``left``).
    slots : int
        Places offered (see :func:`probe_slots`).
    rng : numpy.random.Generator
        Drawn from only when there is a probe to choose: with none, the
        generator is left as it was, so the drill is drawn as without probes.
    today : date
        The drill's UTC day.
    answered_today : collection of str
        Pairs the rater answered on ``today`` in other drills, which the
        history may not hold.

    Returns
    -------
    list of (str, str or None)
        ``(pair_id, left)`` per probe: ``left`` is the response to show first
        for a swap, None for a derived probe (its side is drawn as for any pair).

    Examples
    --------
    >>> bank = pd.DataFrame({"id": ["p", "q", "p~polish"], "probe": ["", "", "polish"],
    ...                      "probe_of": ["", "", "p"]})
    >>> old = pd.DataFrame({"pair_id": ["q"], "answered_at": pd.to_datetime(["2026-03-01"], utc=True),
    ...                     "correct": [1.0], "left": ["A"]})
    >>> sorted(choose_probes(bank, old, 2, np.random.default_rng(0), today=date(2026, 3, 9)))
    [('p~polish', None), ('q', 'B')]
    >>> choose_probes(bank, old, 2, np.random.default_rng(0), today=date(2026, 3, 5))  # q: too soon
    [('p~polish', None)]
    """
    if slots < 1 or len(bank) == 0:
        return []
    ids = bank["id"].astype(str).to_numpy(dtype=object)
    kinds = _text_column(bank, "probe")
    bases = _text_column(bank, "probe_of")
    derived = kinds != ""
    seen = _text_column(history, "pair_id")
    today_ids = {str(i) for i in answered_today}
    when = pd.to_datetime(history["answered_at"], utc=True, errors="coerce") if len(history) else None
    if when is not None:
        today_ids |= set(seen[(when.dt.date == today).to_numpy()])
    # rule 9: an answer today to a base, or to a probe of it, rules out every probe of that base
    base_of = dict(zip(ids[derived], bases[derived], strict=True))
    busy = {base_of.get(i, i) for i in today_ids}
    fresh = derived & ~np.isin(ids, seen) & ~np.isin(bases, list(busy))
    pool: dict[str, list[tuple[str, str, str | None]]] = {}  # kind -> (pair_id, its base, left)
    for i in np.flatnonzero(fresh):
        pool.setdefault(str(kinds[i]), []).append((str(ids[i]), str(bases[i]), None))
    for pair_id, left in _swappable(ids[~derived], history, when, today, busy):
        pool.setdefault("swap", []).append((pair_id, pair_id, "B" if left == "A" else "A"))
    picked: list[tuple[str, str | None]] = []
    used: set[str] = set()  # bases already given a probe in this drill
    while len(picked) < slots:
        open_kinds = sorted(k for k, items in pool.items() if any(b not in used for _, b, _ in items))
        if not open_kinds:
            break
        kind = open_kinds[int(rng.integers(len(open_kinds)))]
        items = [item for item in pool[kind] if item[1] not in used]
        chosen = items[int(rng.integers(len(items)))]
        picked.append((chosen[0], chosen[2]))
        used.add(chosen[1])
    return picked


def _text_column(frame: pd.DataFrame, name: str) -> np.ndarray:
    """A text column as an object array, "" where the column or a value is missing."""
    if name not in frame.columns:
        return np.full(len(frame), "", dtype=object)
    return frame[name].fillna("").astype(str).to_numpy(dtype=object)


def _swappable(
    ids: np.ndarray, history: pd.DataFrame, when: pd.Series | None, today: date, busy: set[str]
) -> list[tuple[str, str]]:
    """Rule 10: ``(pair_id, side first shown)`` of the pairs that may come back with the sides swapped
    (``when``: the history's ``answered_at`` as UTC times, None for an empty history)."""
    if when is None or "left" not in history.columns:
        return []
    pair = history["pair_id"].astype(str)
    once = pair.map(pair.value_counts()).eq(1).to_numpy()
    age = (pd.Timestamp(today, tz="UTC") - when.dt.floor("D")).dt.days.to_numpy(dtype=float)
    right = pd.to_numeric(history["correct"], errors="coerce").eq(1.0).to_numpy()
    left = _text_column(history, "left")
    names = pair.to_numpy(dtype=object)
    ok = once & right & (age >= SWAP_AFTER_DAYS) & np.isin(left, ["A", "B"])  # NaN age compares False
    ok &= np.isin(names, ids) & ~np.isin(names, list(busy))
    return [(str(p), str(side)) for p, side in zip(names[ok], left[ok], strict=True)]


def due_trap_kinds(history: pd.DataFrame, today: date) -> dict[str, int]:
    """The trap kinds due again on ``today`` after a miss (rule 6), each with its number of due steps.

    Parameters
    ----------
    history : DataFrame
        The rater's prepared judgments (``answered_at``, ``correct``, ``tags``).
    today : date
        The UTC day of the drill.

    Returns
    -------
    dict of str to int
        Trap kind to the steps (a miss's day plus each of :data:`REVIEW_DAYS`)
        that have come by ``today`` and that no answer to a pair of that kind,
        on or after the step's day, has served yet. Empty when nothing is due.

    Examples
    --------
    >>> when = pd.to_datetime(["2026-03-02"], utc=True)
    >>> missed = pd.DataFrame(
    ...     {"pair_id": ["p"], "answered_at": when, "correct": [0.0], "tags": [("length",)]})
    >>> [due_trap_kinds(missed, date(2026, 3, d)) for d in (2, 3, 5, 9)]
    [{}, {'length': 1}, {'length': 2}, {'length': 3}]

    An answer to another ``length`` pair on March 3 serves the first step:

    >>> again = pd.DataFrame({"pair_id": ["q"], "answered_at": pd.to_datetime(["2026-03-03"], utc=True),
    ...                       "correct": [1.0], "tags": [("length",)]})
    >>> [due_trap_kinds(pd.concat([missed, again]), date(2026, 3, d)) for d in (3, 4, 5)]
    [{}, {}, {'length': 1}]
    """
    history = _check_history(history)
    when = pd.to_datetime(history["answered_at"], utc=True, errors="coerce")
    known = when.notna().to_numpy()
    days = [t.date() if k else None for t, k in zip(when, known, strict=True)]
    row_tags = [tuple(t) if isinstance(t, (tuple, list, np.ndarray)) else () for t in history["tags"]]
    missed = pd.to_numeric(history["correct"], errors="coerce").eq(0.0).to_numpy() & known
    latest: dict[str, date] = {}  # the last day (up to today) the rater answered a pair of each kind
    for day, kinds in zip(days, row_tags, strict=True):
        if day is not None and day <= today:
            for kind in kinds:
                latest[kind] = max(day, latest.get(kind, day))
    due: Counter[str] = Counter()
    for day, kinds, miss in zip(days, row_tags, missed, strict=True):
        if not miss or day is None:
            continue
        for step in (day + timedelta(days=k) for k in REVIEW_DAYS):
            if step > today:
                continue
            for kind in set(kinds):
                if kind not in latest or latest[kind] < step:  # no answer of the kind since the step
                    due[kind] += 1
    return dict(due)


def _resting(ids: np.ndarray, history: pd.DataFrame, today: date) -> np.ndarray:
    """Whether each pair was missed less than :data:`REST_DAYS` days before ``today`` (rule 7)."""
    if len(history) == 0:
        return np.zeros(len(ids), dtype=bool)
    when = pd.to_datetime(history["answered_at"], utc=True, errors="coerce")
    age = (pd.Timestamp(today, tz="UTC") - when.dt.floor("D")).dt.days.to_numpy(dtype=float)
    missed = pd.to_numeric(history["correct"], errors="coerce").eq(0.0).to_numpy()
    lately = missed & (age < REST_DAYS)  # NaN age (time unknown) compares False
    return np.isin(ids, history["pair_id"].astype(str).to_numpy()[lately])


def _re_practice(chosen, tags, due: dict[str, int], review, rank, control, in_track, n: int) -> np.ndarray:
    """Rule 6: swap fresh pairs of the due kinds into the drill, on top of those it drew by chance.

    Each slot goes to the kind with the most due steps per slot it already has
    (the D'Hondt rule), which brings in its best-ranked fresh pair not in the
    drill; out goes the worst-ranked pair of the same part (track or not) that
    is neither a control nor of a due kind.
    """
    chosen = chosen.copy()
    wanted = min(math.ceil(REVIEW_SHARE * n - 1e-9), int((review & ~chosen).sum()))
    by_rank = np.argsort(rank)
    candidates = {
        kind: [i for i in by_rank if review[i] and not chosen[i] and kind in tags[i]] for kind in due
    }
    given = dict.fromkeys(due, 0)
    while sum(given.values()) < wanted:
        open_kinds = [kind for kind in due if candidates[kind]]
        if not open_kinds:
            break
        kind = max(sorted(open_kinds), key=lambda k: (due[k] / (1 + given[k]), due[k]))
        i = candidates[kind].pop(0)
        if chosen[i]:
            continue
        out = np.flatnonzero(chosen & ~control & ~review & (in_track == in_track[i]))
        if len(out) == 0:
            candidates[kind] = [j for j in candidates[kind] if in_track[j] != in_track[i]]
            continue
        chosen[out[np.argmax(rank[out])]] = False
        chosen[i] = True
        given[kind] += 1
    return chosen


def _in_track(bank: pd.DataFrame, track: str | None) -> np.ndarray:
    """Whether each pair is of ``track`` (all False without a track)."""
    if track is None:
        return np.zeros(len(bank), dtype=bool)
    domain = (
        bank["domain"].fillna("").astype(str).str.strip().str.lower().to_numpy(dtype=object)
        if "domain" in bank
        else np.full(len(bank), "", dtype=object)
    )
    wanted = str(track).strip().lower()
    if not isinstance(track, str) or not wanted or not (domain == wanted).any():
        known = ", ".join(sorted({d for d in domain if d})) or "none"
        raise ValueError(f"track {track!r} is not a domain of the bank (its domains: {known}).")
    return domain == wanted


def _track_size(in_track: np.ndarray, tier: np.ndarray, n: int) -> int:
    """Track pairs in a drill of ``n`` (rule 5): its share while fresh ones last; more if others lack."""
    if not in_track.any():
        return 0
    fresh = int((in_track & (tier == 0)).sum())
    leaning = min(math.ceil(TRACK_SHARE * n - 1e-9), fresh)
    if leaning == 0:
        return 0
    return n - min(n - leaning, int((~in_track).sum()))


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
    """Most pairs one side may have among ``counted``: 60%, or a lead of one when fewer than 5 count."""
    return np.maximum(np.floor(MAX_SHARE * np.asarray(counted) + 1e-9).astype(np.int64), (counted + 1) // 2)


def _excess(plus, minus):
    """Pairs by which the larger side exceeds what the balance rule allows (0 when it holds)."""
    return np.maximum(0, np.maximum(plus, minus) - _allowed(plus + minus))


def _tally(length_side, polish_side, control, in_track, review) -> np.ndarray:
    """Counts (gold longer, gold shorter, gold more polished, gold plainer, controls, track, re-practice),
    on the last axis."""
    return np.stack(
        [
            length_side > 0,
            length_side < 0,
            polish_side > 0,
            polish_side < 0,
            control.astype(bool),
            in_track.astype(bool),
            review.astype(bool),
        ],
        axis=-1,
    ).astype(np.int64)


def _rebalance(
    chosen, rank, length_side, polish_side, control, quota, in_track, review, reserved
) -> np.ndarray:
    """Swap pairs until the balance rule holds or no swap reduces its excess (see the module docstring)."""
    chosen = chosen.copy()
    n_track = int(in_track[chosen].sum())
    # Pairs differ, for the rule, only by type: their two sides, whether they are controls, of the
    # track, of a kind due again.
    kind = (((length_side + 1) * 6 + (polish_side + 1) * 2 + control) * 2 + in_track) * 2 + review

    def tally(at):
        return _tally(length_side[at], polish_side[at], control[at], in_track[at], review[at])

    while True:
        inside, outside = np.flatnonzero(chosen), np.flatnonzero(~chosen)
        counts = tally(inside).sum(axis=0)
        current = _excess(counts[0], counts[1]) + _excess(counts[2], counts[3])
        if current == 0 or len(outside) == 0:
            return chosen
        # candidates to bring in: the best-ranked pair outside the drill of each type
        by_rank = outside[np.argsort(rank[outside])]
        _, first = np.unique(kind[by_rank], return_index=True)
        incoming = by_rank[first]  # (K,)
        new = counts - tally(inside)[:, None, :] + tally(incoming)[None, :, :]
        # (drill, K, 7): counts after swapping drill item i for candidate k
        excess = _excess(new[..., 0], new[..., 1]) + _excess(new[..., 2], new[..., 3])
        keeps = (new[..., 4] >= quota) & (new[..., 5] == n_track) & (new[..., 6] >= reserved)
        excess = np.where(keeps, excess, np.iinfo(np.int64).max)
        best = excess.min()
        if best >= current:
            return chosen
        out_at, in_at = np.nonzero(excess == best)
        # the freshest, luckiest pair in; of those, the stalest, unluckiest pair out
        pick = np.lexsort((-rank[inside[out_at]], rank[incoming[in_at]]))[0]
        chosen[inside[out_at[pick]]] = False
        chosen[incoming[in_at[pick]]] = True
