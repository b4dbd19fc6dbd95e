"""Accounts: cohorts, raters, passwords, sign-in and sessions.

A lead creates a cohort and shares its invite code; the code admits raters to
that one cohort. People sign in with the cohort name, their name and a
password. Everything is stored through :class:`storage.store.Store`.

Security, in brief:

* Passwords are hashed with Argon2id (``argon2-cffi``; 19 MiB, 2 passes,
  1 lane, OWASP's recommendation; a random 16-byte salt each time) and
  compared in constant time. The stored string carries its parameters, so
  stronger ones can come later: a sign-in with an older hash (other Argon2id
  parameters, or the scrypt hashes stored before Argon2id) rehashes it.
* A wrong password and an unknown account give the same message, take the
  same Argon2id work, and are locked out alike: after 5 failures in a row,
  30 s, doubling with each further failure up to 15 min. (Failures for
  unknown names are counted in this process only; see :func:`login`.)
* A session token is random (``secrets.token_urlsafe(32)``); the database
  keeps only its SHA-256, so reading the table does not let anyone sign in.
* Simulated and imported raters have no password and cannot sign in; an
  administrator can give a non-simulated one a password with :func:`set_password`
  (``python -m pairs accounts set-password``), as after moving a store.

:class:`AccountError` messages are plain sentences meant for the user; they
never contain a password or a hash.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import re
import secrets
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import argon2
import pandas as pd

from storage import accounts as rows
from storage.accounts import RaterRow, Refused
from storage.schema import as_utc
from storage.store import Store

ARGON2_MEMORY_KIB = 19 * 1024
"""Argon2id memory per hash, in KiB (19 MiB: OWASP's Password Storage Cheat Sheet)."""
ARGON2_TIME_COST = 2
"""Argon2id passes over the memory (OWASP: 2 with 19 MiB)."""
ARGON2_PARALLELISM = 1
"""Argon2id lanes (OWASP: 1)."""
ARGON2_HASH_BYTES = 32
SALT_BYTES = 16
MIN_PASSWORD = 8
MAX_PASSWORD = 256
MAX_NAME = 60
MIN_DRILL_SIZE, MAX_DRILL_SIZE = 1, 50
MAX_FAILURES = 5
"""Failed sign-ins in a row before an account is locked."""
FIRST_LOCK_SECONDS = 30
MAX_LOCK_SECONDS = 15 * 60
SESSION_DAYS = 30
SIGN_IN_TOKEN_SECONDS = 120
"""Lifetime of a one-time sign-in token (:func:`start_sign_in_token`): the browser redeems it at once."""
SIMULATED_PREFIX = "sim-"
"""Names of simulated raters start with this; what marks them simulated is the ``raters.simulated`` column."""

WRONG_LOGIN = "Wrong cohort, name or password."
NOT_ADMIN = (
    "Only the server's admin can create cohorts. Ask them for a lead invite, "
    "or run `python -m pairs cohort create NAME` on the server."
)
LEAD_INVITE_DAYS = 7
"""Days a one-time lead invite stays valid."""
_LEAD_INVITE_BYTES = 24  # 32 characters: longer than any cohort invite code, which has 12
_LEAD_INVITE_LENGTH = 24  # a code this long is a lead invite
BAD_INVITE = "That invite code is not valid."

_MAX_LOOKUP = 200  # the width of the name columns: nothing longer can exist
_INVITE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,256}")


_ARGON2 = argon2.PasswordHasher(
    time_cost=ARGON2_TIME_COST,
    memory_cost=ARGON2_MEMORY_KIB,
    parallelism=ARGON2_PARALLELISM,
    hash_len=ARGON2_HASH_BYTES,
    salt_len=SALT_BYTES,
    type=argon2.Type.ID,
)


class AccountError(ValueError):
    """A refused account action; the message is shown to the user as it is."""


@dataclass(frozen=True)
class Rater:
    """A signed-in person (or a simulated rater) and their cohort.

    Attributes
    ----------
    id : int
        Row id in ``raters``.
    name : str
        Display name, unique within the cohort.
    role : str
        ``"rater"`` or ``"lead"``.
    cohort_id : int
        Row id in ``cohorts``.
    cohort : str
        Cohort name.
    simulated : bool
        True for the simulated raters of a demo cohort.
    admin : bool
        True for the server's admin, who creates cohorts and invites their leads.
    """

    id: int
    name: str
    role: str
    cohort_id: int
    cohort: str
    simulated: bool
    admin: bool = False

    @property
    def is_lead(self) -> bool:
        """True when this rater leads the cohort."""
        return self.role == "lead"


