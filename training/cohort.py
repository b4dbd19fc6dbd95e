"""Running a cohort from the lead console: the gold audit's acts, guidelines, demo data, the board.

A lead corrects a pair's gold or reason, or retires the pair, through
:func:`correct_gold`, :func:`correct_reason` and :func:`retire_pair`; each is
kept with who and when (:mod:`storage.audit`). Only the lead of the cohort
that owns the bank may do so: a shared or read-only bank is refused with
:data:`NOT_EDITABLE`, which tells the lead to make an editable copy first.

:func:`readable_board` turns :func:`calibration.leaderboard.rank_raters` into
the table people read: a stated rank or how many answers are still missing,
the score with its interval, simulated and removed raters labelled.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from typing import Any

import numpy as np
import pandas as pd

from pairs.probes import SKIP_REASONS, derive_probes, probe_counts
from storage import audit as rows
from storage.store import BankRefused, Store
from training.accounts import AccountError, Rater

GOLDS = ("A", "B", "tie")
"""The values a pair's gold may take."""
NOT_EDITABLE = (
    "This bank is shared by the server or read-only, so its pairs cannot be changed here. "
    "Make an editable copy under Drill settings and drill on it first."
)
BOARD_COLUMNS = ["rank", "rater", "score", "score_bar", "interval", "n", "streak"]
"""Columns of :func:`readable_board`."""
MAX_GUIDELINES = 20_000
"""Longest guidelines taken, in characters."""


def _lead(lead: Rater) -> None:
    if not lead.is_lead:
        raise AccountError("Only the cohort's lead can change its pairs.")


def _refused(refused: BankRefused) -> AccountError:
    return AccountError(NOT_EDITABLE)


def can_edit(store: Store, lead: Rater, bank: str) -> bool:
    """Whether ``lead`` may change ``bank``'s pairs: a lead of the cohort owning it, not read-only.

    Parameters
    ----------
    store : Store
    lead : Rater
    bank : str

    Returns
    -------
    bool
    """
    if not lead.is_lead:
        return False
    info = store.bank_info(bank)
    return info["owner_cohort_id"] == lead.cohort_id and not info["read_only"]


def correct_gold(store: Store, lead: Rater, bank: str, pair_id: str, gold: str) -> bool:
    """Correct a pair's gold: past answers to it are scored against the new gold everywhere.

    Parameters
    ----------
    store : Store
    lead : Rater
        The cohort's lead; their cohort must own ``bank``.
    bank, pair_id : str
    gold : {"A", "B", "tie"}

    Returns
    -------
    bool
        False when the gold was already ``gold`` (nothing recorded).

    Raises
    ------
    AccountError
        Not a lead, a bank the cohort may not change, or a gold that is not A, B or tie.
    """
    _lead(lead)
    if gold not in GOLDS:
        raise AccountError("The gold must be A, B or tie.")
    try:
        return rows.change_pair(
            store, bank=bank, cohort_id=lead.cohort_id, pair_id=pair_id, field="gold", new=gold, by=lead.id
        )
    except BankRefused as refused:
        raise _refused(refused) from None


def correct_reason(store: Store, lead: Rater, bank: str, pair_id: str, reason: str) -> bool:
    """Replace the reason given for a pair's gold (Markdown); recorded like a gold correction.

    Parameters and errors as :func:`correct_gold`; ``reason`` is stripped.

    Returns
    -------
    bool
        False when the reason was already that text.
    """
    _lead(lead)
    try:
        return rows.change_pair(
            store,
            bank=bank,
            cohort_id=lead.cohort_id,
            pair_id=pair_id,
            field="rationale",
            new=reason.strip(),
            by=lead.id,
        )
    except BankRefused as refused:
        raise _refused(refused) from None


def retire_pair(store: Store, lead: Rater, bank: str, pair_id: str, *, retired: bool = True) -> bool:
    """Retire a pair (no drill draws it again; its answers still count), or restore it (``retired=False``).

    Parameters and errors as :func:`correct_gold`; retiring the bank's last
    pair in drills is refused too (an ``AccountError``).

    Returns
    -------
    bool
        False when the pair was already in that state.
    """
    _lead(lead)
    try:
        return rows.set_retired(
            store, bank=bank, cohort_id=lead.cohort_id, pair_id=pair_id, retired=retired, by=lead.id
        )
    except BankRefused as refused:
        raise _refused(refused) from None
    except rows.LastPair:
        raise AccountError("This is the bank's last pair in drills: it cannot be retired.") from None


