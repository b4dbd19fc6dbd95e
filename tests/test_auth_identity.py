"""Single sign-on identities (training/identity.py): linked by issuer and subject, once, through an
invite code or an existing account's password; refused otherwise. SQLite and PostgreSQL."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from storage.schema import identities as identities_table
from storage.store import Store, raters
from training import accounts, identity
from training.accounts import AccountError

ISS = "https://id.example.org"
PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def _forget_unknown_failures():
    accounts._unknown_failures.clear()
    yield
    accounts._unknown_failures.clear()


@pytest.fixture
def store(db_url):
    s = Store(db_url)
    s.ensure_starter_bank()
    yield s
    s.engine.dispose()


@pytest.fixture
def cohort(store):
    lead, code = accounts.create_cohort(store, "Alpha", "Lee", PASSWORD)
    ann = accounts.join_cohort(store, code, "Ann", PASSWORD)
    return lead, code, ann


def test_an_unknown_identity_is_linked_to_nobody(store, cohort):
    assert identity.rater_for(store, ISS, "sub-1") is None


def test_joining_with_an_invite_code_links_a_new_rater(store, cohort):
    lead, code, _ = cohort
    kim = identity.join_with_identity(store, ISS, "sub-1", code, "Kim")
    assert (kim.name, kim.cohort, kim.role) == ("Kim", "Alpha", "rater")
    assert identity.rater_for(store, ISS, "sub-1") == kim
    assert identity.rater_for(store, "https://other.example", "sub-1") is None  # issuer and subject
    assert identity.rater_for(store, ISS, "sub-2") is None
    assert accounts.resolve_session(store, accounts.start_session(store, kim.id)) == kim
    with pytest.raises(AccountError, match=re.escape(accounts.WRONG_LOGIN)):  # no password anyone knows
        accounts.login(store, "Alpha", "Kim", "")
    with store.read() as conn:
        stored = conn.execute(sa.select(raters.c.password_hash).where(raters.c.id == kim.id)).scalar()
    assert stored.startswith("$argon2id$")


def test_a_bad_invite_code_is_refused_and_links_nothing(store, cohort):
    with pytest.raises(AccountError, match=re.escape("That invite code is not valid.")):
        identity.join_with_identity(store, ISS, "sub-1", "", "Kim")
    assert identity.rater_for(store, ISS, "sub-1") is None


def test_an_existing_account_is_linked_with_its_password(store, cohort):
    _, _, ann = cohort
    with pytest.raises(AccountError, match=re.escape(accounts.WRONG_LOGIN)):
        identity.link_with_password(store, ISS, "sub-ann", "Alpha", "Ann", "not the password")
    assert identity.rater_for(store, ISS, "sub-ann") is None
    assert identity.link_with_password(store, ISS, "sub-ann", "Alpha", "Ann", PASSWORD) == ann
    assert identity.rater_for(store, ISS, "sub-ann") == ann


def test_an_identity_keeps_its_first_rater(store, cohort):
    lead, code, ann = cohort
    assert identity.link_with_password(store, ISS, "sub-x", "Alpha", "Ann", PASSWORD) == ann
    assert identity.link_with_password(store, ISS, "sub-x", "Alpha", "Lee", PASSWORD) == ann
    assert identity.rater_for(store, ISS, "sub-x") == ann


def test_a_link_to_a_deleted_rater_is_replaced(store, cohort):
    _, code, _ = cohort
    kim = identity.join_with_identity(store, ISS, "sub-1", code, "Kim")
    with store.engine.begin() as conn:
        conn.execute(sa.delete(raters).where(raters.c.id == kim.id))
    assert identity.rater_for(store, ISS, "sub-1") is None
    again = identity.join_with_identity(store, ISS, "sub-1", code, "Kim2")
    assert identity.rater_for(store, ISS, "sub-1") == again


@pytest.mark.parametrize(
    ("issuer", "subject"),
    [("", "s"), (ISS, ""), (ISS, "   "), (None, "s"), (ISS, "x" * 256), ("i" * 501, "s")],
)
def test_an_unusable_identity_is_refused(store, cohort, issuer, subject):
    lead, code, _ = cohort
    with pytest.raises(AccountError, match="The identity provider sent no usable"):
        identity.join_with_identity(store, issuer, subject, code, "Kim")
    assert len(accounts.list_raters(store, lead.cohort_id)) == 2  # nobody was created


def test_links_are_rows_of_the_identities_table(store, cohort):
    _, code, _ = cohort
    kim = identity.join_with_identity(store, ISS, "sub-1", code, "Kim")
    with store.read() as conn:
        rows = conn.execute(sa.select(identities_table)).mappings().all()
    assert [(r["issuer"], r["subject"], r["rater_id"]) for r in rows] == [(ISS, "sub-1", kim.id)]


def test_a_removed_rater_can_sign_in_neither_through_the_provider_nor_a_session(store, cohort):
    lead, code, _ = cohort
    kim = identity.join_with_identity(store, ISS, "sub-1", code, "Kim")
    token = accounts.start_session(store, kim.id)
    once = accounts.start_sign_in_token(store, kim.id)
    accounts.remove_rater(store, lead, kim.id)
    assert identity.rater_for(store, ISS, "sub-1") is None
    assert accounts.resolve_session(store, token) is None
    assert accounts.redeem_sign_in_token(store, once) is None
    with pytest.raises(AccountError, match=re.escape("This account cannot sign in.")):
        accounts.start_sign_in_token(store, kim.id)
    with pytest.raises(AccountError, match="removed"):
        identity.join_with_identity(store, ISS, "sub-1", code, "Kim again")