# -- passwords -------------------------------------------------------------------------


def hash_password(password: str) -> str:
    """Hash a password with Argon2id, for storage.

    Parameters
    ----------
    password : str
        8 to 256 characters (after Unicode NFC normalization, which is also
        applied when verifying, so the same text typed on any keyboard matches).

    Returns
    -------
    str
        The PHC string ``$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>``: a
        fresh random 16-byte salt, a 32-byte hash, and the parameters
        :data:`ARGON2_MEMORY_KIB`, :data:`ARGON2_TIME_COST` and
        :data:`ARGON2_PARALLELISM`.

    Raises
    ------
    AccountError
        If the password is too short or too long.

    References
    ----------
    A. Biryukov, D. Dinu, D. Khovratovich and S. Josefsson, "Argon2 Memory-Hard
    Function for Password Hashing and Proof-of-Work Applications", RFC 9106, 2021.
    OWASP, "Password Storage Cheat Sheet" (Argon2id: 19 MiB, 2 iterations, 1 lane).

    Examples
    --------
    >>> stored = hash_password("correct horse battery")
    >>> stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    True
    >>> verify_password("correct horse battery", stored), verify_password("wrong horse", stored)
    (True, False)
    """
    if not isinstance(password, str):
        raise AccountError("The password must be text.")
    text = _normalize(password)
    if len(text) < MIN_PASSWORD:
        raise AccountError(f"The password must have at least {MIN_PASSWORD} characters.")
    if len(text) > MAX_PASSWORD:
        raise AccountError(f"The password must have at most {MAX_PASSWORD} characters.")
    return _ARGON2.hash(_encode(text))


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches a stored hash: Argon2id, or scrypt from before Argon2id.

    The parameters and salt are read from ``stored`` and the hashes compared
    in constant time. A malformed ``stored`` string, parameters outside sane
    bounds (a corrupted row must not ask for gigabytes or minutes of work)
    give False rather than an error.

    Parameters
    ----------
    password : str
        The password typed.
    stored : str
        ``$argon2id$...`` (:func:`hash_password`), or the older
        ``scrypt$<n>$<r>$<p>$<salt base64>$<hash base64>``.

    Returns
    -------
    bool
    """
    if not isinstance(password, str) or len(password) > 4 * MAX_PASSWORD:
        return False
    if isinstance(stored, str) and stored.startswith("$argon2id$"):
        if not _argon2_within_bounds(stored):
            return False
        try:
            return _ARGON2.verify(stored, _encode(_normalize(password)))
        except argon2.exceptions.VerificationError:  # a mismatch, or a hash argon2 cannot check
            return False
        except argon2.exceptions.InvalidHashError:
            return False
    parsed = _parse_hash(stored)
    if parsed is None:
        return False
    n, r, p, salt, expected = parsed
    digest = _scrypt(_normalize(password), salt, n, r, p, len(expected))
    return hmac.compare_digest(digest, expected)


def _normalize(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _argon2_within_bounds(stored: str) -> bool:
    """Whether a stored ``$argon2id$`` string parses and asks for bounded work."""
    if len(stored) > 300:
        return False
    try:
        found = argon2.extract_parameters(stored)
    except argon2.exceptions.InvalidHashError:
        return False
    return (
        found.type is argon2.Type.ID
        and found.version == 19
        and 8 <= found.memory_cost <= 256 * 1024
        and 1 <= found.time_cost <= 10
        and 1 <= found.parallelism <= 16
        and 16 <= found.hash_len <= 64
        and 8 <= found.salt_len <= 64
    )


def _scrypt(text: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    """The scrypt digest of a hash from before Argon2id (they are still checked, then upgraded)."""
    return hashlib.scrypt(
        _encode(text),
        salt=salt,
        n=n,
        r=r,
        p=p,
        dklen=dklen,
        maxmem=128 * r * (n + p + 2) + 2**20,
    )


def _parse_hash(stored: Any) -> tuple[int, int, int, bytes, bytes] | None:
    """(n, r, p, salt, digest) of a stored scrypt hash, or None when it is not one we can check."""
    if not isinstance(stored, str) or len(stored) > 300:
        return None
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != "scrypt" or not all(x.isdigit() for x in parts[1:4]):
        return None
    n, r, p = (int(x) for x in parts[1:4])
    # Bounds keep a corrupted row from asking for gigabytes or minutes of work.
    if not (2 <= n <= 2**20 and n & (n - 1) == 0 and 1 <= r <= 32 and 1 <= p <= 16):
        return None
    if 128 * r * n > 2**27:
        return None
    try:
        salt = base64.b64decode(parts[4], validate=True)
        digest = base64.b64decode(parts[5], validate=True)
    except (binascii.Error, ValueError):
        return None
    if not (8 <= len(salt) <= 64 and 16 <= len(digest) <= 64):
        return None
    return n, r, p, salt, digest


def _needs_rehash(stored: str) -> bool:
    """True for anything but an Argon2id hash with today's parameters (scrypt hashes included)."""
    if not isinstance(stored, str) or not stored.startswith("$argon2id$"):
        return True
    try:
        return _ARGON2.check_needs_rehash(stored)
    except argon2.exceptions.InvalidHashError:
        return True


