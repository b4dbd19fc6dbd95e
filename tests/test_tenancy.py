"""Who may do what: cohorts own their banks, cohort creation is gated, identities cannot be taken over.

Each test reproduces one of the breaks found by trying the app as an attacker
would (a second lead rewriting another cohort's bank, a visitor making
themselves a lead, an import crediting a real person, a look-alike name) and
checks the guarantee that now holds it. Run on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from cli.pairs import main as pairs_main
from pairs.errors import InputError
from storage.schema import invites, judgments, raters
from storage.store import BankRefused, Store
from training import accounts, drills
from views.common import TOKEN

PASSWORD = "lead-password"
ROOT = Path(__file__).resolve().parent.parent


def small_bank(n: int, *, prefix: str = "q", gold: str = "A") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [f"{prefix}{i}" for i in range(n)],
            "prompt": [f"Question {i}?" for i in range(n)],
            "response_a": [f"Answer A to {i}." for i in range(n)],
            "response_b": [f"Answer B to {i}, longer and wordier." for i in range(n)],
            "gold": [gold] * n,
            "rationale": ["A is right."] * n,
            "tags": [("control",)] * n,
            "domain": ["general"] * n,
            "source": [""] * n,
            "gold_confidence": [float("nan")] * n,
        }
    )


@pytest.fixture
def two_cohorts(app_store):
    """Cohort realco (lead rita, admin; rater raj, 5 answers on its own bank) and cohort evilco (lead eve)."""
    store = app_store
    rita, real_invite = accounts.create_cohort(store, "realco", "rita", PASSWORD)
    store.import_bank("realbank", small_bank(6), owner_cohort_id=rita.cohort_id, as_server=False)
    accounts.set_drill_settings(store, rita.cohort_id, bank="realbank")
    raj = accounts.join_cohort(store, real_invite, "raj", "raj-password")
    today = datetime.now(UTC).date()
    drill = drills.get_or_create_drill(store, raj.id, "realbank", today, size=5)
    for item in drill.items:
        drills.submit(store, raj.id, drill.key, item.position, "A" if item.position < 3 else "B", 0.8)
    _, evil_invite = accounts.create_cohort_with_invite(store, "evilco", by=rita)
    eve = accounts.join_cohort(store, evil_invite, "eve", "eve-password")
    return store, rita, raj, eve


def score_of(store: Store, rater: str) -> tuple[int, int]:
    frame = store.cohort_judgments(cohort="realco", bank="realbank", names=[rater])
    bank = store.load_bank("realbank").set_index("id")
    right = int((frame["choice"].to_numpy() == bank.loc[frame["pair_id"], "gold"].to_numpy()).sum())
    return right, len(frame)


# -- tenancy ---------------------------------------------------------------------------------


def test_a_second_lead_cannot_see_or_change_the_first_cohorts_bank(two_cohorts):
    store, rita, raj, eve = two_cohorts
    assert eve.is_lead and not eve.admin
    assert score_of(store, "raj") == (3, 5)
    assert "realbank" not in store.bank_names(cohort_id=eve.cohort_id)
    assert "realbank" in store.bank_names(cohort_id=rita.cohort_id)
    flipped = small_bank(6, gold="B")
    flipped.loc[0, "prompt"] = "Injected prompt"
    with pytest.raises(BankRefused) as refused:
        store.import_bank("realbank", flipped, owner_cohort_id=eve.cohort_id, as_server=False)
    assert refused.value.reason == "not-yours"
    with pytest.raises(BankRefused) as refused:  # the shared starter bank is nobody's to rewrite
        store.import_bank("starter", flipped, owner_cohort_id=eve.cohort_id, as_server=False)
    assert refused.value.reason == "read-only"
    assert store.load_bank("realbank")["gold"].tolist() == ["A"] * 6
    assert score_of(store, "raj") == (3, 5)  # nobody was re-scored
    with pytest.raises(accounts.AccountError, match="no pair bank named 'realbank'"):
        accounts.set_drill_settings(store, eve.cohort_id, bank="realbank")


def test_the_second_leads_pages_show_no_trace_of_the_first_cohorts_bank(two_cohorts):
    store, _, _, eve = two_cohorts
    for page in ("views/bank.py", "views/lead.py"):
        at = AppTest.from_file(str(ROOT / page), default_timeout=90)
        at.session_state[TOKEN] = accounts.start_session(store, eve.id)
        at.run()
        assert not at.exception, at.exception
        options = {str(o) for box in at.selectbox for o in box.options}
        assert "realbank" not in options and "starter" in options, page
        shown = " ".join(str(m.value) for m in [*at.markdown, *at.caption, *at.code])
        assert "realbank" not in shown and "realco" not in shown, page


def test_the_lead_console_refuses_an_import_into_another_cohorts_bank(two_cohorts, tmp_path):
    store, _, _, eve = two_cohorts
    flipped = small_bank(6, gold="B")
    path = tmp_path / "realbank.jsonl"
    path.write_text(flipped.to_json(orient="records", lines=True))
    at = AppTest.from_file(str(ROOT / "views" / "lead.py"), default_timeout=90)
    at.session_state[TOKEN] = accounts.start_session(store, eve.id)
    at.run()
    assert not at.exception
    # AppTest has no file upload: the console's import path is the store call it makes, checked above;
    # here the console offers only banks the cohort may use, and the default copy name is its own.
    assert at.text_input(key="copy_bank_name").value == "evilco-starter"


def test_an_import_never_re_scores_answered_pairs(two_cohorts):
    store, rita, _, _ = two_cohorts
    answered = set(store.export_judgments(bank="realbank")["pair_id"])
    unanswered = sorted(set(small_bank(6)["id"]) - answered)
    flipped = small_bank(6, gold="B")
    with pytest.raises(InputError) as error:
        store.import_bank("realbank", flipped, owner_cohort_id=rita.cohort_id, as_server=False)
    assert {p.message.split("'")[1] for p in error.value.problems} == answered
    assert store.load_bank("realbank")["gold"].tolist() == ["A"] * 6  # all or nothing
    # an unanswered pair's gold may change, and an answered pair's reason too
    fixed = small_bank(6)
    fixed.loc[fixed["id"] == unanswered[0], "gold"] = "B"
    fixed.loc[fixed["id"] == sorted(answered)[0], "rationale"] = "A states the fact; B pads."
    counts = store.import_bank("realbank", fixed, owner_cohort_id=rita.cohort_id, as_server=False)
    assert counts == {"added": 0, "updated": 2, "unchanged": 4}


def test_a_lead_gets_an_editable_copy_of_the_read_only_starter_bank(two_cohorts):
    store, _, _, eve = two_cohorts
    assert store.bank_info("starter")["read_only"]
    copied = store.copy_bank("starter", "evil-starter", owner_cohort_id=eve.cohort_id)
    assert copied == len(store.load_bank("starter"))
    assert store.bank_info("evil-starter") | {"id": 0} == {
        "id": 0,
        "name": "evil-starter",
        "owner_cohort_id": eve.cohort_id,
        "read_only": False,
    }
    edited = store.load_bank("evil-starter").head(2).assign(rationale="Edited.")
    counts = store.import_bank("evil-starter", edited, owner_cohort_id=eve.cohort_id, as_server=False)
    assert counts["updated"] == 2
    assert store.load_bank("starter")["rationale"].iloc[0] != "Edited."
    with pytest.raises(BankRefused):
        store.copy_bank("starter", "evil-starter", owner_cohort_id=eve.cohort_id)


# -- gated cohort creation ----------------------------------------------------------------------


def test_only_the_first_account_or_the_admin_creates_cohorts(two_cohorts):
    store, rita, raj, eve = two_cohorts
    assert rita.admin
    with pytest.raises(accounts.AccountError, match="Only the server's admin"):
        accounts.create_cohort(store, "mallory-co", "mallory", PASSWORD)  # a visitor
    for who in (raj, eve):  # a rater, a lead who is not the admin
        with pytest.raises(accounts.AccountError, match="Only the server's admin"):
            accounts.create_cohort(store, "mallory-co", "mallory", PASSWORD, by=who)
        with pytest.raises(accounts.AccountError, match="Only the server's admin"):
            accounts.create_cohort_with_invite(store, "mallory-co", by=who)
        with pytest.raises(accounts.AccountError, match="Only the server's admin"):
            accounts.lead_invite(store, rita.cohort_id, by=who)
    forged = accounts.Rater(**{**eve.__dict__, "admin": True})  # the flag is read from the database
    with pytest.raises(accounts.AccountError, match="Only the server's admin"):
        accounts.create_cohort(store, "mallory-co", "mallory", PASSWORD, by=forged)
    lead, _ = accounts.create_cohort(store, "newco", "nina", PASSWORD, by=rita)
    assert lead.is_lead and not lead.admin


def test_a_cohort_of_its_own_bank_cannot_be_created_on_another_cohorts_bank(two_cohorts):
    store, rita, _, _ = two_cohorts
    with pytest.raises(accounts.AccountError, match="no pair bank named 'realbank'"):
        accounts.create_cohort_with_invite(store, "other", bank="realbank", by=rita)


def test_the_cli_creates_a_cohort_and_a_one_time_lead_invite(two_cohorts, capsys):
    store = two_cohorts[0]
    assert pairs_main(["cohort", "create", "clico", "--db", store.url]) == 0
    out = capsys.readouterr().out
    invite = out.strip().rsplit(" ", 1)[-1]
    lead = accounts.join_cohort(store, invite, "cleo", "cleo-password")
    assert (lead.cohort, lead.role) == ("clico", "lead")
    with pytest.raises(accounts.AccountError, match="invite code is not valid"):
        accounts.join_cohort(store, invite, "carl", "carl-password")
    with store.read() as conn:  # only the invite's hash is kept
        assert invite not in str(conn.execute(sa.select(invites)).all())
    assert pairs_main(["cohort", "create", "clico", "--db", store.url]) == 1
    assert "already exists" in capsys.readouterr().err
    assert pairs_main(["cohort", "invite-lead", "clico", "--db", store.url]) == 0
    second = capsys.readouterr().out.strip().rsplit(" ", 1)[-1]
    assert accounts.join_cohort(store, second, "cody", "cody-password").role == "lead"
    assert pairs_main(["cohort", "invite-lead", "nowhere", "--db", store.url]) == 1


def test_an_expired_lead_invite_admits_nobody(two_cohorts):
    store, rita, _, _ = two_cohorts
    invite = accounts.lead_invite(store, rita.cohort_id, by=rita, days=0)
    with pytest.raises(accounts.AccountError, match="invite code is not valid"):
        accounts.join_cohort(store, invite, "late", "late-password")


def test_first_run_creation_is_one_admin_even_when_two_race(app_store):
    import threading

    results: list[object] = []

    def create(i: int) -> None:
        try:
            results.append(accounts.create_cohort(app_store, f"c{i}", f"lead{i}", PASSWORD)[0])
        except accounts.AccountError as exc:
            results.append(exc)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    made = [r for r in results if isinstance(r, accounts.Rater)]
    assert len(made) == 1 and made[0].admin
    with app_store.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(raters)).scalar() == 1


# -- invite codes and removing raters -----------------------------------------------------------


def test_a_rotated_invite_code_stops_working(two_cohorts):
    store, rita, _, _ = two_cohorts
    old = accounts.cohort_info(store, rita.cohort_id)["invite_code"]
    new = accounts.rotate_invite(store, rita)
    assert new != old
    with pytest.raises(accounts.AccountError, match="invite code is not valid"):
        accounts.join_cohort(store, old, "olga", "olga-password")
    assert accounts.join_cohort(store, new, "nell", "nell-password").cohort == "realco"


def test_a_removed_rater_cannot_sign_in_and_their_judgments_stay(two_cohorts):
    store, rita, raj, eve = two_cohorts
    token = accounts.start_session(store, raj.id)
    with pytest.raises(accounts.AccountError):
        accounts.remove_rater(store, eve, raj.id)  # another cohort's lead
    assert accounts.remove_rater(store, rita, raj.id) == "raj"
    assert accounts.resolve_session(store, token) is None
    with pytest.raises(accounts.AccountError):
        accounts.login(store, "realco", "raj", "raj-password")
    assert len(store.export_judgments(bank="realbank")) == 5
    people = accounts.list_raters(store, rita.cohort_id).set_index("name")
    assert pd.notna(people.loc["raj", "removed_at"])
    with pytest.raises(accounts.AccountError):
        accounts.remove_rater(store, rita, rita.id)  # not the lead


# -- identity ------------------------------------------------------------------------------------


def test_an_import_racing_a_join_never_credits_the_new_account(two_cohorts, monkeypatch):
    """The import checks for accounts, a join commits, the import inserts: it must refuse, not credit."""
    store, rita, _, _ = two_cohorts
    invite = accounts.cohort_info(store, rita.cohort_id)["invite_code"]
    checked = Store.people

    def check_then_someone_joins(self, conn, cohort_id):
        found = checked(self, conn, cohort_id)  # what the import saw: no account "nadia"
        if conn.dialect.name == "sqlite":  # one writer at a time: let the join commit first
            pytest.skip("SQLite runs the import and the join one after the other")
        accounts.join_cohort(store, invite, "nadia", "nadia-password")
        return found

    frame = pd.DataFrame(
        {
            "rater": ["nadia"] * 3,
            "pair_id": ["q0", "q1", "q2"],
            "choice": ["A", "A", "A"],
            "confidence": [0.9, 0.9, 0.9],
            "left": ["A", "B", "A"],
            "answered_at": pd.to_datetime(["2026-01-01", "2026-01-02", "2026-01-03"], utc=True),
            "seconds": [5.0, 5.0, 5.0],
        }
    )
    monkeypatch.setattr(Store, "people", check_then_someone_joins)
    with pytest.raises(InputError, match="person's account"):
        store.import_judgments(frame, bank="realbank", cohort="realco")
    nadia = accounts.login(store, "realco", "nadia", "nadia-password")
    with store.read() as conn:
        credited = conn.execute(
            sa.select(sa.func.count()).select_from(judgments).where(judgments.c.rater_id == nadia.id)
        ).scalar()
    assert credited == 0


def test_imported_raters_are_a_kind_apart_and_cannot_be_joined_as(two_cohorts):
    store, rita, _, _ = two_cohorts
    frame = pd.DataFrame(
        {"rater": ["ivan"], "pair_id": ["q0"], "choice": ["A"], "confidence": [0.7], "left": ["A"]}
    )
    store.import_judgments(frame, bank="realbank", cohort="realco")
    people = accounts.list_raters(store, rita.cohort_id).set_index("name")
    assert people.loc["ivan", "kind"] == "imported" and people.loc["raj", "kind"] == "account"
    invite = accounts.cohort_info(store, rita.cohort_id)["invite_code"]
    with pytest.raises(accounts.AccountError, match="already taken"):
        accounts.join_cohort(store, invite, "ivan", "ivan-password")
    with pytest.raises(accounts.AccountError):
        accounts.login(store, "realco", "ivan", "")


@pytest.mark.parametrize("lookalike", ["r\u0430j", "RAJ", "r\u0430j\u200b", "ｒａｊ"])
def test_look_alike_names_are_refused_within_a_cohort(two_cohorts, lookalike):
    store, rita, _, _ = two_cohorts
    invite = accounts.cohort_info(store, rita.cohort_id)["invite_code"]
    with pytest.raises(accounts.AccountError):
        accounts.join_cohort(store, invite, lookalike, "mimic-password")
    frame = pd.DataFrame(
        {"rater": [lookalike], "pair_id": ["q0"], "choice": ["A"], "confidence": [0.7], "left": ["A"]}
    )
    if "\u200b" not in lookalike and lookalike.isascii():  # upper case: same skeleton, another name
        with pytest.raises(InputError, match="looks like 'raj'"):
            store.import_judgments(frame, bank="realbank", cohort="realco")
    with store.read() as conn:
        names = set(conn.execute(sa.select(raters.c.name)).scalars())
    assert lookalike not in names


def test_the_same_name_in_another_cohort_is_fine(two_cohorts):
    store, _, _, eve = two_cohorts
    invite = accounts.cohort_info(store, eve.cohort_id)["invite_code"]
    assert accounts.join_cohort(store, invite, "raj", "raj2-password").cohort == "evilco"


def test_lead_invites_expire_after_a_week(two_cohorts):
    store, rita, _, _ = two_cohorts
    accounts.lead_invite(store, rita.cohort_id, by=rita)
    with store.read() as conn:
        row = conn.execute(sa.select(invites).order_by(invites.c.created_at.desc())).first()
    assert row.expires_at - row.created_at == pytest.approx(timedelta(days=7), abs=timedelta(seconds=5))


def test_account_names_are_stored_in_one_form_and_found_in_any(two_cohorts):
    store, rita, _, _ = two_cohorts
    invite = accounts.cohort_info(store, rita.cohort_id)["invite_code"]
    wide = accounts.join_cohort(store, invite, "  ｗｉｌｌ\t Wong ", "will-password")
    assert wide.name == "will Wong"
    assert accounts.login(store, "realco", "ｗｉｌｌ Wong", "will-password").id == wide.id
    for bad in ("will\u200b", "\x1b[31mwill", "wi\nll"):
        with pytest.raises(accounts.AccountError, match="must"):
            accounts.join_cohort(store, invite, bad, "will-password")


def test_a_removed_rater_is_labelled_on_the_leaderboard(two_cohorts):
    store, rita, raj, _ = two_cohorts
    accounts.remove_rater(store, rita, raj.id)
    at = AppTest.from_file(str(ROOT / "views" / "leaderboard.py"), default_timeout=90)
    at.session_state[TOKEN] = accounts.start_session(store, rita.id)
    at.session_state["board_window"] = "All time"
    at.run()
    assert not at.exception, at.exception
    assert "raj (removed)" in at.dataframe[0].value["rater"].tolist()


def test_on_a_fresh_database_the_cli_keeps_the_starter_name_and_creates_a_cohort_on_it(tmp_path, capsys):
    """A server started from the command line: the name "starter" is kept for the shipped,
    read-only bank (an import cannot take it first), and `cohort create` finds that bank."""
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    bank = tmp_path / "mine.jsonl"
    bank.write_text(small_bank(3).to_json(orient="records", lines=True))
    assert pairs_main(["import", str(bank), "--bank", "starter", "--db", url]) == 1
    assert "read-only" in capsys.readouterr().err
    assert pairs_main(["cohort", "create", "clico", "--db", url]) == 0
    assert "created on bank 'starter'" in capsys.readouterr().out
    store = Store(url)
    assert store.bank_info("starter")["read_only"] and len(store.load_bank("starter")) >= 400
