"""Accounts: password hashing, cohorts, sign-in, lockout and sessions, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import hashlib
import re
import threading
import unicodedata
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
import sqlalchemy as sa

from storage.store import Store, banks, raters, sessions
from training import accounts
from training.accounts import (
    AccountError,
    Rater,
    add_simulated_raters,
    cohort_info,
    create_cohort,
    end_session,
    hash_password,
    join_cohort,
    list_raters,
    login,
    resolve_session,
    set_drill_settings,
    start_session,
    verify_password,
)

PASSWORD = "correct horse battery"
WRONG = re.escape("Wrong cohort, name or password.")
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def locked(seconds: int) -> str:
    return re.escape(f"Too many failed attempts; try again in {seconds} seconds.")


def scrypt_string(password: str, salt: bytes, n: int, r: int, p: int, dklen: int = 32) -> str:
    """A stored hash built directly with hashlib, independently of training.accounts."""
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=dklen, maxmem=2**26)
    b64 = base64.b64encode
    return f"scrypt${n}${r}${p}${b64(salt).decode()}${b64(digest).decode()}"


@pytest.fixture(autouse=True)
def _forget_unknown_failures():
    accounts._unknown_failures.clear()
    yield
    accounts._unknown_failures.clear()


@pytest.fixture
def store(db_url):
    s = Store(db_url)
    with s.engine.begin() as conn:
        for name in ("starter", "other"):
            conn.execute(sa.insert(banks).values(name=name, created_at=T0, source_file=""))
    yield s
    s.engine.dispose()


@pytest.fixture
def cohort(store):
    """A cohort "Alpha" led by "Lee", with rater "Ann"; returns (lead, invite code, ann)."""
    lead, code = create_cohort(store, "Alpha", "Lee", PASSWORD)
    ann = join_cohort(store, code, "Ann", PASSWORD)
    return lead, code, ann


def rater_row(store, rater_id):
    with store.read() as conn:
        return conn.execute(sa.select(raters).where(raters.c.id == rater_id)).one()


# -- passwords -------------------------------------------------------------------------

ARGON2_PREFIX = "$argon2id$v=19$m=19456,t=2,p=1$"


def unb64(text: str) -> bytes:
    """PHC strings use base64 without padding."""
    return base64.b64decode(text + "=" * (-len(text) % 4))


def argon2_string(password: str, salt: bytes, *, m: int, t: int, p: int, length: int = 32) -> str:
    """A stored Argon2id hash built with the low-level binding, independently of training.accounts."""
    from argon2.low_level import Type, hash_secret_raw

    raw = hash_secret_raw(
        password.encode(), salt, time_cost=t, memory_cost=m, parallelism=p, hash_len=length, type=Type.ID
    )
    b64 = lambda b: base64.b64encode(b).decode().rstrip("=")  # noqa: E731
    return f"$argon2id$v=19$m={m},t={t},p={p}${b64(salt)}${b64(raw)}"


def test_hash_format():
    stored = hash_password(PASSWORD)
    match = re.fullmatch(r"\$argon2id\$v=19\$m=19456,t=2,p=1\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)", stored)
    assert match
    assert len(unb64(match.group(1))) == 16
    assert len(unb64(match.group(2))) == 32
    assert PASSWORD not in stored


def test_shipped_parameters_are_owasp_strength():
    """OWASP's Password Storage Cheat Sheet: Argon2id with at least 19 MiB, 2 iterations, 1 lane."""
    import argon2

    assert accounts.ARGON2_MEMORY_KIB >= 19 * 1024 and accounts.ARGON2_TIME_COST >= 2
    assert accounts.ARGON2_PARALLELISM >= 1 and accounts.SALT_BYTES >= 16
    found = argon2.extract_parameters(hash_password(PASSWORD))
    assert found.type is argon2.Type.ID and found.version == 19
    assert found.memory_cost >= 19 * 1024 and found.time_cost >= 2 and found.parallelism >= 1
    assert (found.memory_cost, found.time_cost, found.parallelism) == (
        accounts.ARGON2_MEMORY_KIB,
        accounts.ARGON2_TIME_COST,
        accounts.ARGON2_PARALLELISM,
    )
    assert found.salt_len == 16 and found.hash_len == 32