def figure_banks(store: Store, cohort: str, drill_bank: str | None) -> list[str]:
    """The banks a cohort's figures cover by default: every bank its raters answered, and its drill bank.

    Switching the drill bank hides no history: the judgments on the banks the
    cohort drilled on before still count on the leaderboard, in the reports
    and in the console, each page saying which banks it covers.

    Parameters
    ----------
    store : Store
        The database.
    cohort : str
        Cohort name.
    drill_bank : str or None
        The bank the cohort drills on now.

    Returns
    -------
    list of str
        Bank names, in the order the banks were created; the drill bank last
        if nobody has answered it yet.
    """
    banks = store.cohort_banks(cohort=cohort)
    if drill_bank and drill_bank not in banks:
        banks.append(drill_bank)
    return banks


def retired_pairs(store: Store, bank: str) -> set[str]:
    """The ids of the bank's retired pairs.

    Parameters
    ----------
    store : Store
    bank : str

    Returns
    -------
    set of str
    """
    return rows.retired(store, bank)


def pair_history(store: Store, bank: str, pair_ids: list[str] | None = None) -> pd.DataFrame:
    """The recorded changes to the bank's pairs, oldest first (:data:`storage.audit.CHANGE_COLUMNS`).

    Parameters
    ----------
    store : Store
    bank : str
    pair_ids : list of str, optional
        Only these pairs.

    Returns
    -------
    DataFrame
    """
    return rows.pair_changes_of(store, bank, pair_ids)


def corrections_for(store: Store, rater: Rater, bank: str) -> pd.DataFrame:
    """Gold corrections of pairs the rater answered on ``bank``, oldest first.

    Parameters
    ----------
    store : Store
    rater : Rater
    bank : str

    Returns
    -------
    DataFrame
        Columns ``pair_id``, ``old``, ``new``, ``changed_at``.
    """
    return rows.gold_corrections_answered(store, rater.id, bank)


def set_guidelines(store: Store, lead: Rater, text: str) -> None:
    """Store the lead's cohort's rating guidelines (Markdown); empty text removes them.

    Parameters
    ----------
    store : Store
    lead : Rater
    text : str

    Raises
    ------
    AccountError
        Not a lead, or text longer than :data:`MAX_GUIDELINES`.
    """
    if not lead.is_lead:
        raise AccountError("Only the cohort's lead can write its guidelines.")
    if len(text) > MAX_GUIDELINES:
        raise AccountError(f"Guidelines may be at most {MAX_GUIDELINES:,} characters long.")
    rows.set_guidelines(store, lead.cohort_id, text, by=lead.id)


def guidelines(store: Store, cohort_id: int) -> dict[str, Any] | None:
    """The cohort's guidelines (``text``, ``updated_at``, ``updated_by``), or None when there are none.

    Parameters
    ----------
    store : Store
    cohort_id : int

    Returns
    -------
    dict or None
    """
    return rows.guidelines(store, cohort_id)


def remove_demo_data(store: Store, lead: Rater) -> dict[str, int]:
    """Remove the lead's cohort's simulated raters and all their judgments and drills.

    Parameters
    ----------
    store : Store
    lead : Rater

    Returns
    -------
    dict
        ``raters`` and ``judgments`` removed.

    Raises
    ------
    AccountError
        Not a lead.
    """
    if not lead.is_lead:
        raise AccountError("Only the cohort's lead can remove its demo data.")
    return rows.remove_simulated_raters(store, lead.cohort_id)


def add_probes(
    store: Store, lead: Rater, bank: str, kinds: Sequence[str] = ("polish", "padding"), *, seed: int = 0
) -> dict[str, Any]:
    """Derive probes of ``bank``'s decided pairs and add them to it, in one import.

    Drills then mix them in (rules 8 to 10 of :mod:`training.selection`). Deriving is deterministic,
    so doing it again adds nothing: the probes are already there, unchanged.

    Parameters
    ----------
    store : Store
    lead : Rater
        A lead of the cohort owning the bank; a shared or read-only bank is refused.
    bank : str
    kinds : sequence of str
        Kinds to derive (:data:`pairs.probes.KINDS`).
    seed : int, default 0

    Returns
    -------
    dict
        ``added``, ``updated``, ``unchanged`` (as :meth:`Store.import_bank`), ``derived`` per
        kind, and ``skipped``: ``{reason in words: bases}`` summed over the kinds.

    Raises
    ------
    AccountError
        ``lead`` is not a lead, or may not change ``bank``.
    """
    _lead(lead)
    if not can_edit(store, lead, bank):
        raise AccountError(NOT_EDITABLE)
    probes = derive_probes(store.load_bank(bank), kinds, seed=seed)
    skipped: dict[str, int] = {}
    for per_reason in probes.attrs.get("skipped", {}).values():
        for reason, n in per_reason.items():
            if reason == "probe":  # the bank's probes themselves
                continue
            words = SKIP_REASONS.get(reason, reason)
            skipped[words] = skipped.get(words, 0) + int(n)
    counts: dict[str, Any] = {"added": 0, "updated": 0, "unchanged": 0}
    if len(probes):
        try:
            counts = dict(store.import_bank(bank, probes, owner_cohort_id=lead.cohort_id, as_server=False))
        except BankRefused as refused:
            raise _refused(refused) from None
    return {**counts, "derived": probe_counts(probes), "skipped": skipped}


