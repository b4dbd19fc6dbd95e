"""Access, tested by driving the app as a rater who tries to get where they don't belong.

Each test signs in as an ordinary rater (a real session token, as the browser
would hold) and then sends what a curious or hostile rater could send: another
page's URL, query parameters naming someone else, widget values of the lead
console, a forged "reveal" state for a pair not yet answered. Every refusal is
checked on what the server drew, not on what the menu offers.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from pairs.markdown import markdown_to_html
from storage.store import Store
from training import accounts, drills, onboarding
from views.common import REVEAL, TOKEN

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")


@pytest.fixture
def env(app_store):
    """Cohort alpha (lead lena, raters ravi and rosa with judgments) and cohort beta (lead bo)."""
    store = app_store
    lead, invite = accounts.create_cohort(store, "alpha", "lena", "lead-password")
    ravi = accounts.join_cohort(store, invite, "ravi", "ravi-password")
    rosa = accounts.join_cohort(store, invite, "rosa", "rosa-password")
    onboarding.finish(store, ravi.id)  # finished onboarding: these tests are about other pages
    onboarding.finish(store, rosa.id)  # finished onboarding: these tests are about other pages
    accounts.create_cohort(store, "beta", "bo", "beta-password", by=lead)
    today = datetime.now(UTC).date()
    for who in (ravi, rosa):
        drill = drills.get_or_create_drill(store, who.id, "starter", today, size=10)
        for item in drill.items[:6]:
            drills.submit(store, who.id, drill.key, item.position, choice="A", confidence=0.8)
    return store, lead, ravi, rosa


def run_as(store: Store, user: accounts.Rater, script: str, *, query=None, state=None) -> AppTest:
    """Run one page script as ``user``, with the query parameters and session state given."""
    at = AppTest.from_file(str(ROOT / script), default_timeout=90)
    at.session_state[TOKEN] = accounts.start_session(store, user.id)
    for key, value in (state or {}).items():
        at.session_state[key] = value
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    assert not at.exception
    return at


def everything_drawn(at: AppTest) -> str:
    """All text the server sent: markdown, alerts, titles, widget labels and options, table cells,
    and the text of HTML blocks (pair text and rationales, as :func:`shown` renders them)."""
    parts: list[str] = []
    parts += [_visible(str(h.value)) for h in at.html]
    kinds = ("markdown", "caption", "title", "header", "subheader", "success", "error", "warning", "info")
    for kind in kinds:
        parts += [str(e.value) for e in getattr(at, kind)]
    parts += [str(m.label) + str(m.value) for m in at.metric]
    for widget in ("selectbox", "multiselect", "radio"):
        for w in getattr(at, widget):
            parts.append(str(w.label))
            parts += [str(o) for o in getattr(w, "options", [])]
    for frame in at.dataframe:
        parts.append(frame.value.to_csv())
    parts += [str(t.label) for t in at.tabs] + [str(e.label) for e in at.expander]
    return "\n".join(parts)


def _visible(body: str) -> str:
    return html.unescape(re.sub(r"<style>.*?</style>|<[^>]*>", "", body, flags=re.DOTALL))


def shown(markdown: str) -> str:
    """The text a reader sees of ``markdown`` (a rationale) on a page."""
    return _visible(markdown_to_html(markdown))


def test_a_rater_sees_only_their_own_report_whatever_the_url_says(env):
    store, _, ravi, _ = env
    for query in ({}, {"rater": "rosa"}, {"name": "rosa", "cohort": "alpha"}):
        at = run_as(store, ravi, "views/report.py", query=query)
        drawn = everything_drawn(at)
        assert "rosa" not in drawn
        assert "ravi" in drawn or "6 judgments" in drawn or at.metric  # their own report was drawn


def test_a_rater_sending_the_lead_consoles_widget_state_gets_nothing(env):
    store, _, ravi, _ = env
    state = {"lead_rater": "rosa", "set_size": 50, "bank_new_name": "mine", "bank_stats_name": "starter"}
    at = run_as(store, ravi, "views/lead.py", state=state)
    assert any("for cohort leads only" in e.value for e in at.error)
    drawn = everything_drawn(at)
    assert "rosa" not in drawn and not at.tabs and not at.dataframe
    info = accounts.cohort_info(store, ravi.cohort_id)
    assert info["drill_size"] == 10  # the settings form never ran
    assert accounts.list_raters(store, ravi.cohort_id)["name"].str.startswith("sim-").sum() == 0


def test_a_rater_cannot_open_the_bank_and_its_gold(env):
    store, _, ravi, _ = env
    bank = store.load_bank("starter")
    at = run_as(store, ravi, "views/bank.py", state={"bank_name": "starter", "bank_pair": "x"})
    assert any("for cohort leads only" in e.value for e in at.error)
    drawn = everything_drawn(at)
    assert not any(shown(r)[:60] in drawn for r in bank["rationale"] if r)


def test_a_forged_reveal_shows_no_gold_before_answering(env):
    """Session state claims the rater is looking at the feedback of a pair they have not answered."""
    store, _, ravi, _ = env
    today = datetime.now(UTC).date()
    drill = drills.get_or_create_drill(store, ravi.id, "starter", today, size=10)
    bank = store.load_bank("starter").set_index("id")
    unanswered = [item for item in drill.items if item.choice is None]
    assert len(unanswered) == 4
    for item in unanswered:
        at = run_as(store, ravi, "views/drill.py", state={REVEAL: (drill.key, item.position)})
        drawn = everything_drawn(at)
        rationale = shown(bank.loc[item.pair_id, "rationale"])
        assert "Why:" not in drawn and rationale[:60] not in drawn
        assert "The expert preferred" not in drawn and "You agreed with the expert" not in drawn
        assert f"Pair {unanswered[0].position + 1} of 10" in drawn  # the drill goes on where it was


def test_a_rater_cannot_read_another_drill_by_naming_its_key(env):
    """A reveal naming someone else's drill key shows nothing of theirs (drills are per rater)."""
    store, _, ravi, rosa = env
    today = datetime.now(UTC).date()
    rosas = drills.get_or_create_drill(store, rosa.id, "starter", today, size=10)
    bank = store.load_bank("starter").set_index("id")
    theirs = {shown(bank.loc[i.pair_id, "rationale"])[:60] for i in rosas.items[:6]}
    mine = drills.get_or_create_drill(store, ravi.id, "starter", today, size=10)
    mine_answered = {shown(bank.loc[i.pair_id, "rationale"])[:60] for i in mine.items[:6]}
    for position in range(6):
        at = run_as(store, ravi, "views/drill.py", state={REVEAL: (rosas.key, position)})
        drawn = everything_drawn(at)
        assert not any(r in drawn for r in theirs - mine_answered)