def test_verify_right_and_wrong():
    stored = hash_password(PASSWORD)
    assert verify_password(PASSWORD, stored)
    assert not verify_password(PASSWORD + " ", stored)
    assert not verify_password("Correct horse battery", stored)


def test_same_password_gets_a_new_salt():
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first != second
    assert first.split("$")[4] != second.split("$")[4]
    assert verify_password(PASSWORD, first) and verify_password(PASSWORD, second)


def test_hash_is_argon2id_recomputed_with_the_low_level_binding():
    stored = hash_password(PASSWORD)
    salt = unb64(stored.split("$")[4])
    assert stored == argon2_string(PASSWORD, salt, m=19456, t=2, p=1)


@pytest.mark.parametrize(("n", "r", "p", "dklen"), [(2**10, 4, 2, 32), (2**12, 8, 1, 64), (2**15, 8, 1, 32)])
def test_older_scrypt_hashes_still_verify(n, r, p, dklen):
    stored = scrypt_string(PASSWORD, b"0123456789abcdef", n, r, p, dklen)
    assert verify_password(PASSWORD, stored)
    assert not verify_password("another password", stored)


@pytest.mark.parametrize(("m", "t", "p"), [(8192, 3, 1), (47104, 1, 1), (19456, 2, 2)])
def test_argon2_parameters_are_read_from_the_stored_string(m, t, p):
    stored = argon2_string(PASSWORD, b"0123456789abcdef", m=m, t=t, p=p)
    assert verify_password(PASSWORD, stored)
    assert not verify_password("another password", stored)


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "scrypt",
        "bcrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "scrypt$16385$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "scrypt$1048576$64$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "scrypt$16384$8$1$not base64!$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA",
        "scrypt$-1$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "$argon2id$v=19$m=4194304,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "$argon2id$v=19$m=19456,t=1000,p=1$MDEyMzQ1Njc4OWFiY2RlZg$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "$argon2id$v=19$m=19456,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$not base64!",
        "$argon2id$v=19$m=19456,t=2,p=1$",
        "$argon2i$v=19$m=19456,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        None,
    ],
)
def test_malformed_or_absurd_hashes_do_not_verify(stored):
    assert verify_password(PASSWORD, stored) is False


def test_password_length_rules():
    with pytest.raises(AccountError, match=re.escape("The password must have at least 8 characters.")):
        hash_password("1234567")
    with pytest.raises(AccountError, match=re.escape("The password must have at most 256 characters.")):
        hash_password("x" * 257)
    assert verify_password("x" * 8, hash_password("x" * 8))
    assert verify_password("x" * 256, hash_password("x" * 256))


def test_composed_and_decomposed_accents_are_the_same_password():
    composed = "café au lait"
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    assert verify_password(decomposed, hash_password(composed))


# -- cohorts and joining ---------------------------------------------------------------


def test_create_join_login_round_trip(store, cohort):
    lead, code, ann = cohort
    assert isinstance(lead, Rater)
    assert (lead.name, lead.role, lead.cohort, lead.is_lead, lead.simulated) == (
        "Lee",
        "lead",
        "Alpha",
        True,
        False,
    )
    assert (ann.name, ann.role, ann.cohort_id, ann.is_lead) == ("Ann", "rater", lead.cohort_id, False)
    assert re.fullmatch(r"[A-Za-z0-9_-]{12}", code)
    assert login(store, "Alpha", "Ann", PASSWORD) == ann
    assert login(store, " Alpha ", "Lee ", PASSWORD) == lead
    assert cohort_info(store, lead.cohort_id) == {
        "id": lead.cohort_id,
        "name": "Alpha",
        "invite_code": code,
        "bank": "starter",
        "drill_size": 10,
        "simulated": False,
        "tie_answers": False,
    }
    people = list_raters(store, lead.cohort_id)
    assert list(people.columns) == ["id", "name", "role", "simulated", "created_at", "kind", "removed_at"]
    assert people[["name", "role"]].values.tolist() == [["Lee", "lead"], ["Ann", "rater"]]
    assert people["simulated"].dtype == bool and not people["simulated"].any()
    assert str(people["created_at"].dt.tz) == "UTC"


