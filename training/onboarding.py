"""Onboarding: what "better" means, what calibration means, the trap kinds, and three guided pairs.

A rater who has not finished onboarding lands on it instead of the drill
(``app.py``); a lead may open it but is not sent there. A rater who answered
drills before onboarding existed counts as onboarded. The three guided pairs
(``pairs/data/onboarding_pairs.jsonl``, one length, one polish and one
constraint trap) are answered like drill pairs, then explained; the answers
are kept in ``settings`` (:mod:`storage.onboarding`), never as judgments, so
they count in no statistic, leaderboard or report. Finishing is kept there
too, so a restart or another server does not send the rater back.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from calibration.leaderboard import skill_points
from storage import onboarding as rows
from storage.store import Store
from training import drills

GUIDED_PATH = Path(__file__).resolve().parent.parent / "pairs" / "data" / "onboarding_pairs.jsonl"
"""The three hand-written guided pairs, in the bank format."""

RUBRIC = (
    (
        "Follows the instructions",
        "Does it do what was asked, within every rule the prompt sets (length, format, "
        "what to leave out)? An answer that breaks an instruction loses, however good the rest is.",
    ),
    (
        "Correct",
        "Are its facts, numbers, code and reasoning right? A fluent wrong answer is worse than a plain "
        "right one.",
    ),
    ("Complete and helpful", "Does it cover what the person needs, and nothing they must dig through?"),
    ("Clear and concise", "Is it easy to read and no longer than it needs to be?"),
)
"""What makes a response better, in order: a later point decides only when the earlier ones tie."""


@dataclass(frozen=True)
class State:
    """Where a rater is in onboarding."""

    answers: dict[str, tuple[str, float]]
    """The guided pairs answered: pair id to (choice, confidence)."""
    finished: bool
    """Onboarding was finished (or the rater drilled before it existed)."""


@functools.lru_cache(maxsize=1)
def guided_pairs() -> pd.DataFrame:
    """The guided pairs, in order (bank columns; ``id`` as a column)."""
    from pairs.importers import read_bank

    return read_bank(GUIDED_PATH, "jsonl").reset_index(drop=True)


def state(store: Store, rater_id: int) -> State:
    """The rater's onboarding as kept in the database.

    Raises
    ------
    KeyError
        If there is no rater ``rater_id``.
    """
    found = rows.read_state(store, rater_id)
    if found is None:
        raise KeyError(f"no rater with id {rater_id}")
    return State(answers=found["answers"], finished=bool(found["finished"] or found["judged"]))


def needs_onboarding(store: Store, rater_id: int, *, is_lead: bool) -> bool:
    """Whether the router sends this user to onboarding instead of the drill: raters who have not finished."""
    return not is_lead and not state(store, rater_id).finished


def answer(store: Store, rater_id: int, pair_id: str, choice: str, confidence: float) -> bool:
    """Keep the answer to a guided pair (not a judgment); False when that pair was answered already.

    Raises
    ------
    ValueError
        An unknown guided pair, a choice other than A or B, or a confidence outside [0.5, 1].
    """
    if pair_id not in set(guided_pairs()["id"]):
        raise ValueError(f"{pair_id!r} is not a guided pair.")
    if choice not in ("A", "B"):
        raise ValueError("choice must be 'A' or 'B'.")
    if not 0.5 <= float(confidence) <= 1:
        raise ValueError("confidence must be between 0.5 and 1.")
    return rows.record_answer(store, rater_id, pair_id, choice, float(confidence))


def explain(pair_id: str, choice: str, confidence: float) -> drills.Feedback:
    """The drill's feedback on an answer to a guided pair (gold, reason, trap, note, points)."""
    pairs = guided_pairs().set_index("id")
    return drills.feedback(pairs.loc[pair_id], choice, confidence=confidence)


def finish(store: Store, rater_id: int) -> None:
    """Record that the rater finished onboarding; they land on the drill from now on."""
    rows.record_finished(store, rater_id)


def points(correct: bool, confidence: float) -> float:
    """What one answer earns on the leaderboard's score (:func:`calibration.leaderboard.skill_points`)."""
    return float(skill_points([1 if correct else 0], [confidence])[0])


def worked_example(confidence: float = 0.8, pairs: int = 10) -> str:
    """The calibration example in words: at ``confidence`` on ``pairs`` pairs, about how many right.

    >>> worked_example()
    'Say you answer 10 pairs, each at 80%. If you are calibrated, about 8 of them are right.'
    """
    right = round(confidence * pairs)
    return (
        f"Say you answer {pairs} pairs, each at {round(100 * confidence)}%. "
        f"If you are calibrated, about {right} of them are right."
    )


def score_table(levels: tuple[float, ...] = (0.6, 0.9)) -> pd.DataFrame:
    """What a right and a wrong answer earn at each confidence, from the leaderboard's own function."""
    return pd.DataFrame(
        {
            "Confidence": [f"{round(100 * c)}%" for c in levels],
            "Right answer": [f"{points(True, c):+.2f}" for c in levels],
            "Wrong answer": [f"{points(False, c):+.2f}" for c in levels],
        }
    )


__all__ = [
    "GUIDED_PATH",
    "RUBRIC",
    "State",
    "answer",
    "explain",
    "finish",
    "guided_pairs",
    "needs_onboarding",
    "points",
    "score_table",
    "state",
    "worked_example",
]
