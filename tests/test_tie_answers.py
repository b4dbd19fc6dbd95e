"""'About equally good' answers and expert splits, as a rater and a lead meet them in the app."""

from __future__ import annotations

import contextlib
from datetime import date

import pandas as pd
import pytest
import sqlalchemy as sa
from alembic import command

from pairs.bank import STARTER_BANK_NAME
from storage import backup, migrations
from storage import drills as rows
from storage.schema import judgments
from storage.store import Store
from tests.test_app import app_as, text_of
from training import accounts, drills, onboarding

DAY = date(2026, 3, 2)


@pytest.fixture
def env(app_store):
    store = app_store
    lead, invite = accounts.create_cohort(store, "alpha", "lena", "lead-password")
    rater = accounts.join_cohort(store, invite, "ravi", "rater-password")
    onboarding.finish(store, rater.id)  # finished onboarding: these tests are about other pages
    return store, lead, rater


def split_bank(
    store: Store, lead: accounts.Rater, *, gold: str | None = None, share: float = 0.6
) -> pd.DataFrame:
    """The cohort's own bank: the starter's pairs, every one split ``share`` for its gold (or ``gold``)."""
    bank = store.load_bank(STARTER_BANK_NAME).copy()
    if gold is not None:
        bank["gold"] = gold
    bank["gold_confidence"] = share
    store.import_bank("split", bank, owner_cohort_id=lead.cohort_id, as_server=False)
    accounts.set_drill_settings(store, lead.cohort_id, bank="split")
    return bank


def stored_choices(store: Store, rater_id: int) -> list[str]:
    with store.read() as conn:
        return [
            row.choice
            for row in conn.execute(sa.select(judgments.c.choice).where(judgments.c.rater_id == rater_id))
        ]


# -- the drill engine ---------------------------------------------------------------------------


def test_a_tie_answer_is_refused_unless_the_cohort_offers_it(env):
    store, lead, rater = env
    drill = drills.get_or_create_drill(store, rater.id, STARTER_BANK_NAME, DAY, size=3)
    with pytest.raises(ValueError, match="does not offer 'About equally good'"):
        drills.submit(store, rater.id, drill.key, 0, "tie", 0.7)
    assert stored_choices(store, rater.id) == []
    assert accounts.cohort_info(store, lead.cohort_id)["tie_answers"] is False  # off by default

    accounts.set_drill_settings(store, lead.cohort_id, tie_answers=True)
    fb = drills.submit(store, rater.id, drill.key, 0, "tie", 0.7)
    assert stored_choices(store, rater.id) == ["tie"]
    gold = rows.read_pair(store, drill.items[0].bank_id, drill.items[0].pair_id)["gold"]
    assert fb.correct is (gold == "tie")
    assert fb.note is None  # a tie answer fell for no trap of length or polish
    assert drills.feedback_for(store, rater.id, drill.key, 0) == fb
    assert drills.open_drill(store, rater.id, STARTER_BANK_NAME, DAY, size=3).drill.items[0].choice == "tie"
    with pytest.raises(accounts.AccountError, match="tie_answers must be True or False"):
        accounts.set_drill_settings(store, lead.cohort_id, tie_answers="yes")


def test_feedback_on_tie_golds_and_splits():
    pair = {"response_a": "one", "response_b": "two", "gold": "tie", "gold_confidence": 0.6}
    assert drills.feedback(pair, "tie", confidence=1.0).correct is True
    assert drills.feedback(pair, "A", confidence=0.5).correct is None
    decided = {"response_a": "one", "response_b": "two", "gold": "A", "gold_confidence": 0.75}
    fb = drills.feedback(decided, "A", confidence=0.75)
    assert (fb.correct, fb.split, fb.gold_share) == (True, "75/25", 0.75)
    assert fb.points == pytest.approx(1 - 4 * 0.75 * 0.25)  # honest 75% on a 75/25 split
    assert drills.feedback(decided, "tie", confidence=0.9).correct is False
    unanimous = drills.feedback({**decided, "gold_confidence": float("nan")}, "B", confidence=1.0)
    assert (unanimous.split, unanimous.points) == (None, -3.0)


# -- the app ------------------------------------------------------------------------------------