@cache
def _dummy_hash() -> str:
    """A hash of a random password: unknown accounts cost the same Argon2id work as real ones."""
    return hash_password(secrets.token_urlsafe(16))


# -- names and time --------------------------------------------------------------------


def _clean_name(value: Any, what: str) -> str:
    """A cohort or rater name in the one form names are stored in, or an AccountError naming ``what``.

    :func:`pairs.names.normalize_name`: NFKC, whitespace collapsed and trimmed;
    control, invisible and line-break characters refused (so ``alice\u200b``
    or a terminal escape cannot pass for ``alice``).
    """
    from pairs.names import normalize_name

    if not isinstance(value, str):
        raise AccountError(f"The {what} must be text.")
    try:
        return normalize_name(value, what, max_chars=MAX_NAME)
    except ValueError as exc:
        raise AccountError(str(exc)) from None


def _lookup_name(value: Any) -> str | None:
    """A name as typed at sign-in, normalized like stored names; None if no stored name can match."""
    from pairs.names import name_problem, normalize_name

    if not isinstance(value, str) or len(value) > 4 * _MAX_LOOKUP:
        return None
    if name_problem(value) is None:
        name = normalize_name(value)
    else:  # a name stored before names were normalized this way is still found
        name = _normalize(value.strip())
    if not name or len(name) > _MAX_LOOKUP or "\x00" in name:
        return None
    return name


def _person_name(value: Any) -> str:
    name = _clean_name(value, "name")
    if name.lower().startswith(SIMULATED_PREFIX):
        raise AccountError(f"Names starting with '{SIMULATED_PREFIX}' are kept for simulated raters.")
    return name


def _utc(moment: datetime | None) -> datetime:
    """``moment`` (default: now) as an aware UTC datetime; naive values are taken as UTC."""
    return datetime.now(UTC) if moment is None else as_utc(moment)


