"""A store export carries the assessment forms: pairs set aside, the plan, attempts and their answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pairs.bank import STARTER_BANK_NAME
from pairs.errors import InputError
from storage import backup
from storage.store import Store
from training import accounts, assessments, onboarding

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def files_of(directory) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.rglob("*.csv"))}


def test_export_and_import_keep_every_assessment_row(db_url, new_db, tmp_path):
    store = Store(db_url)
    store.ensure_starter_bank()
    lead, invite = accounts.create_cohort(store, "alpha", "lena", "lead-password")
    rater = accounts.join_cohort(store, invite, "ravi", "rater-password")
    onboarding.finish(store, rater.id)
    bank = store.load_bank(STARTER_BANK_NAME)
    assessments.mark_pairs(store, lead, STARTER_BANK_NAME, bank["id"].head(60).tolist())
    assessments.save_plan(store, lead, bank=STARTER_BANK_NAME, retention_after_days=30)
    assessments.load_demo_forms(store, lead, STARTER_BANK_NAME, seed=2, n_raters=4)
    attempt = assessments.open_form(store, rater.id, at=T0)  # an open form, one answer in
    assessments.answer(store, rater.id, "pre", 0, "A", 0.7, at=T0 + timedelta(seconds=9))
    out = tmp_path / "export"
    counts = backup.export_store(store, out)
    assert counts["assessment_pairs"] == 60 and counts["assessment_plans"] == 1
    assert counts["assessment_attempts"] == 4 * 3 + 1
    assert counts["assessment_answers"] == 4 * 3 * 30 + len(attempt.items)

    copy = Store(new_db("sqlite"))
    assert backup.import_store(copy, out) == counts
    again = tmp_path / "again"
    backup.export_store(copy, again)
    assert files_of(again) == files_of(out)  # byte for byte
    resumed = assessments.attempt(copy, rater.id, "pre")
    assert (resumed.deadline, resumed.answered, resumed.closed) == (attempt.deadline, 1, False)
    assert assessments.hidden_pairs(copy, lead.cohort_id, STARTER_BANK_NAME) == set(bank["id"].head(60))
    before = assessments.cohort_assessment(store, lead.cohort_id)["raters"]
    after = assessments.cohort_assessment(copy, lead.cohort_id)["raters"]
    assert before.equals(after)


def test_an_answer_naming_no_attempt_is_refused_with_its_line(db_url, new_db, tmp_path):
    store = Store(db_url)
    store.ensure_starter_bank()
    lead, _ = accounts.create_cohort(store, "alpha", "lena", "lead-password")
    assessments.load_demo_forms(store, lead, STARTER_BANK_NAME, seed=2, n_raters=2)
    out = tmp_path / "export"
    backup.export_store(store, out)
    answers = out / "assessment_answers.csv"
    header, first, *rest = answers.read_text().splitlines()
    cells = first.split(",")
    cells[header.split(",").index("stage")] = "post-x"  # a stage no attempt of that rater has
    answers.write_text("\n".join([header, ",".join(cells), *rest]) + "\n")
    with pytest.raises(InputError, match=r"assessment_answers.csv:2: stage: no post-x attempt"):
        backup.import_store(Store(new_db("sqlite")), out)
