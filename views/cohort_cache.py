"""One cohort's judgments and statistics, cached rater by rater: a new judgment costs one rater.

What is cached
--------------
A :class:`CohortCache` per (database, cohort, banks) and server process, shared
by every session of that process (:func:`cohort_cache`, a
``st.cache_resource``), holds:

* the cohort's judgments on the banks it covers (all the banks the cohort
  answered, by default, so that switching the drill bank hides no history; or
  one bank, when a page filters), prepared (:func:`calibration.data.prepare`
  bank by bank and stacked by :func:`calibration.data.across_banks`), with
  each rater's version and whether the database marks them simulated. Only
  what a page shows is read: this week's judgments for the leaderboard's
  default view, the rest when a page first shows all time;
* for each period a page shows (all time, or a week from its Monday), each
  rater's row of :func:`calibration.leaderboard.rater_scores`: their score
  sums, accuracy, overconfidence and bias fit;
* each rater's streak of finished daily drills on a given day
  (:func:`training.drills.cohort_streaks` for everyone at first, then
  :func:`training.drills.streak` for one rater);
* the gold audit (:func:`calibration.items.item_table`).

How it is invalidated
---------------------
Every page run first reads each rater's version from the database
(:meth:`storage.store.Store.rater_versions`: the number of their judgments and
the newest judgment's id, in one grouped query over an index). A rater whose
version changed, and only that rater, is read again
(:meth:`storage.store.Store.cohort_judgments` naming them), prepared and
scored again, and their streak recounted; raters no longer there are dropped.
What mixes raters, the cohort mean the scores are shrunk toward and the
ranking (:func:`calibration.leaderboard.rank_raters`), takes milliseconds and
is redone from the cached rows on every view. A new week or a new day
recomputes that week's rows or the streaks once. Several server processes
keep a cache each; all of them see a new judgment on their next view, since
the versions come from the database they share.

Three things are not per rater. The gold audit judges each pair by every
rater's answers together; one answer cannot move it, so it is recomputed when
the cohort's judgments have changed by more than :data:`AUDIT_STALE_SHARE`
(1%) since it was computed, and on every change below
:data:`AUDIT_ALWAYS_BELOW` judgments. Each pair's easiness measured on the
cohort (:meth:`CohortCache.easiness`, which a rater's report allows for,
in My report as in the lead console) is kept the same way. And the cache assumes the bank's pairs do
not change under it: the lead console clears it, as it clears the bank, when a
bank is imported.
"""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Sequence
from datetime import date

import pandas as pd
import streamlit as st

from calibration.bias import bias_by_rater, with_cohort_easiness
from calibration.data import across_banks, prepare
from calibration.items import item_table
from calibration.leaderboard import bias_odds, rank_raters, rater_scores
from pairs.features import pair_features
from storage.store import Store
from training import drills

AUDIT_STALE_SHARE = 0.01
"""The gold audit is recomputed once the cohort's judgments changed by more than this share."""
AUDIT_ALWAYS_BELOW = 10_000
"""Below this many judgments the gold audit is recomputed on every change."""
_RELOAD_ALL_ABOVE = 200
"""More changed raters than this are read (and scored) with the whole cohort at once."""
_STREAKS_ONE_BY_ONE = 20
"""Up to this many changed raters have their streaks counted one by one, more with one cohort query."""