def _drill_size(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not MIN_DRILL_SIZE <= value <= MAX_DRILL_SIZE:
        raise AccountError(
            f"The drill size must be a whole number from {MIN_DRILL_SIZE} to {MAX_DRILL_SIZE}."
        )
    return value


def _rater(row: RaterRow) -> Rater:
    return Rater(**row)


def _no_bank(bank: str | None) -> AccountError:
    return AccountError(f"There is no pair bank named '{bank}'.")


# -- cohorts and joining ---------------------------------------------------------------


def create_cohort(
    store: Store,
    name: str,
    lead_name: str,
    lead_password: str,
    *,
    bank: str | None = "starter",
    drill_size: int = 10,
    by: Rater | None = None,
) -> tuple[Rater, str]:
    """Create a cohort and its lead account.

    Only the server's admin may (``by``), except on the first run: while the
    database holds no account, anyone may, and that first lead becomes the
    admin (as the README's first command leads a newcomer straight in).

    Parameters
    ----------
    store : Store
    name : str
        Cohort name, unique, at most 60 characters (trimmed).
    lead_name : str
        The lead's display name, at most 60 characters.
    lead_password : str
        8 to 256 characters.
    bank : str or None, default "starter"
        The pair bank for drills; it must exist. None leaves it unset.
    drill_size : int, default 10
        Pairs per daily drill, 1 to 50.
    by : Rater, optional
        The admin creating it (checked against the database, not trusted).

    Returns
    -------
    (Rater, str)
        The lead, and the cohort's invite code for raters.

    Raises
    ------
    AccountError
        If the caller may not create cohorts, a name is empty or too long, the
        cohort name is taken (also by a cohort made by an import, which has no
        lead), the bank is unknown or the password is refused.
    """
    cohort_name = _clean_name(name, "cohort name")
    lead = _person_name(lead_name)
    size = _drill_size(drill_size)
    password_hash = hash_password(lead_password)  # before the transaction: hashing is slow
    invite = secrets.token_urlsafe(9)
    try:
        lead_row = rows.create_cohort(
            store,
            name=cohort_name,
            invite_code=invite,
            bank=bank,
            drill_size=size,
            lead_name=lead,
            lead_password_hash=password_hash,
            by=None if by is None else by.id,
        )
    except Refused as refused:
        if refused.reason == "not-admin":
            raise AccountError(NOT_ADMIN) from None
        if refused.reason == "no-bank":
            raise _no_bank(bank) from None
        raise AccountError(f"A cohort named '{cohort_name}' already exists; choose another name.") from None
    return _rater(lead_row), invite


def join_cohort(store: Store, invite_code: str, name: str, password: str) -> Rater:
    """Join the one cohort an invite code belongs to: as a rater, or as its lead with a lead invite.

    A cohort's invite code admits raters; a one-time lead invite (from
    :func:`create_cohort_with_invite` or :func:`lead_invite`) admits one lead.
    A name that passes for one already in the cohort (same letters up to case,
    width, invisible characters or look-alike letters from another script) is
    taken.

    Parameters
    ----------
    store : Store
    invite_code : str
        The code the lead shared.
    name : str
        Display name, unique in the cohort, at most 60 characters.
    password : str
        8 to 256 characters.

    Returns
    -------
    Rater
        The new rater (role ``"rater"``, or ``"lead"`` for a lead invite).

    Raises
    ------
    AccountError
        ``"That invite code is not valid."``, a taken name, or a refused password.
    """
    code = invite_code.strip() if isinstance(invite_code, str) else ""
    if not _INVITE.fullmatch(code):
        raise AccountError(BAD_INVITE)
    rater_name = _person_name(name)
    password_hash = hash_password(password)
    try:
        if len(code) >= _LEAD_INVITE_LENGTH:
            return _rater(
                rows.accept_lead_invite(
                    store,
                    token_hash=_token_hash(code),
                    name=rater_name,
                    password_hash=password_hash,
                    moment=_utc(None),
                    same_name=same_name,
                )
            )
        row = rows.join_cohort(
            store, invite_code=code, name=rater_name, password_hash=password_hash, same_name=same_name
        )
        return _rater(row)
    except Refused as refused:
        if refused.reason == "bad-invite":
            raise AccountError(BAD_INVITE) from None
        if refused.name not in (None, rater_name):
            raise AccountError(
                f"The name '{rater_name}' looks too much like '{refused.name}', already in this cohort; "
                "choose another."
            ) from None
        raise AccountError(
            f"The name '{rater_name}' is already taken in this cohort; choose another."
        ) from None


def cohort_info(store: Store, cohort_id: int) -> dict[str, Any]:
    """A cohort's settings.

    Returns
    -------
    dict
        ``id``, ``name``, ``invite_code``, ``bank`` (bank name or None),
        ``drill_size``, ``simulated`` and ``tie_answers`` (raters may answer
        "About equally good").

    Raises
    ------
    AccountError
        If there is no such cohort.
    """
    info = rows.cohort_info(store, cohort_id)
    if info is None:
        raise AccountError("That cohort does not exist.")
    return info


def same_name(a: str, b: str) -> bool:
    """Whether two names would pass for one another on a leaderboard (then the second is refused).

    Compares the names' confusable skeletons (:func:`pairs.names.name_skeleton`):
    case, width, invisible characters and look-alike letters from other
    scripts (Cyrillic "а" for Latin "a") do not tell names apart.
    """
    from pairs.names import name_skeleton

    return name_skeleton(a) == name_skeleton(b)


def server_has_accounts(store: Store) -> bool:
    """False on a fresh database, before the first cohort's lead: the first run."""
    return rows.server_has_accounts(store)


def _require_admin(store: Store, by: Rater | None) -> int | None:
    """The admin's id (None for the server's operator at the command line)."""
    if by is None:
        return None
    if not rows.is_admin(store, by.id):
        raise AccountError(NOT_ADMIN)
    return by.id


def create_cohort_with_invite(
    store: Store,
    name: str,
    *,
    bank: str | None = "starter",
    drill_size: int = 10,
    by: Rater | None = None,
    days: int = LEAD_INVITE_DAYS,
) -> tuple[int, str]:
    """Create a cohort with no lead yet, and a one-time invite for its lead.

    Parameters
    ----------
    store : Store
    name : str
        Cohort name.
    bank : str or None, default "starter"
        One of the server's shared banks.
    drill_size : int, default 10
    by : Rater, optional
        The admin, in the app; None for the server's operator
        (``python -m pairs cohort create``).
    days : int
        How long the invite stays valid.

    Returns
    -------
    (int, str)
        The cohort's id and the lead invite (shown once: only its hash is stored).

    Raises
    ------
    AccountError
        If ``by`` is not the admin, the name is taken or the bank unknown.
    """
    cohort_name = _clean_name(name, "cohort name")
    size = _drill_size(drill_size)
    admin = _require_admin(store, by)
    invite = secrets.token_urlsafe(_LEAD_INVITE_BYTES)
    try:
        cohort_id = rows.create_cohort_with_invite(
            store,
            name=cohort_name,
            invite_code=secrets.token_urlsafe(9),
            bank=bank,
            drill_size=size,
            lead_invite_hash=_token_hash(invite),
            expires_at=_utc(None) + timedelta(days=days),
            by=admin,
        )
    except Refused as refused:
        if refused.reason == "not-admin":
            raise AccountError(NOT_ADMIN) from None
        if refused.reason == "no-bank":
            raise _no_bank(bank) from None
        raise AccountError(f"A cohort named '{cohort_name}' already exists; choose another name.") from None
    return cohort_id, invite


def lead_invite(store: Store, cohort_id: int, *, by: Rater | None, days: int = LEAD_INVITE_DAYS) -> str:
    """A new one-time invite to lead an existing cohort (admin only); shown once.

    Raises
    ------
    AccountError
        If ``by`` is not the admin or the cohort does not exist.
    """
    admin = _require_admin(store, by)
    invite = secrets.token_urlsafe(_LEAD_INVITE_BYTES)
    try:
        rows.add_lead_invite(
            store,
            cohort_id,
            token_hash=_token_hash(invite),
            expires_at=_utc(None) + timedelta(days=days),
            by=admin,
        )
    except Refused as refused:
        raise AccountError(
            NOT_ADMIN if refused.reason == "not-admin" else "That cohort does not exist."
        ) from None
    return invite


def rotate_invite(store: Store, lead: Rater) -> str:
    """Give the lead's cohort a new rater invite code; the old one stops working. The new code.

    Raises
    ------
    AccountError
        If ``lead`` does not lead a cohort.
    """
    if not lead.is_lead:
        raise AccountError("Only the cohort's lead can change its invite code.")
    code = secrets.token_urlsafe(9)
    rows.rotate_invite(store, lead.cohort_id, code)
    return code


def remove_rater(store: Store, lead: Rater, rater_id: int) -> str:
    """Remove a rater from the lead's cohort: they can no longer sign in; their judgments stay, labelled.

    Returns
    -------
    str
        The removed rater's name.

    Raises
    ------
    AccountError
        If ``lead`` is not a lead, or the rater is not an active rater of their cohort.
    """
    if not lead.is_lead:
        raise AccountError("Only the cohort's lead can remove raters.")
    try:
        return rows.remove_rater(store, lead.cohort_id, int(rater_id), moment=_utc(None))
    except Refused as refused:
        if refused.reason == "lead":
            raise AccountError("A lead cannot be removed here.") from None
        raise AccountError("That rater is not in your cohort.") from None


def cohorts_overview(store: Store, by: Rater) -> pd.DataFrame:
    """Every cohort on the server, for its admin (see :func:`storage.accounts.cohorts_overview`).

    Raises
    ------
    AccountError
        If ``by`` is not the admin.
    """
    _require_admin(store, by)
    return rows.cohorts_overview(store)


def set_drill_settings(
    store: Store,
    cohort_id: int,
    *,
    drill_size: int | None = None,
    bank: str | None = None,
    tie_answers: bool | None = None,
) -> None:
    """Change a cohort's drill size (1 to 50), bank (which must exist) and tie answers; None keeps a setting.

    ``tie_answers`` True offers raters a third answer, "About equally good"
    (stored as choice ``"tie"``); it is off for a new cohort.

    Raises
    ------
    AccountError
        If the size is out of range, the bank is unknown or the cohort does not exist.
    """
    size = _drill_size(drill_size) if drill_size is not None else None
    try:
        if tie_answers is not None and not isinstance(tie_answers, bool):
            raise AccountError(f"tie_answers must be True or False; got {tie_answers!r}.")
        rows.update_cohort(store, cohort_id, drill_size=size, bank=bank, tie_answers=tie_answers)
    except Refused as refused:
        if refused.reason == "no-bank":
            raise _no_bank(bank) from None
        raise AccountError("That cohort does not exist.") from None


def list_raters(store: Store, cohort_id: int) -> pd.DataFrame:
    """The cohort's raters (lead included), oldest first.

    Returns
    -------
    DataFrame
        Columns ``id`` (int), ``name``, ``role``, ``simulated`` (bool) and
        ``created_at`` (UTC datetime). No password data.
    """
    return rows.list_raters(store, cohort_id)


def add_simulated_raters(store: Store, cohort_id: int, names: list[str]) -> dict[str, int]:
    """Add simulated raters (no password: they can never sign in) to a cohort.

    Names already held by simulated raters of the cohort are reused, so loading
    a demo twice adds nobody new.

    Parameters
    ----------
    store : Store
    cohort_id : int
    names : list of str
        Each starts with ``"sim-"`` (so the app always labels them simulated).

    Returns
    -------
    dict
        Rater id by name, for every name given.

    Raises
    ------
    AccountError
        If a name does not start with ``"sim-"``, is held by a real rater of
        the cohort, or the cohort does not exist.
    """
    wanted = list(dict.fromkeys(_clean_name(n, "simulated rater name") for n in names))
    for name in wanted:
        if not name.startswith(SIMULATED_PREFIX):
            raise AccountError(f"Simulated rater names must start with '{SIMULATED_PREFIX}'; got '{name}'.")

    try:
        return rows.add_simulated_raters(store, cohort_id, wanted)
    except Refused as refused:
        if refused.reason == "real-rater":
            raise AccountError(
                f"'{refused.name}' is a real rater in this cohort; simulated raters need other names."
            ) from None
        raise AccountError("That cohort does not exist.") from None


def set_password(store: Store, cohort: str, name: str, password: str) -> Rater:
    """Give a rater a new password (an administrator's action, e.g. after ``python -m pairs store import``).

    The rater's failed sign-ins and lock are cleared and their sessions end.

    Parameters
    ----------
    store : Store
    cohort, name : str
        The cohort and the rater, as registered (surrounding spaces ignored).
    password : str
        8 to 256 characters.

    Returns
    -------
    Rater

    Raises
    ------
    AccountError
        If there is no such rater, the rater is simulated, or the password is refused.
    """
    password_hash = hash_password(password)
    cohort_name, rater_name = _lookup_name(cohort), _lookup_name(name)

    if cohort_name is None or rater_name is None:
        raise AccountError(f"There is no rater '{name}' in a cohort '{cohort}'.")
    try:
        return _rater(
            rows.set_password(store, cohort=cohort_name, name=rater_name, password_hash=password_hash)
        )
    except Refused as refused:
        if refused.reason == "simulated":
            raise AccountError(
                f"'{rater_name}' is a simulated rater; simulated raters never sign in."
            ) from None
        raise AccountError(f"There is no rater '{name}' in a cohort '{cohort}'.") from None


# -- signing in ------------------------------------------------------------------------


def _lock_seconds(failures: int) -> int:
    """Lock after ``failures`` failures in a row: 0 below 5, then 30 s doubling, at most 15 min."""
    if failures < MAX_FAILURES:
        return 0
    return min(FIRST_LOCK_SECONDS * 2 ** min(failures - MAX_FAILURES, 10), MAX_LOCK_SECONDS)


def _locked_message(until: datetime, moment: datetime) -> str:
    seconds = max(1, math.ceil((until - moment).total_seconds()))
    return f"Too many failed attempts; try again in {seconds} seconds."


class _UnknownFailures:
    """Failures for names that have no account, counted like real ones but in memory.

    Without this, an unknown name would never be locked while a real one would,
    which tells which names exist. Bounded (oldest forgotten first) and shared
    by the threads of one process; another process or a restart starts afresh.
    """

    def __init__(self, capacity: int = 10_000):
        self.capacity = capacity
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, tuple[int, datetime | None]] = OrderedDict()

    def fail(self, key: str, moment: datetime) -> str:
        """Record one attempt; the message to show."""
        with self._lock:
            failures, until = self._entries.pop(key, (0, None))
            if until is not None and until > moment:
                message = _locked_message(until, moment)
            else:
                failures += 1
                seconds = _lock_seconds(failures)
                until = moment + timedelta(seconds=seconds) if seconds else None
                message = WRONG_LOGIN
            self._entries[key] = (failures, until)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)
            return message

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_unknown_failures = _UnknownFailures()