def test_stored_password_is_an_argon2id_hash(store, cohort):
    _, _, ann = cohort
    stored = rater_row(store, ann.id).password_hash
    assert stored.startswith(ARGON2_PREFIX) and PASSWORD not in stored
    assert verify_password(PASSWORD, stored)


def test_invite_code_admits_to_its_own_cohort_only(store, cohort):
    lead, code_alpha, _ = cohort
    _, code_beta = create_cohort(store, "Beta", "Bo", PASSWORD, bank="other", drill_size=5, by=lead)
    assert code_alpha != code_beta
    cy = join_cohort(store, code_alpha, "Cy", PASSWORD)
    assert cy.cohort == "Alpha"
    with pytest.raises(AccountError, match=WRONG):
        login(store, "Beta", "Cy", PASSWORD)
    dee = join_cohort(store, code_beta, "Dee", PASSWORD)
    assert (dee.cohort, cohort_info(store, dee.cohort_id)["bank"]) == ("Beta", "other")
    with pytest.raises(AccountError, match=WRONG):
        login(store, "Alpha", "Dee", PASSWORD)


def test_names_are_unique_per_cohort(store, cohort):
    lead, code, _ = cohort
    for name in ("Ann", " Ann ", "Lee"):
        with pytest.raises(AccountError, match="is already taken in this cohort"):
            join_cohort(store, code, name, PASSWORD)
    _, code_beta = create_cohort(store, "Beta", "Bo", PASSWORD, by=lead)
    assert join_cohort(store, code_beta, "Ann", PASSWORD).cohort == "Beta"  # another cohort: fine
    with pytest.raises(
        AccountError, match=re.escape("A cohort named 'Alpha' already exists; choose another name.")
    ):
        create_cohort(store, "Alpha", "Someone", PASSWORD, by=lead)
    assert len(list_raters(store, lead.cohort_id)) == 2


def test_cohort_made_by_an_import_cannot_be_claimed(store):
    store.ensure_cohort("imported")
    with pytest.raises(AccountError, match="A cohort named 'imported' already exists"):
        create_cohort(store, "imported", "Mallory", PASSWORD)


@pytest.mark.parametrize("code", ["nope", "", "   ", "x" * 10_000, "abc\x00def", "ünïcode", "a$b%c"])
def test_bad_invite_code(store, cohort, code):
    with pytest.raises(AccountError, match=re.escape("That invite code is not valid.")):
        join_cohort(store, code, "Eve", PASSWORD)


def test_short_password_is_refused_and_nothing_is_stored(store, cohort):
    lead, code, _ = cohort
    with pytest.raises(AccountError, match="at least 8 characters"):
        join_cohort(store, code, "Eve", "short")
    with pytest.raises(AccountError, match="at least 8 characters"):
        create_cohort(store, "Gamma", "Gus", "short", by=lead)
    assert list_raters(store, lead.cohort_id)["name"].tolist() == ["Lee", "Ann"]
    with store.read() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM cohorts")).scalar() == 1


@pytest.mark.parametrize(
    ("cohort_name", "lead_name", "message"),
    [
        ("", "Lee", "The cohort name must not be empty."),
        ("   ", "Lee", "The cohort name must not be empty."),
        ("x" * 61, "Lee", "The cohort name must have at most 60 characters."),
        ("Gamma", "", "The name must not be empty."),
        ("Gamma", "y" * 61, "The name must have at most 60 characters."),
        ("Gam\nma", "Lee", "The cohort name must be on one line, without a line break (U+000A LINE FEED)."),
        ("Gam\x1bma", "Lee", "The cohort name must not contain control characters (U+001B ESCAPE)."),
        ("Gamma", "Lee\u200b", "The name must not contain invisible characters (U+200B ZERO WIDTH SPACE)."),
        ("Gamma", "sim-lee", "Names starting with 'sim-' are kept for simulated raters."),
    ],
)
def test_create_cohort_checks_names(store, cohort_name, lead_name, message):
    with pytest.raises(AccountError, match=re.escape(message)):
        create_cohort(store, cohort_name, lead_name, PASSWORD)