def import_message(
    name: str, counts: dict[str, int], *, shown_name: str | None = None, no_rationale: int = 0
) -> str:
    """What a bank import did, in one sentence.

    Parameters
    ----------
    name : str
        The bank's name (shown quoted).
    counts : dict
        ``added``, ``updated`` and ``unchanged``, as ``Store.import_bank`` returns them.
    shown_name : str, optional
        The name as the message shows it (default ``repr(name)``), e.g. escaped for Markdown.
    no_rationale : int, default 0
        Pairs of the file without a rationale: raters see no reason after answering them (said
        when the import changed something; an identical file says only that nothing changed).

    Returns
    -------
    str

    Examples
    --------
    >>> import_message("b", {"added": 0, "updated": 0, "unchanged": 12})
    "Bank 'b': nothing changed (12 pairs already as in the file)."
    >>> import_message("b", {"added": 2, "updated": 1, "unchanged": 0})
    "Bank 'b': 2 pairs added, 1 updated, 0 unchanged."
    >>> import_message("b", {"added": 1, "updated": 0, "unchanged": 5})
    "Bank 'b': 1 pair added, 0 updated, 5 unchanged."
    >>> import_message("b", {"added": 6, "updated": 0, "unchanged": 0}, no_rationale=2)[-69:]
    '2 pairs have no rationale: raters see no reason after answering them.'
    """
    shown = repr(name) if shown_name is None else shown_name
    if not counts["added"] and not counts["updated"]:
        n = counts["unchanged"]
        said = f"Bank {shown}: nothing changed ({n} pair{'' if n == 1 else 's'} already as in the file)."
    else:
        said = (
            f"Bank {shown}: {counts['added']} pair{'' if counts['added'] == 1 else 's'} added, "
            f"{counts['updated']} updated, "
            f"{counts['unchanged']} unchanged."
        )
    if no_rationale and (counts["added"] or counts["updated"]):  # said once, when the pairs came in
        have = "pair has" if no_rationale == 1 else "pairs have"
        said += f" {no_rationale} {have} no rationale: raters see no reason after answering them."
    return said


def readable_board(
    board: pd.DataFrame,
    *,
    min_n: int,
    simulated: Collection[str] = (),
    removed: Collection[str] = (),
    people: Collection[str] | None = None,
    show_simulated: bool = False,
    keep: Sequence[str] = (),
) -> pd.DataFrame:
    """The leaderboard as people read it.

    Simulated raters are left out when real people are on the board (their
    names in ``people``), unless ``show_simulated``; they are labelled
    ``(simulated)`` where shown, removed raters ``(removed)``. Ranks are
    counted again among the raters shown, in the board's order.

    Parameters
    ----------
    board : DataFrame
        :func:`calibration.leaderboard.rank_raters` (columns ``rank``,
        ``rater``, ``n``, ``score``, ``ci_low``, ``ci_high``, ``streak``).
    min_n : int
        Scored answers needed to be ranked.
    simulated, removed : collection of str
        Names of simulated and of removed raters.
    people : collection of str, optional
        Names of the cohort's people (accounts that sign in). None: everyone
        not simulated counts as a person.
    show_simulated : bool, default False
        Show simulated raters even beside people.
    keep : sequence of str
        Further columns of ``board`` to carry over, after the others (e.g. ``accuracy``).

    Returns
    -------
    DataFrame
        :data:`BOARD_COLUMNS`: ``rank`` is text (``"3"``, or ``"not ranked
        yet (N more answers)"``), ``score`` text with three decimals (``"no
        score yet"`` without scored answers), ``score_bar`` the score clipped
        to [-1, 1] for a bar (0 without a score), ``interval`` the 95%
        posterior interval of the shown score as ``"0.120 to 0.480"``
        (``"no answers yet"`` before there is one), ``n`` and ``streak`` integers; then
        the ``keep`` columns, as text for those in :data:`KEPT_FORMATS`
        (``"n/a"`` where not defined).

    Examples
    --------
    >>> board = pd.DataFrame({"rank": [1.0, np.nan], "rater": ["ann", "bo"], "n": [25, 0],
    ...     "score": [0.31, np.nan], "ci_low": [0.1, np.nan], "ci_high": [0.5, np.nan], "streak": [2, 0]})
    >>> readable_board(board, min_n=20)[["rank", "score", "interval"]].values.tolist()
    [['1', '0.310', '0.100 to 0.500'], ['not ranked yet (20 more answers)', 'no score yet', 'no answers yet']]
    """
    sim = set(simulated)
    names = board["rater"].astype(str)
    board = board.reset_index(drop=True)
    names = names.reset_index(drop=True)
    is_sim = names.isin(sim).to_numpy()
    has_people = bool((~is_sim).any()) if people is None else bool(names.isin(set(people)).to_numpy().any())
    if has_people and not show_simulated:
        board = board[~is_sim]
        names = names[~is_sim]
    gone = set(removed)
    labels = [f"{r} (simulated)" if r in sim else f"{r} (removed)" if r in gone else r for r in names]
    kept_rank = pd.to_numeric(board["rank"], errors="coerce").rank(
        method="min"
    )  # 1, 2, ... among those shown
    n = board["n"].to_numpy(dtype=int)
    score = board["score"].to_numpy(dtype=float)
    rank = [
        str(int(r)) if not _missing(r) else f"not ranked yet ({_more(min_n - k)})"
        for r, k in zip(kept_rank.tolist(), n.tolist(), strict=True)
    ]
    interval = [
        "no answers yet" if _missing(lo) or _missing(hi) else f"{_number(lo, '.3f')} to {_number(hi, '.3f')}"
        for lo, hi in zip(board["ci_low"].tolist(), board["ci_high"].tolist(), strict=True)
    ]
    return pd.DataFrame(
        {
            "rank": rank,
            "rater": labels,
            "score": ["no score yet" if math.isnan(s) else _number(s, ".3f") for s in score],
            "score_bar": np.clip(np.nan_to_num(score, nan=0.0), -1.0, 1.0),
            "interval": interval,
            "n": n,
            "streak": board["streak"].to_numpy(dtype=int),
            **{column: _kept(board[column], column) for column in keep},
        }
    )