def login(store: Store, cohort: str, name: str, password: str, *, now: datetime | None = None) -> Rater:
    """Sign in with cohort name, rater name and password.

    After 5 failures in a row an account is refused for 30 s, then 60 s,
    120 s, ... (at most 15 min) after each further failure; attempts while it
    is locked are refused without counting. A success resets the count.

    Parameters
    ----------
    store : Store
    cohort, name : str
        As registered (surrounding spaces ignored).
    password : str
    now : datetime, optional
        The current time (for tests); default the clock.

    Returns
    -------
    Rater

    Raises
    ------
    AccountError
        ``"Wrong cohort, name or password."`` for a wrong password and for an
        unknown cohort or name alike; ``"Too many failed attempts; try again in
        N seconds."`` while locked.

    Notes
    -----
    An unknown account costs the same Argon2id work (against a dummy hash) and
    is locked out the same way, so neither the message nor the time taken
    tells which names exist. The failures of unknown names are kept in this
    process's memory only, so with several server processes, or across a
    restart, an attacker could still tell them apart after 5 tries.
    """
    moment = _utc(now)
    cohort_name, rater_name = _lookup_name(cohort), _lookup_name(name)
    row = None
    if cohort_name is not None and rater_name is not None:
        row = rows.find_login(store, cohort_name, rater_name)
    if row is None or row.password_hash is None:
        verify_password(password, _dummy_hash())
        key = hashlib.sha256(f"{cohort_name}\x00{rater_name}".encode("utf-8", "surrogatepass")).hexdigest()
        raise AccountError(_unknown_failures.fail(key, moment))

    correct = verify_password(password, row.password_hash)  # always: a locked account takes as long
    if row.locked_until is not None and _utc(row.locked_until) > moment:
        raise AccountError(_locked_message(_utc(row.locked_until), moment))
    new_hash = None
    if correct and _needs_rehash(row.password_hash):
        # Only after the right password: a scrypt hash (or older Argon2id parameters) becomes
        # today's Argon2id, written in the same transaction that records the success.
        try:
            new_hash = hash_password(password)
        except AccountError:  # a password from before today's length rules: keep its hash
            new_hash = None

    status, until = rows.record_login(
        store,
        int(row.id),
        checked_hash=row.password_hash,
        correct=correct,
        moment=moment,
        lock_seconds=_lock_seconds,
        new_hash=new_hash,
    )
    if status == "locked" and until is not None:
        raise AccountError(_locked_message(until, moment))
    if status != "ok":
        raise AccountError(WRONG_LOGIN)  # a wrong password, or the account was deleted or changed meanwhile
    return _rater(rows.load_rater(store, int(row.id)))