def test_create_cohort_accepts_sixty_characters(store):
    lead, _ = create_cohort(store, "c" * 60, "n" * 60, PASSWORD)
    assert (lead.cohort, lead.name) == ("c" * 60, "n" * 60)


def test_create_cohort_checks_bank_and_drill_size(store):
    with pytest.raises(AccountError, match=re.escape("There is no pair bank named 'missing'.")):
        create_cohort(store, "Gamma", "Gus", PASSWORD, bank="missing")
    with pytest.raises(AccountError, match=re.escape("The drill size must be a whole number from 1 to 50.")):
        create_cohort(store, "Gamma", "Gus", PASSWORD, drill_size=0)
    lead, _ = create_cohort(store, "Gamma", "Gus", PASSWORD, bank=None)
    assert cohort_info(store, lead.cohort_id)["bank"] is None


def test_drill_settings(store, cohort):
    lead, _, _ = cohort
    set_drill_settings(store, lead.cohort_id, drill_size=25)
    set_drill_settings(store, lead.cohort_id, bank="other")
    info = cohort_info(store, lead.cohort_id)
    assert (info["drill_size"], info["bank"]) == (25, "other")
    for size in (0, 51, 2.5, True):
        with pytest.raises(AccountError, match="The drill size must be a whole number from 1 to 50."):
            set_drill_settings(store, lead.cohort_id, drill_size=size)
    with pytest.raises(AccountError, match=re.escape("There is no pair bank named 'missing'.")):
        set_drill_settings(store, lead.cohort_id, drill_size=5, bank="missing")
    assert cohort_info(store, lead.cohort_id)["drill_size"] == 25  # nothing half-applied
    with pytest.raises(AccountError, match=re.escape("That cohort does not exist.")):
        set_drill_settings(store, 9999, drill_size=5)
    with pytest.raises(AccountError, match=re.escape("That cohort does not exist.")):
        cohort_info(store, 9999)


# -- signing in and lockout ------------------------------------------------------------


def test_unknown_user_and_wrong_password_get_the_same_message(store, cohort):
    messages = []
    for cohort_name, name, password in [
        ("Alpha", "Ann", "not the password"),
        ("Alpha", "Nobody", PASSWORD),
        ("Nowhere", "Ann", PASSWORD),
        ("", "", ""),
        ("Alpha\x00", "Ann" * 100, PASSWORD),
    ]:
        with pytest.raises(AccountError) as err:
            login(store, cohort_name, name, password)
        messages.append(str(err.value))
    assert set(messages) == {"Wrong cohort, name or password."}


def test_unknown_user_costs_an_argon2id_verification(store, cohort, monkeypatch):
    calls = []
    real = accounts.verify_password
    monkeypatch.setattr(accounts, "verify_password", lambda p, s: calls.append(s) or real(p, s))
    with pytest.raises(AccountError, match=WRONG):
        login(store, "Alpha", "Nobody", PASSWORD)
    assert len(calls) == 1 and calls[0].startswith(ARGON2_PREFIX)


def test_lockout_after_five_failures_and_its_doubling(store, cohort):
    _, _, ann = cohort
    for i in range(5):
        with pytest.raises(AccountError, match=WRONG):
            login(store, "Alpha", "Ann", "wrong password", now=T0 + timedelta(seconds=i))
    # The 5th failure (at T0+4s) locks for 30 s; even the right password is refused.
    with pytest.raises(AccountError, match=locked(29)):
        login(store, "Alpha", "Ann", PASSWORD, now=T0 + timedelta(seconds=5))
    with pytest.raises(AccountError, match=locked(1)):
        login(store, "Alpha", "Ann", PASSWORD, now=T0 + timedelta(seconds=33.5))
    assert rater_row(store, ann.id).failed_logins == 5  # refused attempts are not counted

    t = T0 + timedelta(seconds=34)  # unlocked; each further failure doubles the lock
    for expected in (60, 120, 240, 480, 900, 900):
        with pytest.raises(AccountError, match=WRONG):
            login(store, "Alpha", "Ann", "wrong password", now=t)
        with pytest.raises(AccountError, match=locked(expected)):
            login(store, "Alpha", "Ann", PASSWORD, now=t)
        t += timedelta(seconds=expected)
    assert rater_row(store, ann.id).failed_logins == 11
    assert login(store, "Alpha", "Ann", PASSWORD, now=t) == ann