KEPT_FORMATS = {"accuracy": ".0%", "overconfidence": "+.0%", "length_or": ".2f", "polish_or": ".2f"}
"""How :func:`readable_board` writes the further columns it knows (others are carried as they are)."""


def _kept(column: pd.Series, name: str) -> Any:
    """A further column of the board: text in :data:`KEPT_FORMATS` ("n/a" where undefined), or as is."""
    if name not in KEPT_FORMATS:
        return column.to_numpy()
    return ["n/a" if _missing(v) else _number(v, KEPT_FORMATS[name]) for v in column.astype(float).tolist()]


def _number(value: float, spec: str) -> str:
    """``format(value, spec)``, with no "-0" (a figure that rounds to zero is written "0").

    >>> _number(-0.25, ".3f"), _number(0.05, "+.0%"), _number(-0.0001, ".3f")
    ('-0.250', '+5%', '0.000')
    """
    text = format(value, spec)
    return text[1:] if text.startswith("-") and not any(c in "123456789" for c in text) else text


ITEM_FORMATS = {
    "accuracy": ".0%",
    "ci_low": ".0%",
    "ci_high": ".0%",
    "discrimination": ".2f",
    "expected_against": ".1f",
    "p_value": ".3f",
    "q_value": ".3f",
}
"""How :func:`readable_items` writes the figures of the per-pair table."""


def readable_items(items: pd.DataFrame) -> pd.DataFrame:
    """The per-pair table (:func:`calibration.items.item_table`) as a reader sees it.

    Parameters
    ----------
    items : DataFrame
        Per-pair statistics; a pair too rarely answered has no interval,
        discrimination or p-value (NaN).

    Returns
    -------
    DataFrame
        The same rows and columns, the figures of :data:`ITEM_FORMATS` as text
        with "n/a" where not estimated (never "nan"), ``gold_doubtful`` as "yes" or "".

    Examples
    --------
    >>> readable_items(pd.DataFrame({"pair_id": ["p1"], "accuracy": [0.625], "p_value": [float("nan")],
    ...                              "gold_doubtful": [False]})).iloc[0].tolist()
    ['p1', '62%', 'n/a', '']
    """
    out = items.copy()
    for column, spec in ITEM_FORMATS.items():
        if column in out:
            values = pd.to_numeric(out[column], errors="coerce").astype(float).tolist()
            out[column] = ["n/a" if _missing(v) else _number(v, spec) for v in values]
    if "gold_doubtful" in out:
        out["gold_doubtful"] = ["yes" if bool(v) else "" for v in out["gold_doubtful"].fillna(False)]
    return out


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _more(count: int) -> str:
    count = max(int(count), 1)
    return f"{count} more answer{'' if count == 1 else 's'}"


__all__ = [
    "BOARD_COLUMNS",
    "add_probes",
    "GOLDS",
    "MAX_GUIDELINES",
    "NOT_EDITABLE",
    "can_edit",
    "correct_gold",
    "correct_reason",
    "figure_banks",
    "corrections_for",
    "guidelines",
    "import_message",
    "pair_history",
    "readable_board",
    "readable_items",
    "remove_demo_data",
    "retire_pair",
    "retired_pairs",
    "set_guidelines",
]
