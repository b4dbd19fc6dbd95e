"""Single sign-on: which PairCal rater someone signed in at the organisation's identity provider is.

The app signs people in with Streamlit's ``st.login`` (OpenID Connect, set up
in the server's secrets, ``[auth]``). What it gets back is an identity: the
provider's issuer (``iss``) and its subject for the person (``sub``), the pair
OpenID Connect promises is stable and never reassigned. E-mail addresses and
names are not used to match anyone: they change and can be reused.

An identity is linked to one rater, once:

* the first time, the person either joins a cohort with an invite code from
  its lead (a new rater, with a name they choose, or the lead with a lead
  invite), or proves they own an existing PairCal account with its cohort,
  name and password (the usual lockout applies);
* an identity that is linked to nobody, without an invite code or a
  password, is refused: :data:`NOT_LINKED` says what to do.

A rater who joined through single sign-on gets a random password that nobody
knows (the account has a password hash like any other, so signing in with a
password fails the same way and takes the same time); an administrator can
set a real one (``python -m pairs accounts set-password``). Once linked, each
sign-in at the provider signs the person in as that rater, with an ordinary
PairCal session (:func:`training.accounts.start_sign_in_token`).
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from storage import accounts as rows
from storage import identities
from storage.accounts import Refused
from storage.store import Store
from training import accounts
from training.accounts import AccountError, Rater

NOT_LINKED = (
    "PairCal does not know this account yet. Join your cohort with the invite code your lead gave you, "
    "or sign in once with your PairCal password to link the two."
)
MAX_ISSUER, MAX_SUBJECT = 500, 255
"""Longest issuer and subject accepted (OpenID Connect caps ``sub`` at 255 ASCII characters)."""


def check_identity(issuer: str, subject: str) -> tuple[str, str]:
    """The identity as stored, or an error when the provider sent something unusable.

    Parameters
    ----------
    issuer : str
        The ID token's ``iss`` claim (the provider's URL).
    subject : str
        The ID token's ``sub`` claim.

    Returns
    -------
    (str, str)
        ``(issuer, subject)``, unchanged: both are compared exactly, as OpenID Connect says.

    Raises
    ------
    AccountError
        If either is missing, blank, not text, or too long (:data:`MAX_ISSUER`, :data:`MAX_SUBJECT`).

    Examples
    --------
    >>> check_identity("https://id.example.org", "248289761001")
    ('https://id.example.org', '248289761001')
    """
    for value, what, longest in (
        (issuer, "issuer (iss)", MAX_ISSUER),
        (subject, "subject (sub)", MAX_SUBJECT),
    ):
        if not isinstance(value, str) or not value.strip() or len(value) > longest or "\x00" in value:
            raise AccountError(f"The identity provider sent no usable {what}.")
    return issuer, subject


def rater_for(store: Store, issuer: str, subject: str) -> Rater | None:
    """The rater an identity is linked to, or None if it is linked to nobody (or to a removed rater).

    Raises
    ------
    AccountError
        If the issuer or subject is unusable (see :func:`check_identity`).
    """
    rater_id = identities.find_identity(store, *check_identity(issuer, subject))
    if rater_id is None:
        return None
    try:
        return Rater(**rows.load_rater(store, rater_id))
    except Refused:
        return None


def _link(store: Store, issuer: str, subject: str, rater: Rater) -> Rater:
    linked = identities.link_identity(store, issuer, subject, rater.id, moment=datetime.now(UTC))
    if linked is None:
        raise AccountError("This account was removed from its cohort; ask the cohort's lead.")
    if linked != rater.id:  # linked meanwhile (two sign-ins racing): the first link stands
        return Rater(**rows.load_rater(store, linked))
    return rater


def join_with_identity(store: Store, issuer: str, subject: str, invite_code: str, name: str) -> Rater:
    """Join a cohort with an invite code as a new rater linked to the identity.

    Parameters
    ----------
    store : Store
    issuer, subject : str
        The identity (``iss`` and ``sub``).
    invite_code : str
        A cohort's invite code (or a one-time lead invite).
    name : str
        Display name in the cohort.

    Returns
    -------
    Rater

    Raises
    ------
    AccountError
        As :func:`training.accounts.join_cohort` (a bad invite code, a taken
        name), or if the identity is unusable.
    """
    check_identity(issuer, subject)  # refuse an unusable identity before creating anyone
    rater = accounts.join_cohort(store, invite_code, name, secrets.token_urlsafe(32))
    return _link(store, issuer, subject, rater)


def link_with_password(
    store: Store, issuer: str, subject: str, cohort: str, name: str, password: str
) -> Rater:
    """Link the identity to an existing account, proven with its password (once).

    Raises
    ------
    AccountError
        As :func:`training.accounts.login` (a wrong password, a locked
        account), or if the identity is unusable.
    """
    check_identity(issuer, subject)
    rater = accounts.login(store, cohort, name, password)
    return _link(store, issuer, subject, rater)


__all__ = ["NOT_LINKED", "check_identity", "join_with_identity", "link_with_password", "rater_for"]