# -- sessions --------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def start_session(
    store: Store, rater_id: int, *, days: float = SESSION_DAYS, now: datetime | None = None
) -> str:
    """Start a session for a rater who has just signed in.

    Parameters
    ----------
    store : Store
    rater_id : int
    days : float, default 30
        Lifetime of the session.
    now : datetime, optional
        The current time (for tests); default the clock.

    Returns
    -------
    str
        A new random token. Only its SHA-256 is stored, so the token itself
        exists only in the user's hands.

    Raises
    ------
    AccountError
        If the rater does not exist or cannot sign in (no password: simulated
        or imported).
    """
    if isinstance(days, bool) or not isinstance(days, int | float) or not 0 < days <= 366:
        raise ValueError("days must be a number of days from more than 0 to 366.")
    return _store_token(store, rater_id, _token_hash, _utc(now), timedelta(days=days))


def _store_token(
    store: Store, rater_id: int, hashed: Callable[[str], str], moment: datetime, lifetime: timedelta
) -> str:
    """A new random token whose hash ``hashed(token)`` is stored as a session row of the rater."""
    token = secrets.token_urlsafe(32)
    try:
        rows.start_session(
            store, rater_id, token_hash=hashed(token), moment=moment, expires_at=moment + lifetime
        )
    except Refused as refused:
        if refused.reason == "no-account":
            raise AccountError("That account does not exist.") from None
        raise AccountError("This account cannot sign in.") from None
    return token