def test_success_resets_the_count(store, cohort):
    _, _, ann = cohort
    for i in range(4):
        with pytest.raises(AccountError, match=WRONG):
            login(store, "Alpha", "Ann", "wrong password", now=T0 + timedelta(seconds=i))
    assert login(store, "Alpha", "Ann", PASSWORD, now=T0 + timedelta(seconds=5)) == ann
    row = rater_row(store, ann.id)
    assert (row.failed_logins, row.locked_until) == (0, None)
    for i in range(4):  # four more are again not enough to lock
        with pytest.raises(AccountError, match=WRONG):
            login(store, "Alpha", "Ann", "wrong password", now=T0 + timedelta(seconds=10 + i))
    assert login(store, "Alpha", "Ann", PASSWORD, now=T0 + timedelta(seconds=15)) == ann


def test_lockout_of_one_account_leaves_others_alone(store, cohort):
    lead, _, _ = cohort
    for _ in range(5):
        with pytest.raises(AccountError, match=WRONG):
            login(store, "Alpha", "Ann", "wrong password", now=T0)
    assert login(store, "Alpha", "Lee", PASSWORD, now=T0) == lead


def test_unknown_names_are_locked_out_like_real_ones(store, cohort):
    for who in ("Ann", "Nobody"):
        for _ in range(5):
            with pytest.raises(AccountError, match=WRONG):
                login(store, "Alpha", who, "wrong password", now=T0)
        with pytest.raises(AccountError, match=locked(30)):
            login(store, "Alpha", who, "wrong password", now=T0 + timedelta(seconds=0))


def test_parallel_guesses_cannot_outrun_the_lock(store, cohort):
    _, _, ann = cohort
    messages: list[str] = []

    def guess(i: int) -> None:
        try:
            login(store, "Alpha", "Ann", f"wrong password {i}", now=T0)
        except AccountError as exc:
            messages.append(str(exc))

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(12)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(messages) == 12
    assert messages.count("Wrong cohort, name or password.") == 5
    assert rater_row(store, ann.id).failed_logins == 5


@pytest.mark.parametrize(
    "old",
    [
        scrypt_string(PASSWORD, b"0123456789abcdef", 2**14, 8, 1),  # what PairCal stored before Argon2id
        scrypt_string(PASSWORD, b"0123456789abcdef", 2**10, 4, 1),
        argon2_string(PASSWORD, b"0123456789abcdef", m=8192, t=3, p=1),  # weaker Argon2id parameters
    ],
    ids=["scrypt-2^14", "scrypt-2^10", "argon2id-8MiB"],
)
def test_older_hashes_become_argon2id_at_the_next_sign_in(store, cohort, old):
    _, _, ann = cohort
    with store.engine.begin() as conn:
        conn.execute(sa.update(raters).where(raters.c.id == ann.id).values(password_hash=old))
    for wrong in ("not the password", PASSWORD + " "):  # a wrong password never upgrades
        with pytest.raises(AccountError, match=WRONG):
            login(store, "Alpha", "Ann", wrong)
        assert rater_row(store, ann.id).password_hash == old
    assert login(store, "Alpha", "Ann", PASSWORD) == ann
    upgraded = rater_row(store, ann.id).password_hash
    assert upgraded != old and upgraded.startswith(ARGON2_PREFIX) and verify_password(PASSWORD, upgraded)
    assert login(store, "Alpha", "Ann", PASSWORD) == ann  # and it signs in again, unchanged
    assert rater_row(store, ann.id).password_hash == upgraded
    with pytest.raises(AccountError, match=WRONG):
        login(store, "Alpha", "Ann", "not the password")