class CohortCache:
    """The prepared judgments and per-rater statistics of one cohort on one bank (see the module docstring).

    Parameters
    ----------
    store : Store
        The database.
    cohort : str
        Cohort name.
    cohort_id : int
        Its id (for its drill streaks).
    banks : dict of str to DataFrame
        The banks covered: name to the pair bank as ``Store.load_bank``
        returns it. With more than one, pair ids are ``BANK / ID``
        (:func:`calibration.data.across_banks`) and each row names its ``bank``.
    """

    def __init__(self, store: Store, cohort: str, cohort_id: int, banks: dict[str, pd.DataFrame]):
        self.store = store
        self.cohort = cohort
        self.cohort_id = cohort_id
        self.banks = tuple(banks)
        self._banks = dict(banks)
        self._features = {
            name: pair_features(bank, counts=store.text_counts(name, bank)) for name, bank in banks.items()
        }
        self._lock = threading.RLock()
        self._frame: pd.DataFrame | None = None  # prepared judgments answered from self._span on
        self._span: pd.Timestamp | None = None  # None: all time (when self._frame is loaded)
        self._frame_versions: dict[str, tuple[int, int]] = {}  # what self._frame holds, per rater
        self._versions: dict[str, tuple[int, int]] = {}  # what the database held at the last refresh
        self._ids: dict[str, int] = {}
        self._simulated: set[str] = set()
        self._removed: set[str] = set()
        self._scores: dict[pd.Timestamp | None, tuple[pd.DataFrame, dict[str, tuple[int, int]]]] = {}
        self._bias: dict[pd.Timestamp | None, tuple[pd.DataFrame, dict[str, tuple[int, int]]]] = {}
        self._streaks: tuple[date | None, dict[str, tuple[tuple[int, int], int]]] = (None, {})
        self._audit: tuple[tuple[int, int], pd.DataFrame] | None = None
        self._easiness: tuple[tuple[int, int], pd.DataFrame] | None = None

    # -- keeping up with the database -------------------------------------------------

    def refresh(self) -> list[str]:
        """Read every rater's version; read again and prepare the raters whose judgments changed.

        Returns
        -------
        list of str
            The raters read again (none before the judgments are first needed).
        """
        with self._lock:
            # versions first, judgments after: a judgment stored in between is read but not yet
            # counted, so the next refresh reads its rater again (never the other way round)
            current = self._rater_versions()
            names = current["rater"].tolist()
            pairs = zip(current["n"].tolist(), current["version"].tolist(), strict=True)
            self._versions = dict(zip(names, pairs, strict=True))
            self._ids = dict(zip(names, current["rater_id"].tolist(), strict=True))
            self._simulated = set(current.loc[current["simulated"], "rater"])
            self._removed = set(current.loc[current["removed"], "rater"])
            if self._frame is None:
                return []
            changed = [r for r, v in self._versions.items() if self._frame_versions.get(r) != v]
            gone = [r for r in self._frame_versions if r not in self._versions]
            if len(changed) > _RELOAD_ALL_ABOVE:
                self._frame = self._read(since=self._span)
            elif changed or gone:
                keep = ~self._frame["rater"].isin([*changed, *gone]).to_numpy()
                parts = [self._frame[keep]]
                if changed:
                    parts.append(self._read(since=self._span, names=changed))
                self._frame = pd.concat(parts, ignore_index=True)
            self._frame_versions = dict(self._versions)
            return changed

    def _rater_versions(self) -> pd.DataFrame:
        """``Store.rater_versions`` over the banks covered: judgments summed, newest id the largest."""
        parts = [self.store.rater_versions(cohort=self.cohort, bank=name) for name in self.banks]
        if len(parts) == 1:
            return parts[0]
        stacked = pd.concat(parts, ignore_index=True)
        return (
            stacked.groupby(["rater", "rater_id", "simulated", "removed"], sort=False, as_index=False)
            .agg(n=("n", "sum"), version=("version", "max"))
            .sort_values("rater_id", kind="stable")
        )

    def _read(self, **where) -> pd.DataFrame:
        """Read the cohort's judgments (``Store.cohort_judgments`` filters) and prepare them, bank by bank."""
        parts = {}
        for name in self.banks:
            fresh = self.store.cohort_judgments(cohort=self.cohort, bank=name, **where)
            parts[name] = prepare(self._banks[name], fresh, features=self._features[name])
        return across_banks(parts)

    def _loaded(self, since: pd.Timestamp | None) -> pd.DataFrame:
        """The prepared judgments, read at least from ``since`` on (all of them if None).

        A page showing this week reads this week; older judgments are read
        once, when a page first shows all time.
        """
        if self._frame is None:
            self._frame = self._read(since=since)
            self._span = since
            self._frame_versions = dict(self._versions)
        elif self._span is not None and (since is None or since < self._span):
            older = self._read(since=since, before=self._span)
            self._frame = pd.concat([older, self._frame], ignore_index=True)
            self._span = since
        return self._frame

    # -- what the pages read ------------------------------------------------------------

    def prepared(self) -> pd.DataFrame:
        """Every judgment of the cohort on the banks covered, prepared.

        Returns
        -------
        DataFrame
            Rows of :func:`calibration.data.prepare`, each rater's oldest
            first (the raters read again last at the end).
        """
        with self._lock:
            return self._loaded(None)

    def rater_prepared(self, rater: str) -> pd.DataFrame:
        """One rater's prepared judgments, oldest first, with their pairs' easiness in the cohort.

        Parameters
        ----------
        rater : str
            Rater name.

        Returns
        -------
        DataFrame
            Their rows of :meth:`prepared` (empty if they have none), with
            ``easiness`` and ``easiness_var`` (:meth:`easiness`), so their
            report allows for it as the cohort report does.
        """
        frame = self.prepared()
        rows = frame[frame["rater"].to_numpy() == rater].reset_index(drop=True)
        measured = self.easiness()
        mine = measured[measured["rater"].to_numpy() == rater].set_index("pair_id")
        if rows.empty or mine.empty:
            return rows
        columns = ["easiness", "easiness_var"]
        return rows.assign(**{c: rows["pair_id"].map(mine[c]).to_numpy(dtype=float) for c in columns})

    def easiness(self) -> pd.DataFrame:
        """Each first answer's pair easiness, measured on the rest of the cohort.

        Returns
        -------
        DataFrame
            Columns ``rater``, ``pair_id``, ``easiness``, ``easiness_var``
            (:func:`calibration.bias.with_cohort_easiness` of :meth:`prepared`:
            the answers the bias model reads; ``easiness`` is NaN where no one
            else judged the pair), recomputed as the gold audit is (after a
            change of more than 1%).
        """
        with self._lock:
            frame = self.prepared()
            if self._easiness is not None and self._still_fresh(self._easiness[0], len(frame)):
                return self._easiness[1]
            measured = with_cohort_easiness(frame)
            columns = ["rater", "pair_id", "easiness", "easiness_var"]
            if "easiness" in measured.columns:
                table = measured.loc[measured["easiness_var"].notna(), columns]
                table = table.drop_duplicates(["rater", "pair_id"]).reset_index(drop=True)
            else:
                table = pd.DataFrame({c: [] for c in columns})
            self._easiness = (self.version(), table)
            return table

    def simulated(self) -> set[str]:
        """The raters the database marks as simulated.

        Returns
        -------
        set of str
            Names whose ``raters.simulated`` column is set, as of the last refresh.
        """
        return set(self._simulated)

    def removed(self) -> set[str]:
        """The raters a lead removed (their judgments stay, labelled), as of the last refresh.

        Returns
        -------
        set of str
            Names whose ``raters.removed_at`` is set.
        """
        return set(self._removed)

    def version(self) -> tuple[int, int]:
        """A version of the whole cohort's judgments.

        Returns
        -------
        tuple of int
            (judgments, sum of the raters' newest judgment ids): changes
            whenever any rater's judgments do.
        """
        with self._lock:
            return (
                sum(n for n, _ in self._versions.values()),
                sum(v for _, v in self._versions.values()),
            )

    def leaderboard(
        self, *, since: pd.Timestamp | None, today: date, k: float, min_n: int, with_bias: bool = True
    ) -> pd.DataFrame:
        """The leaderboard of the judgments from ``since`` on, with drill streaks over all time.

        Parameters
        ----------
        since : Timestamp or None
            First moment of the period shown (UTC), e.g. this Monday at 00:00;
            None for all time.
        today : date
            The day streaks end on.
        k : float
            Prior weight, as in :func:`calibration.leaderboard.rank_raters`.
        min_n : int
            Judgments needed to be ranked.
        with_bias : bool, default True
            Fill ``length_or`` and ``polish_or`` (the bias model, fitted per
            rater and cached like the scores); False leaves them NaN, for a
            board that does not show them.

        Returns
        -------
        DataFrame
            :func:`calibration.leaderboard.rank_raters` of the raters with
            judgments in the period (empty if there are none).
        """
        with self._lock:
            counting = None
            if self._streaks_due(today):  # the cohort's streak query runs while the judgments are read
                counting = _BACKGROUND.submit(drills.cohort_streaks, self.store, self.cohort_id, today)
            rows = self._per_rater(self._scores, since, lambda frame: rater_scores(frame, with_bias=False))
            if with_bias:
                odds = self._per_rater(self._bias, since, _bias_odds).set_index("rater")
                for column in _ODDS:
                    rows[column] = odds[column].reindex(rows["rater"]).to_numpy(dtype=float)
            streaks = self._streak_counts(today, counted=None if counting is None else counting.result())
        return rank_raters(rows, k=k, min_n=min_n, streaks=streaks)

    def streaks(self, today: date) -> dict[str, int]:
        """Each rater's streak of finished daily drills on ``today`` (raters without one are left out).

        Parameters
        ----------
        today : date
            The day streaks end on.

        Returns
        -------
        dict
            ``{rater: days}``, over all time.
        """
        with self._lock:
            return self._streak_counts(today)

    def audit(self) -> pd.DataFrame:
        """The gold audit of the whole cohort.

        Returns
        -------
        DataFrame
            :func:`calibration.items.item_table` of :meth:`prepared`, recomputed
            as the module docstring says (after a change of more than 1%).
        """
        with self._lock:
            frame = self.prepared()
            if self._audit is not None and self._still_fresh(self._audit[0], len(frame)):
                return self._audit[1]
            table = item_table(frame)
            self._audit = (self.version(), table)
            return table

    def _still_fresh(self, at: tuple[int, int], judgments: int) -> bool:
        """Whether a cohort-wide result computed at version ``at`` still stands for ``judgments``."""
        moved = abs(judgments - at[0])
        small = judgments >= AUDIT_ALWAYS_BELOW and moved <= AUDIT_STALE_SHARE * at[0]
        return at == self.version() or small

    # -- per-rater pieces ---------------------------------------------------------------

    def _per_rater(self, cache: dict, since: pd.Timestamp | None, compute) -> pd.DataFrame:
        """``compute`` of the period's judgments, one row per rater, kept in ``cache`` by period.

        Only the rows of raters whose version changed since ``cache`` was
        filled are computed again (all of them when more than
        :data:`_RELOAD_ALL_ABOVE` changed).
        """
        frame = self._loaded(since)
        rows, scored_at = cache.get(since, (None, {}))
        stale = {r for r, v in self._versions.items() if scored_at.get(r) != v}
        gone = set(scored_at) - set(self._versions)
        if rows is None or len(stale) > _RELOAD_ALL_ABOVE:
            rows = compute(_in_period(frame, since))
        elif stale or gone:
            kept = rows[~rows["rater"].isin(stale | gone).to_numpy()]
            some = _in_period(frame[frame["rater"].isin(stale).to_numpy()], since)
            rows = pd.concat([kept, compute(some)], ignore_index=True) if len(some) else kept
        cache[since] = (rows, dict(self._versions))
        for key in [key for key in cache if key is not None and since is not None and key < since]:
            del cache[key]  # an earlier week is not shown again
        return rows.copy()

    def _streaks_due(self, today: date) -> bool:
        """Whether :meth:`_streak_counts` will count the whole cohort's streaks (one query)."""
        day, known = self._streaks
        stale = [r for r, v in self._versions.items() if known.get(r, (None, 0))[0] != v]
        return day != today or len(stale) > _STREAKS_ONE_BY_ONE

    def _streak_counts(self, today: date, counted: dict[str, int] | None = None) -> dict[str, int]:
        """Each rater's drill streak on ``today``; counted again only for raters whose version changed.

        ``counted`` is :func:`training.drills.cohort_streaks` of ``today`` when
        the caller ran it already (while it read the judgments).
        """
        day, known = self._streaks
        stale = [r for r, v in self._versions.items() if known.get(r, (None, 0))[0] != v]
        if counted is not None or day != today or len(stale) > _STREAKS_ONE_BY_ONE:
            counts = (
                counted if counted is not None else drills.cohort_streaks(self.store, self.cohort_id, today)
            )
            known = {r: (v, int(counts.get(r, 0))) for r, v in self._versions.items()}
        elif stale or len(known) != len(self._versions):
            known = {r: known[r] for r in self._versions if r in known}
            for r in stale:
                known[r] = (self._versions[r], drills.streak(self.store, self._ids[r], today))
        self._streaks = (today, known)
        return {r: s for r, (_, s) in known.items() if s}


