"""Tracks: the domain of the bank a rater's drills lean to, picked by the rater or assigned by the lead.

A track is a ``domain`` of the cohort's bank (``coding``, ``law``, ...) or
:data:`ALL` (no lean). While the rater has fresh pairs of their track, at
least 70% of each new drill (daily and practice) comes from it and the rest
from the other domains (:func:`training.selection.choose_pairs`, rule 5).

Who decides, first match wins:

1. the track the lead assigned to this rater;
2. the track the lead assigned to the whole cohort;
3. the track the rater picked;
4. otherwise :data:`ALL`.

So a lead's choice wins over the rater's, and the rater is shown who chose
(:attr:`TrackChoice.chosen_by`). A drill already drawn keeps its pairs: a new
track applies from the next drill. A stored track that is no longer a domain
of the bank (the lead switched banks) counts as :data:`ALL` for drills.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from storage import tracks as rows
from storage.store import Store
from training.accounts import AccountError, Rater

__all__ = [
    "ALL",
    "CHOSEN_BY",
    "TrackChoice",
    "assign_track",
    "bank_sizes",
    "choose_track",
    "cohort_tracks",
    "current_track",
    "drill_track",
    "track_options",
]

ALL = "all"
"""The track of no domain in particular: drills are drawn from the whole bank as before."""

CHOSEN_BY = {
    "lead": "your lead, for you",
    "cohort": "your lead, for the whole cohort",
    "rater": "you",
    "default": "nobody yet (every domain)",
}
"""Who set the track in effect, in words, by the source :attr:`TrackChoice.source` names."""


@dataclass(frozen=True)
class TrackChoice:
    """The track in effect for a rater and where it comes from.

    Attributes
    ----------
    track : str
        A domain of the bank, or :data:`ALL`.
    source : {"lead", "cohort", "rater", "default"}
        Who set it: the lead for this rater, the lead for the cohort, the rater, nobody.
    picked : str
        The rater's own pick (:data:`ALL` if none), kept even while a lead's choice overrides it.
    """

    track: str
    source: str
    picked: str

    @property
    def chosen_by(self) -> str:
        """Who set the track, in words (:data:`CHOSEN_BY`)."""
        return CHOSEN_BY[self.source]

    @property
    def locked(self) -> bool:
        """Whether a lead's choice decides the track, so the rater's pick does not apply now."""
        return self.source in ("lead", "cohort")


def current_track(store: Store, rater_id: int) -> TrackChoice:
    """The track in effect for a rater (the order of the module docstring), in one read.

    Raises
    ------
    AccountError
        If there is no rater ``rater_id``.
    """
    stored = rows.read_choices(store, rater_id)
    if stored is None:
        raise AccountError("That rater does not exist.")
    picked = stored["rater"] or ALL
    for source in ("lead", "cohort", "rater"):
        if stored[source]:
            return TrackChoice(track=str(stored[source]), source=source, picked=picked)
    return TrackChoice(track=ALL, source="default", picked=picked)


def bank_sizes(store: Store, bank: str) -> dict[str, int]:
    """Pairs of each domain of ``bank`` (the tracks it offers), most pairs first; {} for no such bank."""
    return rows.bank_domains(store, bank)


def track_options(store: Store, bank: str) -> list[str]:
    """The tracks a cohort on ``bank`` can choose: :data:`ALL`, then its domains, most pairs first."""
    return [ALL, *rows.bank_domains(store, bank)]


def _check_track(store: Store, bank: str | None, track: str) -> str:
    track = str(track).strip().lower()
    if track == ALL:
        return ALL
    if bank is None or track not in rows.bank_domains(store, bank):
        raise AccountError(f"'{track}' is not a track of your cohort's bank.")
    return track


def choose_track(store: Store, rater: Rater, track: str, *, bank: str | None) -> TrackChoice:
    """Store the track a rater picks for their own drills and return the track now in effect.

    The pick is kept even while the lead's choice overrides it, and applies again
    once the lead removes theirs.

    Parameters
    ----------
    store : Store
    rater : Rater
        The signed-in rater.
    track : str
        A domain of ``bank`` or :data:`ALL`.
    bank : str or None
        The cohort's bank (None: only :data:`ALL` is possible).

    Raises
    ------
    AccountError
        If ``track`` is not :data:`ALL` or a domain of ``bank``.
    """
    rows.write_rater(store, rows.rater_key(rater.id), rater.id, _check_track(store, bank, track))
    return current_track(store, rater.id)


def assign_track(
    store: Store, lead: Rater, track: str | None, *, bank: str | None, rater_id: int | None = None
) -> None:
    """The lead sets (or, with ``track=None``, removes) the track of one rater or of the whole cohort.

    Parameters
    ----------
    store : Store
    lead : Rater
        The signed-in lead.
    track : str or None
        A domain of ``bank``, :data:`ALL` (every domain, whatever the raters
        pick), or None to leave the choice to the raters again.
    bank : str or None
        The cohort's bank.
    rater_id : int, optional
        The rater to assign it to; by default the whole cohort.

    Raises
    ------
    AccountError
        If ``lead`` is not a lead, the rater is not in their cohort, or the
        track is not a domain of ``bank``.
    """
    if not lead.is_lead:
        raise AccountError("Only the cohort's lead can assign tracks.")
    value = None if track is None else _check_track(store, bank, track)
    if rater_id is None:
        rows.write_cohort(store, lead.cohort_id, value)
        return
    _, people = rows.cohort_track_rows(store, lead.cohort_id)
    if int(rater_id) not in set(people["rater_id"]):
        raise AccountError("That rater is not in your cohort.")
    rows.write_rater(store, rows.lead_key(rater_id), int(rater_id), value)


def cohort_tracks(store: Store, lead: Rater) -> tuple[str | None, pd.DataFrame]:
    """The cohort's assigned track and every account's track, for the lead.

    Returns
    -------
    cohort_track : str or None
        The track the lead assigned to the cohort, None if none.
    DataFrame
        One row per account of the cohort, in the order they were made: ``rater_id``,
        ``name``, ``picked`` (the rater's own pick or :data:`ALL`), ``assigned``
        (the lead's for that rater, or None), ``track`` (in effect) and ``chosen_by``
        (``"lead"``, ``"cohort"``, ``"rater"`` or ``"default"``).

    Raises
    ------
    AccountError
        If ``lead`` is not a lead.
    """
    if not lead.is_lead:
        raise AccountError("Only the cohort's lead can see the cohort's tracks.")
    cohort_track, people = rows.cohort_track_rows(store, lead.cohort_id)
    people = people[people["role"] != "lead"].reset_index(drop=True)
    rows_out = []
    for rater_id, name, picked, assigned in zip(
        people["rater_id"], people["name"], people["picked"], people["assigned"], strict=True
    ):
        picked, assigned = _given(picked), _given(assigned)
        source, track = next(
            (
                (who, value)
                for who, value in (("lead", assigned), ("cohort", cohort_track), ("rater", picked))
                if value
            ),
            ("default", ALL),
        )
        rows_out.append(
            {
                "rater_id": int(rater_id),
                "name": name,
                "picked": picked or ALL,
                "assigned": assigned,
                "track": track,
                "chosen_by": source,
            }
        )
    columns = ["rater_id", "name", "picked", "assigned", "track", "chosen_by"]
    return cohort_track, pd.DataFrame(rows_out, columns=columns)


def _given(value: object) -> str | None:
    """A stored choice, or None for none (a missing value read back as NaN included)."""
    return value if isinstance(value, str) and value else None


def drill_track(store: Store, rater_id: int, bank: pd.DataFrame) -> str | None:
    """The track a new drill of the rater leans to: for ``choose_pairs(..., track=...)``.

    Parameters
    ----------
    store : Store
    rater_id : int
    bank : DataFrame
        The pairs the drill is drawn from.

    Returns
    -------
    str or None
        The track in effect if it is a domain of ``bank``; None for :data:`ALL`
        or a track the bank does not have (then the drill does not lean).
    """
    track = current_track(store, rater_id).track
    if track == ALL or "domain" not in bank:
        return None
    return track if (bank["domain"].astype(str).str.lower() == track).any() else None