def test_a_current_hash_is_not_rewritten_at_sign_in(store, cohort):
    _, _, ann = cohort
    before = rater_row(store, ann.id).password_hash
    assert login(store, "Alpha", "Ann", PASSWORD) == ann
    assert rater_row(store, ann.id).password_hash == before


# -- sessions --------------------------------------------------------------------------


def test_session_round_trip(store, cohort):
    lead, _, ann = cohort
    token = start_session(store, ann.id)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)
    assert resolve_session(store, token) == ann
    other = start_session(store, lead.id)
    assert other != token and resolve_session(store, other) == lead
    end_session(store, token)
    assert resolve_session(store, token) is None
    assert resolve_session(store, other) == lead  # ending one session leaves the others
    end_session(store, token)  # twice is fine


def test_session_expires(store, cohort):
    _, _, ann = cohort
    token = start_session(store, ann.id, days=30, now=T0)
    assert resolve_session(store, token, now=T0 + timedelta(days=29, hours=23)) == ann
    assert resolve_session(store, token, now=T0 + timedelta(days=30)) is None
    fresh = start_session(store, ann.id)
    assert resolve_session(store, fresh) == ann
    with store.engine.begin() as conn:
        conn.execute(sa.update(sessions).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert resolve_session(store, fresh) is None


def test_expired_sessions_are_cleared_when_a_new_one_starts(store, cohort):
    _, _, ann = cohort
    start_session(store, ann.id, days=1, now=T0)
    start_session(store, ann.id, days=1, now=T0 + timedelta(days=2))
    with store.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(sessions)).scalar() == 1


@pytest.mark.parametrize(
    "token",
    [
        "",
        "x",
        "not a token",
        "A" * 43,
        "A" * 100_000,
        "\x00" * 50,
        "é" * 43,
        "\ud800" * 43,
        None,
        42,
        b"bytes",
    ],
)
def test_garbage_tokens_resolve_to_nobody(store, cohort, token):
    _, _, ann = cohort
    start_session(store, ann.id)
    assert resolve_session(store, token) is None
    end_session(store, token)  # no error either


def test_database_holds_only_the_token_hash(store, cohort):
    _, _, ann = cohort
    token = start_session(store, ann.id)
    with store.read() as conn:
        rows = conn.execute(sa.select(sessions)).mappings().all()
    assert len(rows) == 1
    row = rows[0]
    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert all(token not in str(value) for value in row.values())


def test_a_one_time_sign_in_token_becomes_a_session_once(store, cohort):
    _, _, ann = cohort
    once = accounts.start_sign_in_token(store, ann.id)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", once)
    assert resolve_session(store, once) is None  # the one-time token is not a session itself
    token = accounts.redeem_sign_in_token(store, once)
    assert token and token != once and resolve_session(store, token) == ann
    assert accounts.redeem_sign_in_token(store, once) is None  # used up
    assert accounts.redeem_sign_in_token(store, token) is None  # nor is a session token a one-time one
    assert resolve_session(store, token) == ann
    with store.read() as conn:  # only hashes are stored, and the used token's row is gone
        hashes = [r.token_hash for r in conn.execute(sa.select(sessions.c.token_hash))]
    assert hashes == [hashlib.sha256(token.encode()).hexdigest()]


def test_a_one_time_sign_in_token_expires(store, cohort):
    _, _, ann = cohort
    once = accounts.start_sign_in_token(store, ann.id, now=T0)
    assert accounts.redeem_sign_in_token(store, once, now=T0 + timedelta(seconds=120)) is None
    assert accounts.redeem_sign_in_token(store, once, now=T0) is None  # expired tries use it up too
    late = accounts.start_sign_in_token(store, ann.id, seconds=5, now=T0)
    assert (
        resolve_session(store, accounts.redeem_sign_in_token(store, late, now=T0 + timedelta(seconds=4)))
        == ann
    )


def test_racing_redeems_of_one_token_make_one_session(store, cohort):
    _, _, ann = cohort
    once = accounts.start_sign_in_token(store, ann.id)
    got: list[str | None] = []
    threads = [
        threading.Thread(target=lambda: got.append(accounts.redeem_sign_in_token(store, once)))
        for _ in range(6)
    ]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(got) == 6 and len([t for t in got if t]) == 1


