"""The debrief at the end of a drill: how it went, and how that compares with the rater's last 7 days.

The figures come from :mod:`calibration.debrief`; this module gathers the
judgments (one read, :func:`storage.drills.drill_and_recent_judgments`) and
writes the sentences that read the figures, so the page only lays them out.

Only scored answers count: an answer to a pair the rater had answered before
(``repeat``) counts in no score, so it is left out of the drill's figures and
the week's, and the debrief says how many were left out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pandas as pd

from calibration.data import prepare
from calibration.debrief import judgment_summary, trap_misses
from storage import drills as rows
from storage.store import Store
from training.drills import Drill
from training.glossary import trap_name

__all__ = [
    "CALIBRATED_WITHIN",
    "WEEK_DAYS",
    "Debrief",
    "build_debrief",
    "calibration_sentence",
    "drill_debrief",
    "trap_sentence",
]

WEEK_DAYS = 7
"""The debrief compares a drill with the rater's answers of this many days before the drill's day."""

CALIBRATED_WITHIN = 5
"""Mean confidence within this many percentage points of accuracy (both rounded) reads as "matched"."""


@dataclass(frozen=True)
class Debrief:
    """A drill's debrief.

    ``drill`` and ``week`` are :func:`calibration.debrief.judgment_summary` of
    the drill's scored answers and of the rater's scored answers in the
    :data:`WEEK_DAYS` days before the drill's day (other drills only);
    ``repeats`` counts the drill's answers left out; ``traps`` is
    :func:`calibration.debrief.trap_misses` of the drill; ``calibration`` and
    ``trap`` are the sentences that read them.
    """

    drill: pd.Series
    week: pd.Series
    repeats: int
    traps: pd.DataFrame
    calibration: str
    trap: str


def drill_debrief(store: Store, rater_id: int, drill: Drill) -> Debrief:
    """The debrief of one of the rater's drills (one read transaction)."""
    since = datetime.combine(drill.day - timedelta(days=WEEK_DAYS), time(), UTC)
    judged, pairs = rows.drill_and_recent_judgments(store, rater_id, drill.bank, drill.key, since)
    return build_debrief(pairs, judged, key=drill.key, day=drill.day)


def build_debrief(pairs: pd.DataFrame, judged: pd.DataFrame, *, key: str, day: date) -> Debrief:
    """The debrief from a bank and the rater's judgments on it.

    Parameters
    ----------
    pairs : DataFrame
        The bank (``pairs.bank`` columns).
    judged : DataFrame
        The rater's judgments in the judgments CSV layout plus ``drill`` (its
        key) and ``repeat``; rows of other drills answered outside the week are ignored.
    key : str
        The drill's key.
    day : date
        The drill's day: the week is the :data:`WEEK_DAYS` days before it.
    """
    start = pd.Timestamp(datetime.combine(day - timedelta(days=WEEK_DAYS), time(), UTC))
    end = pd.Timestamp(datetime.combine(day, time(), UTC))
    repeat = judged["repeat"].astype(bool)
    mine = judged["drill"] == key
    when = judged["answered_at"]
    before = ~mine & ~repeat & (when >= start) & (when < end)
    drill = prepare(pairs, judged[mine & ~repeat])
    traps = trap_misses(drill)
    summary = judgment_summary(drill)
    return Debrief(
        drill=summary,
        week=judgment_summary(prepare(pairs, judged[before])),
        repeats=int((mine & repeat).sum()),
        traps=traps,
        calibration=calibration_sentence(summary["mean_confidence"], summary["sided_accuracy"]),
        trap=trap_sentence(traps),
    )


def calibration_sentence(mean_confidence: float, accuracy: float) -> str:
    """One plain sentence on confidence against accuracy.

    Examples
    --------
    >>> calibration_sentence(0.85, 0.6)
    'You were 85% sure on average and right 60% of the time: overconfident (overconfidence +25%).'
    >>> calibration_sentence(0.72, 0.7)
    'You were 72% sure on average and right 70% of the time: your confidence matched your accuracy.'
    """
    if math.isnan(mean_confidence) or math.isnan(accuracy):
        return "No answer picked a side on a pair the experts decided, so there is no confidence to compare."
    sure, right = round(100 * mean_confidence), round(100 * accuracy)
    said = f"You were {sure}% sure on average and right {right}% of the time"
    if abs(sure - right) <= CALIBRATED_WITHIN:
        return f"{said}: your confidence matched your accuracy."
    kind = "overconfident" if sure > right else "underconfident"
    return f"{said}: {kind} (overconfidence {sure - right:+d}%)."


def trap_sentence(traps: pd.DataFrame) -> str:
    """The trap kind that caught the rater most, from :func:`calibration.debrief.trap_misses`.

    Examples
    --------
    >>> trap_sentence(pd.DataFrame({"tag": ["length"], "n": [3], "misses": [2], "miss_rate": [2 / 3]}))
    'The trap that caught you most: Longer is not better (length; 2 of 3 missed).'
    """
    caught = traps[traps["misses"] > 0]
    if caught.empty:
        return "No trap caught you in this drill."
    top = caught.iloc[0]
    named = trap_name(top["tag"])  # in plain words, the bank's own word beside it
    return f"The trap that caught you most: {named} ({top['tag']}; {top['misses']} of {top['n']} missed)."
