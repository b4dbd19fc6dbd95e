"""The SQL behind single sign-on: which rater an identity from the identity provider is.

One row of ``identities`` per identity: the provider's issuer and subject
(the primary key) and the rater's id; deleted with the rater.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from storage.schema import identities, raters
from storage.store import Store


def _rater_of(conn: Connection, issuer: str, subject: str) -> int | None:
    found = conn.execute(
        sa.select(identities.c.rater_id)
        .join(raters, raters.c.id == identities.c.rater_id)
        .where(identities.c.issuer == issuer, identities.c.subject == subject, raters.c.removed_at.is_(None))
    ).scalar()
    return None if found is None else int(found)


def find_identity(store: Store, issuer: str, subject: str) -> int | None:
    """The id of the rater linked to the identity, or None (also when that rater was removed)."""
    with store.read() as conn:
        return _rater_of(conn, issuer, subject)


def link_identity(store: Store, issuer: str, subject: str, rater_id: int, *, moment: datetime) -> int | None:
    """Link the identity to a rater unless it is linked already; the rater it is linked to now.

    An identity keeps its first rater: a second link (two sign-ins racing)
    returns the first one's id; None when the identity is linked to a removed rater.
    """

    def fn(conn: Connection) -> int | None:
        key = (identities.c.issuer == issuer, identities.c.subject == subject)
        if conn.execute(sa.select(identities.c.rater_id).where(*key)).first() is None:
            conn.execute(
                sa.insert(identities).values(
                    issuer=issuer, subject=subject, rater_id=int(rater_id), created_at=moment
                )
            )
        return _rater_of(conn, issuer, subject)

    try:
        return store.write(fn)
    except IntegrityError:  # inserted by a racing sign-in between our check and our insert
        return find_identity(store, issuer, subject)


__all__ = ["find_identity", "link_identity"]