@pytest.mark.parametrize("token", ["", "x", "A" * 43, "\x00" * 50, "é" * 43, None, 42, b"bytes"])
def test_garbage_one_time_tokens_sign_in_nobody(store, cohort, token):
    _, _, ann = cohort
    accounts.start_sign_in_token(store, ann.id)
    assert accounts.redeem_sign_in_token(store, token) is None


def test_one_time_tokens_only_for_accounts_that_can_sign_in(store, cohort):
    lead, _, _ = cohort
    ids = add_simulated_raters(store, lead.cohort_id, ["sim-01-steady"])
    with pytest.raises(AccountError, match=re.escape("This account cannot sign in.")):
        accounts.start_sign_in_token(store, ids["sim-01-steady"])
    with pytest.raises(ValueError, match="seconds"):
        accounts.start_sign_in_token(store, lead.id, seconds=0)


def test_sessions_only_for_accounts_that_can_sign_in(store, cohort):
    lead, _, _ = cohort
    ids = add_simulated_raters(store, lead.cohort_id, ["sim-01-steady"])
    with pytest.raises(AccountError, match=re.escape("This account cannot sign in.")):
        start_session(store, ids["sim-01-steady"])
    with pytest.raises(AccountError, match=re.escape("That account does not exist.")):
        start_session(store, 9999)
    with pytest.raises(ValueError, match="days"):
        start_session(store, lead.id, days=0)


# -- simulated raters ------------------------------------------------------------------


def test_simulated_raters_cannot_log_in(store, cohort):
    lead, _, _ = cohort
    names = ["sim-01-steady", "sim-02-overconfident"]
    ids = add_simulated_raters(store, lead.cohort_id, names)
    assert sorted(ids) == names
    for name in names:
        row = rater_row(store, ids[name])
        assert (row.password_hash, bool(row.simulated), row.role) == (None, True, "rater")
        for password in (PASSWORD, "", "None"):
            with pytest.raises(AccountError, match=WRONG):
                login(store, "Alpha", name, password)
    people = list_raters(store, lead.cohort_id).set_index("name")
    assert people.loc[names, "simulated"].tolist() == [True, True]
    assert not people.loc[["Lee", "Ann"], "simulated"].any()


def test_adding_simulated_raters_again_reuses_them(store, cohort):
    lead, _, _ = cohort
    first = add_simulated_raters(store, lead.cohort_id, ["sim-01-steady", "sim-02-novice"])
    again = add_simulated_raters(store, lead.cohort_id, ["sim-02-novice", "sim-03-expert", "sim-03-expert"])
    assert again["sim-02-novice"] == first["sim-02-novice"]
    assert sorted(again) == ["sim-02-novice", "sim-03-expert"]
    assert len(list_raters(store, lead.cohort_id)) == 5
    assert add_simulated_raters(store, lead.cohort_id, []) == {}


def test_simulated_names_must_say_so_and_not_clash_with_people(store, cohort):
    lead, code, _ = cohort
    with pytest.raises(
        AccountError, match=re.escape("Simulated rater names must start with 'sim-'; got 'Ann'.")
    ):
        add_simulated_raters(store, lead.cohort_id, ["Ann"])
    with pytest.raises(AccountError, match="kept for simulated raters"):
        join_cohort(store, code, "SIM-Zed", PASSWORD)
    with pytest.raises(AccountError, match=re.escape("That cohort does not exist.")):
        add_simulated_raters(store, 9999, ["sim-01-steady"])


def test_simulated_raters_of_the_demo_loader_take_imported_judgments(store, cohort):
    """The lead console adds the demo's raters, then imports their judgments into the cohort."""
    lead, _, _ = cohort
    ids = add_simulated_raters(store, lead.cohort_id, ["sim-01-steady"])
    with store.engine.begin() as conn:
        again = store.ensure_raters(conn, lead.cohort_id, ["sim-01-steady"])
    assert again == ids
    frame = list_raters(store, lead.cohort_id)
    assert isinstance(frame, pd.DataFrame) and frame["name"].is_unique