def _sign_in_token_hash(token: str) -> str:
    # Another hash than a session's: a one-time token is never a session, nor a session token one.
    return hashlib.sha256(b"paircal one-time sign-in\x00" + token.encode("ascii")).hexdigest()


def start_sign_in_token(
    store: Store, rater_id: int, *, seconds: float = SIGN_IN_TOKEN_SECONDS, now: datetime | None = None
) -> str:
    """A one-time token that signs a browser in as the rater (the address ``/paircal/session?once=``).

    The web server (:mod:`views.web`) redeems it with :func:`redeem_sign_in_token`
    for a session whose token it keeps in an HttpOnly cookie, and sends the
    browser on to the app: so the session token itself never appears in an
    address, and the one-time token works once, for ``seconds``. It is how the
    app hands a fresh sign-in (password or single sign-on) to the browser, and
    how tests and benchmarks open a signed-in page.

    Parameters
    ----------
    store : Store
    rater_id : int
    seconds : float, default 120
        How long the token can be redeemed.
    now : datetime, optional
        The current time (for tests); default the clock.

    Returns
    -------
    str
        The token (only a hash of it is stored, in the ``sessions`` table).

    Raises
    ------
    AccountError
        If the rater does not exist or cannot sign in.
    """
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 < seconds <= 3600:
        raise ValueError("seconds must be a number of seconds from more than 0 to 3600.")
    return _store_token(store, rater_id, _sign_in_token_hash, _utc(now), timedelta(seconds=seconds))


