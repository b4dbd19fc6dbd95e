"""A database made before assessment forms (revision 0007) upgrades in place to 0008, keeping every row."""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic import command

from pairs.bank import STARTER_BANK_NAME
from storage import migrations
from storage.store import Store
from training import accounts, assessments, drills, onboarding

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NEW_TABLES = {"assessment_pairs", "assessment_plans", "assessment_attempts", "assessment_answers"}


def _every_row(url: str) -> dict[str, list[tuple]]:
    engine = sa.create_engine(url)
    reflected = sa.MetaData()
    reflected.reflect(engine)
    with engine.connect() as conn:
        out = {
            name: sorted(tuple(str(v) for v in row) for row in conn.execute(sa.select(table)))
            for name, table in reflected.tables.items()
            if name != "alembic_version"
        }
    engine.dispose()
    return out


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_a_0007_database_upgrades_keeping_every_row_and_takes_forms(kind, new_db):
    url = new_db(kind)
    first = Store(url)
    first.ensure_starter_bank()
    lead, invite = accounts.create_cohort(first, "alpha", "lena", "lead-password")
    rater = accounts.join_cohort(first, invite, "ravi", "rater-password")
    onboarding.finish(first, rater.id)
    drill = drills.get_or_create_drill(first, rater.id, STARTER_BANK_NAME, date(2026, 3, 1), size=4)
    for item in drill.items:
        drills.submit(first, rater.id, drill.key, item.position, "A", 0.7)
    # back to the database revision 0007 made (foreign keys off, as for an upgrade: see migrations)
    with first.engine.connect() as raw:
        keys_off = (
            migrations.sqlite_foreign_keys_off(raw) if kind == "sqlite" else contextlib.nullcontext(raw)
        )
        with keys_off as conn, conn.begin():
            command.downgrade(migrations.config(conn), "0007")
    first.engine.dispose()
    before = _every_row(url)
    assert not NEW_TABLES & set(before)
    assert len(before["judgments"]) == 4 and len(before["pairs"]) > 0

    store = Store(url)  # upgrades in place
    with store.engine.connect() as conn:
        assert migrations.current_revision(conn) == migrations.head() >= "0008"
    after = _every_row(url)
    assert {name: rows for name, rows in after.items() if name not in NEW_TABLES} == before
    assert all(after[name] == [] for name in NEW_TABLES)  # every cohort starts without assessments
    bank = store.load_bank(STARTER_BANK_NAME)
    fresh = [p for p in bank.loc[bank["gold"] != "tie", "id"] if p not in {i.pair_id for i in drill.items}]
    assessments.mark_pairs(store, lead, STARTER_BANK_NAME, fresh[:8])
    assessments.save_plan(store, lead, bank=STARTER_BANK_NAME)
    attempt = assessments.open_form(store, rater.id, at=T0)
    assert attempt is not None and len(attempt.items) == 4
    assert assessments.answer(store, rater.id, "pre", 0, "A", 0.9, at=T0 + timedelta(seconds=5))