def test_the_leaderboard_shows_names_and_scores_but_no_detailed_report(env):
    store, _, ravi, _ = env
    at = run_as(store, ravi, "views/leaderboard.py", query={"rater": "rosa"})
    drawn = everything_drawn(at)
    assert "Why:" not in drawn
    for word in ("length odds ratio", "Reliability", "Download"):
        assert word not in drawn


def test_a_lead_sees_only_their_own_cohort(env):
    store = env[0]
    bo = accounts.login(store, "beta", "bo", "beta-password")
    assert not bo.admin  # the admin (lena, the database's first account) sees every cohort's name
    at = run_as(store, bo, "views/lead.py", state={"lead_rater": "ravi"})
    drawn = everything_drawn(at)
    assert "ravi" not in {o for s in at.selectbox for o in s.options}
    assert "alpha" not in drawn and "ravi" not in drawn and "Server admin" not in [t.label for t in at.tabs]


def test_an_invite_code_joins_its_own_cohort_through_the_form(env):
    store, _, _, _ = env
    beta_code = accounts.cohort_info(store, accounts.login(store, "beta", "bo", "beta-password").cohort_id)[
        "invite_code"
    ]
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    at.text_input(key="join_code").input(beta_code)
    at.text_input(key="join_name").input("nadia")
    at.text_input(key="join_password").input("nadia-password")
    at.text_input(key="join_password2").input("nadia-password")
    at.button[1].click().run()  # the Join form's submit button
    assert not at.exception
    nadia = accounts.login(store, "beta", "nadia", "nadia-password")
    assert nadia.cohort == "beta"
    with pytest.raises(accounts.AccountError):
        accounts.login(store, "alpha", "nadia", "nadia-password")


def test_no_password_or_hash_in_logs_pages_or_exports(env, caplog):
    """Everything is logged at DEBUG (SQLAlchemy's statements included) while people join, fail
    to sign in, get locked out and sign in; then every page and every export is searched."""
    import logging

    import sqlalchemy as sa

    from calibration.data import prepare
    from calibration.leaderboard import leaderboard
    from calibration.report import build_report, to_html, to_json, to_markdown
    from pairs.judgments import to_csv
    from storage.store import raters

    store, lead, ravi, rosa = env
    caplog.set_level(logging.DEBUG)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.DEBUG)
    try:
        for _ in range(6):
            with pytest.raises(accounts.AccountError):
                accounts.login(store, "alpha", "ravi", "ravi-wrong-password")
        with pytest.raises(accounts.AccountError):  # locked out, even with the right password
            accounts.login(store, "alpha", "ravi", "ravi-password")
        accounts.login(store, "alpha", "rosa", "rosa-password")
        invite = accounts.cohort_info(store, lead.cohort_id)["invite_code"]
        with pytest.raises(accounts.AccountError):  # the name is taken
            accounts.join_cohort(store, invite, "rosa", "another-password")
        clash = {"cohort_id": lead.cohort_id, "name": "rosa", "role": "rater", "password_hash": "scrypt$leak",
                 "failed_logins": 0, "simulated": False, "created_at": datetime.now(UTC)}  # fmt: skip
        with pytest.raises(sa.exc.IntegrityError) as raw:  # two joins racing: the error names no hash
            store.write(lambda c: c.execute(sa.insert(raters), [clash]))
    finally:
        logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    with store.read() as conn:
        hashes = [h for h in conn.execute(sa.select(raters.c.password_hash)).scalars() if h]
    secrets = ["ravi-password", "rosa-password", "lead-password", "ravi-wrong-password", "another-password"]
    secrets += hashes + [h.split("$")[-1] for h in hashes] + ["scrypt$"]
    assert len(caplog.records) > 20  # the statements were logged, without their parameters

    outputs = {"log": caplog.text, "error": str(raw.value)}
    visits = [(lead, "views/lead.py"), (lead, "views/bank.py"), (ravi, "views/drill.py")]
    visits += [(rosa, "views/report.py"), (rosa, "views/leaderboard.py")]
    for who, page in visits:
        outputs[page] = everything_drawn(run_as(store, who, page))
    prepared = prepare(store.load_bank("starter"), store.export_judgments(cohort="alpha"))
    report = build_report(prepared, n_boot=50)
    outputs |= {
        "html": to_html(report),
        "json": to_json(report),
        "markdown": to_markdown(report),
        "csv": to_csv(prepared),
        "leaderboard": leaderboard(prepared).to_csv(),
        "raters": accounts.list_raters(store, lead.cohort_id).to_csv(),
    }
    for where, text in outputs.items():
        for secret in secrets:
            assert secret not in text, f"{secret!r} in {where}"