def shown_letters(store, rater) -> list[str]:
    """The drill's first pair's responses as the page names them, in the order it shows them."""
    from datetime import UTC, datetime

    from training import drills

    info = accounts.cohort_info(store, rater.cohort_id)
    drill = drills.get_or_create_drill(
        store, rater.id, info["bank"], datetime.now(UTC).date(), size=info["drill_size"]
    )
    first = drill.items[drill.next_position].left
    return [f"Response {first}", f"Response {'B' if first == 'A' else 'A'}"]


def pick_labels(at) -> list[str]:
    """The labels of the drill's answer buttons, in order."""
    return [b.label for b in at.button if b.key and b.key.startswith("pick_")]


def test_with_the_setting_on_the_drill_offers_three_answers_and_stores_a_tie(env):
    store, lead, rater = env
    at = app_as(store, rater, "views/drill.py")
    assert pick_labels(at) == shown_letters(store, rater)  # off: two

    lead_at = app_as(store, lead, "views/lead.py")
    lead_at.checkbox(key="set_tie_answers").check()
    lead_at.button(key="FormSubmitter:drill_settings-Save").click().run()
    assert not lead_at.exception, lead_at.exception
    assert accounts.cohort_info(store, lead.cohort_id)["tie_answers"] is True

    at = app_as(store, rater, "views/drill.py")
    assert pick_labels(at) == [*shown_letters(store, rater), "About equally good"]
    at.button(key="pick_3").click().run()
    at.button(key="confidence_80").click().run()
    at = [b for b in at.button if b.label == "Submit"][0].click().run()
    assert not at.exception, at.exception
    assert stored_choices(store, rater.id) == ["tie"]
    assert "You said About equally good with 80% confidence" in text_of(at)


def test_the_feedback_on_a_split_pair_says_the_split(env):
    store, lead, rater = env
    split_bank(store, lead, share=0.6)
    at = app_as(store, rater, "views/drill.py")
    at.button(key="pick_1").click().run()
    at.button(key="confidence_60").click().run()
    at = [b for b in at.button if b.label == "Submit"][0].click().run()
    assert not at.exception, at.exception
    shown = text_of(at)
    assert "Experts split 60/40: 60% preferred Response" in shown
    assert "this answer scores" in shown


def test_report_and_leaderboard_pages_work_with_ties_and_splits(env):
    store, lead, rater = env
    split_bank(store, lead, share=0.7)
    accounts.set_drill_settings(store, lead.cohort_id, tie_answers=True)
    drill = drills.get_or_create_drill(store, rater.id, "split", DAY, size=10)
    for item in drill.items:
        drills.submit(
            store, rater.id, drill.key, item.position, "tie" if item.position % 3 == 0 else "A", 0.8
        )
    for page in ("views/report.py", "views/leaderboard.py", "views/lead.py"):
        at = app_as(store, rater if page != "views/lead.py" else lead, page)
        assert not at.exception, (page, at.exception)
    history = drills.rater_history(store, rater.id, "split")
    assert history["tie_answer"].sum() == 4 and history["split"].all()


# -- the database -------------------------------------------------------------------------------


ADDED_LATER = {"tie_answers", "probe", "probe_of", "styled"}
"""Columns 0006 and later add (with defaults): the rows are compared without them."""
TABLES_ADDED_LATER = {"assessment_pairs", "assessment_plans", "assessment_attempts", "assessment_answers"}
"""Tables 0008 adds (empty after the upgrade): compared as absent."""