_BACKGROUND = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="paircal-cohort")
"""Runs a cohort's streak query on its own connection while the page's thread reads the judgments:
SQLite and PostgreSQL work without holding Python's lock, so the two overlap."""


_ODDS = ("length_or", "polish_or")


def _bias_odds(frame: pd.DataFrame) -> pd.DataFrame:
    """Each rater's length and polish odds ratios (:func:`calibration.bias.bias_by_rater`), a row each."""
    return bias_odds(bias_by_rater(frame), pd.unique(frame["rater"]))


def _in_period(frame: pd.DataFrame, since: pd.Timestamp | None) -> pd.DataFrame:
    """Rows answered at or after ``since`` (all rows if None)."""
    if since is None:
        return frame
    return frame[(frame["answered_at"] >= since).to_numpy(dtype=bool, na_value=False)]


@st.cache_resource(show_spinner=False, max_entries=16)
def _cache(url: str, cohort: str, cohort_id: int, banks: tuple[tuple[str, int], ...]) -> CohortCache:
    from views.common import get_store, load_bank

    return CohortCache(get_store(), cohort, cohort_id, {name: load_bank(name, rev) for name, rev in banks})


def cohort_cache(cohort: str, cohort_id: int, banks: str | Sequence[str]) -> CohortCache:
    """This server's cache of ``cohort``'s judgments on ``banks``, brought up to date with the database.

    Parameters
    ----------
    cohort : str
        Cohort name.
    cohort_id : int
        Its id.
    banks : str or sequence of str
        The bank, or banks, covered (see :func:`training.cohort.figure_banks`).

    Returns
    -------
    CohortCache
        Refreshed: raters with new judgments were read again.
    """
    from views.common import get_store

    store = get_store()
    names = (banks,) if isinstance(banks, str) else tuple(banks)
    # keyed by the banks' revisions: a gold corrected in any server process re-scores everything here
    cache = _cache(store.url, cohort, cohort_id, tuple((name, store.bank_revision(name)) for name in names))
    cache.refresh()
    return cache


def clear() -> None:
    """Forget every cohort's cache (after a bank's pairs changed)."""
    _cache.clear()


__all__ = ["AUDIT_ALWAYS_BELOW", "AUDIT_STALE_SHARE", "CohortCache", "clear", "cohort_cache"]