def redeem_sign_in_token(store: Store, token: str, *, now: datetime | None = None) -> str | None:
    """Exchange a one-time sign-in token for a new session; the session's token.

    The one-time token is used up whatever happens: a second redeem, by
    anyone, gets None. Never raises for bad input (it arrives in an address).

    Returns
    -------
    str or None
        A session token for :func:`resolve_session`, or None when the token is
        unknown, used, expired or malformed, or the rater can no longer sign in.

    Examples
    --------
    >>> redeem_sign_in_token(None, "not a token") is None
    True
    """
    if not isinstance(token, str) or not _TOKEN.fullmatch(token):
        return None
    moment = _utc(now)
    found = rows.take_session(store, _sign_in_token_hash(token))
    if found is None or found[1] <= moment:
        return None
    try:
        return start_session(store, found[0]["id"], now=moment)
    except AccountError:  # removed meanwhile
        return None


def resolve_session(store: Store, token: str, *, now: datetime | None = None) -> Rater | None:
    """The rater a session token belongs to, or None if it is unknown, expired or malformed.

    Never raises for bad input: anything from a URL may arrive here.

    Examples
    --------
    >>> resolve_session(None, "not a token") is None
    True
    """
    if not isinstance(token, str) or not _TOKEN.fullmatch(token):
        return None
    found = rows.find_session(store, _token_hash(token))
    if found is None or found[1] <= _utc(now):
        return None
    return _rater(found[0])


def end_session(store: Store, token: str) -> None:
    """End a session (sign out); unknown or malformed tokens are ignored."""
    if not isinstance(token, str) or not _TOKEN.fullmatch(token):
        return
    rows.end_session(store, _token_hash(token))