def _every_row(url: str) -> dict[str, list[tuple]]:
    engine = sa.create_engine(url)
    reflected = sa.MetaData()
    reflected.reflect(engine)
    with engine.connect() as conn:
        out = {
            name: sorted(
                (
                    tuple(str(v) for k, v in row._mapping.items() if k not in ADDED_LATER)
                    for row in conn.execute(sa.select(table))
                ),
            )
            for name, table in reflected.tables.items()
            if name != "alembic_version" and name not in TABLES_ADDED_LATER
        }
    engine.dispose()
    return out


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_a_0005_database_upgrades_keeping_every_row_and_takes_ties(kind, new_db):
    url = new_db(kind)
    first = Store(url)
    first.ensure_starter_bank()
    lead, invite = accounts.create_cohort(first, "alpha", "lena", "lead-password")
    rater = accounts.join_cohort(first, invite, "ravi", "rater-password")
    drill = drills.get_or_create_drill(first, rater.id, STARTER_BANK_NAME, DAY, size=4)
    for item in drill.items[:3]:
        drills.submit(first, rater.id, drill.key, item.position, "AB"[item.position % 2], 0.7)
    # back to the database revision 0005 made (foreign keys off, as for an upgrade: see migrations)
    with first.engine.connect() as raw:
        keys_off = (
            migrations.sqlite_foreign_keys_off(raw) if kind == "sqlite" else contextlib.nullcontext(raw)
        )
        with keys_off as conn, conn.begin():
            command.downgrade(migrations.config(conn), "0005")
    with (
        first.engine.begin() as conn,
        pytest.raises((sa.exc.IntegrityError, sa.exc.DataError)),
    ):  # 'tie' does not fit
        conn.execute(sa.update(judgments).values(choice="tie"))
    first.engine.dispose()
    before = _every_row(url)
    assert len(before["judgments"]) == 3 and len(before["pairs"]) > 0

    store = Store(url)
    with store.engine.connect() as conn:
        assert migrations.current_revision(conn) == migrations.head() >= "0006"  # 0006 and later
    assert _every_row(url) == before
    assert accounts.cohort_info(store, lead.cohort_id)["tie_answers"] is False
    accounts.set_drill_settings(store, lead.cohort_id, tie_answers=True)
    drills.submit(store, rater.id, drill.key, 3, "tie", 0.9)
    assert sorted(stored_choices(store, rater.id)) == ["A", "A", "B", "tie"]
    with store.engine.begin() as conn, pytest.raises(sa.exc.IntegrityError):  # still refuses anything else
        conn.execute(sa.update(judgments).values(choice="X"))


def test_the_store_export_carries_the_setting_and_tie_answers(env, tmp_path, new_db):
    store, lead, rater = env
    accounts.set_drill_settings(store, lead.cohort_id, tie_answers=True)
    drill = drills.get_or_create_drill(store, rater.id, STARTER_BANK_NAME, DAY, size=2)
    drills.submit(store, rater.id, drill.key, 0, "tie", 0.6)
    out = tmp_path / "export"
    backup.export_store(store, out)
    assert "tie_answers" in (out / "cohorts.csv").read_text().splitlines()[0]
    copy = Store(new_db("sqlite"))
    backup.import_store(copy, out)
    assert accounts.cohort_info(copy, 1)["tie_answers"] is True
    assert stored_choices(copy, [r for r in accounts.list_raters(copy, 1)["id"] if r != 1][0]) == ["tie"]

    # a version-2 directory written before the column joined it: read with the setting off
    lines = (out / "cohorts.csv").read_text().splitlines()
    (out / "cohorts.csv").write_text("\n".join(line.rsplit(",", 1)[0] for line in lines) + "\n")
    again = Store(new_db("sqlite"))
    backup.import_store(again, out)
    assert accounts.cohort_info(again, 1)["tie_answers"] is False


# -- the judgments file -------------------------------------------------------------------------


def test_the_judgments_file_takes_tie_answers_as_a_choice_but_not_as_a_side():
    from pairs.errors import InputError
    from pairs.judgments import parse_judgments, to_csv

    text = b"rater,pair_id,choice,confidence,left\nann,p1,tie,0.7,A\nann,p2,Tie,,\nbob,p1,b,0.9,B\n"
    parsed = parse_judgments(text, "j.csv")
    assert parsed["choice"].tolist() == ["tie", "tie", "B"]
    assert "ann,p1,tie,0.7,A" in to_csv(parsed)  # written back as read
    with pytest.raises(InputError, match=r"j.csv:2: left: must be A, B or empty, got 'tie'"):
        parse_judgments(b"rater,pair_id,choice,left\nann,p1,A,tie\n", "j.csv")
    with pytest.raises(InputError, match=r"j.csv:2: choice: must be A, B or tie, got 'equal'"):
        parse_judgments(b"rater,pair_id,choice\nann,p1,equal\n", "j.csv")
