"""No farming: a pair answered before counts once (the first answer), everywhere scores are made.

The break: "Practice more pairs" was unlimited and, once the bank ran out,
repeated pairs whose gold the rater had seen; one rater answered 104 repeats
at 100% and climbed the leaderboard in a minute. Now a repeat is stored with
``judgments.repeat`` set and is left out of every statistic, report and
leaderboard; the drill labels it practice.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from calibration.data import prepare
from calibration.leaderboard import leaderboard
from storage.schema import judgments
from training import accounts, drills
from views.common import TOKEN

ROOT = Path(__file__).resolve().parent.parent
DAY = date(2026, 3, 2)


def tiny_bank(n: int = 6) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [f"p{i}" for i in range(n)],
            "prompt": [f"Question {i}?" for i in range(n)],
            "response_a": [f"Right answer {i}." for i in range(n)],
            "response_b": [f"Wrong answer {i}, at length." for i in range(n)],
            "gold": ["A"] * n,
            "rationale": ["A is right."] * n,
            "tags": [("control",)] * n,
            "domain": ["general"] * n,
            "source": [""] * n,
            "gold_confidence": [float("nan")] * n,
        }
    )


@pytest.fixture
def farmer(app_store):
    """A cohort on a 6-pair bank; rater fay answers her daily drill wrongly at 90%, sure of herself."""
    store = app_store
    lead, invite = accounts.create_cohort(store, "farm", "lena", "lead-password", bank=None)
    store.import_bank("tiny", tiny_bank(), owner_cohort_id=lead.cohort_id, as_server=False)
    accounts.set_drill_settings(store, lead.cohort_id, bank="tiny", drill_size=6)
    fay = accounts.join_cohort(store, invite, "fay", "fay-password")
    daily = drills.get_or_create_drill(store, fay.id, "tiny", DAY, size=6)
    at = datetime(2026, 3, 2, 9, tzinfo=UTC)
    for item in daily.items:
        drills.submit(
            store, fay.id, daily.key, item.position, "B", 0.9, at=at + timedelta(minutes=item.position)
        )
    return store, lead, fay


def board(store) -> pd.DataFrame:
    frame = store.cohort_judgments(cohort="farm", bank="tiny")
    return leaderboard(prepare(store.load_bank("tiny"), frame))


def farm(store, fay, rounds: int) -> list[drills.Feedback]:
    """Practice rounds answered with the gold now known: every answer right and certain."""
    out = []
    for r in range(1, rounds + 1):
        drill = drills.get_or_create_drill(store, fay.id, "tiny", DAY, size=6, kind="practice", round=r)
        for item in drill.items:
            assert item.repeat  # the bank has run out: every pair was seen
            out.append(drills.submit(store, fay.id, drill.key, item.position, "A", 1.0))
    return out


def test_repeating_seen_pairs_does_not_raise_the_score(farmer):
    store, _, fay = farmer
    before = board(store).set_index("rater").loc["fay"]
    feedback = farm(store, fay, rounds=10)  # 60 answers, all right, all certain
    assert all(f is not None and f.repeat and f.correct for f in feedback)
    after = board(store).set_index("rater").loc["fay"]
    assert after["n"] == before["n"] == 6
    assert after["score"] == pytest.approx(before["score"])
    assert after["accuracy"] == before["accuracy"] == 0.0
    # every answer is kept, labelled
    everything = store.export_judgments(bank="tiny")
    assert len(everything) == 66
    with store.read() as conn:
        repeats = conn.execute(
            sa.select(sa.func.count()).select_from(judgments).where(judgments.c.repeat.is_(True))
        ).scalar()
    assert repeats == 60


def test_the_first_answer_is_what_counts_also_for_imports(app_store):
    store = app_store
    store.import_bank("tiny", tiny_bank())
    frame = pd.DataFrame(
        {
            "rater": ["ann", "ann", "ann"],
            "pair_id": ["p0", "p1", "p0"],
            "choice": ["B", "A", "A"],
            "confidence": [0.9, 0.6, 1.0],
            "left": ["A", "A", "B"],
            "answered_at": pd.to_datetime(["2026-01-01", "2026-01-02", "2026-01-03"], utc=True),
            "seconds": [3.0, 4.0, 2.0],
        }
    )
    assert store.import_judgments(frame, bank="tiny", cohort="c")["added"] == 3
    counted = store.cohort_judgments(cohort="c", bank="tiny")
    assert counted[["pair_id", "choice"]].values.tolist() == [["p0", "B"], ["p1", "A"]]
    # a later import of a pair ann has answered is a repeat too
    again = frame.iloc[[1]].assign(answered_at=pd.Timestamp("2026-01-05", tz="UTC"), choice="B")
    store.import_judgments(again, bank="tiny", cohort="c")
    assert len(store.cohort_judgments(cohort="c", bank="tiny")) == 2
    assert len(store.cohort_judgments(cohort="c", bank="tiny", repeats=True)) == 4


def test_the_cohort_page_cache_and_my_report_ignore_repeats(farmer):
    from views.cohort_cache import CohortCache

    store, lead, fay = farmer
    cache = CohortCache(store, "farm", lead.cohort_id, {"tiny": store.load_bank("tiny")})
    cache.refresh()
    first = cache.leaderboard(since=None, today=DAY, k=20, min_n=1).set_index("rater").loc["fay"]
    farm(store, fay, rounds=3)
    cache.refresh()
    after = cache.leaderboard(since=None, today=DAY, k=20, min_n=1).set_index("rater").loc["fay"]
    assert (after["n"], after["score"]) == (first["n"], pytest.approx(first["score"]))


def test_practice_draws_fresh_pairs_before_seen_ones(app_store):
    store = app_store
    lead, invite = accounts.create_cohort(store, "farm", "lena", "lead-password", bank=None)
    store.import_bank("tiny", tiny_bank(12), owner_cohort_id=lead.cohort_id, as_server=False)
    ann = accounts.join_cohort(store, invite, "ann", "ann-password")
    daily = drills.get_or_create_drill(store, ann.id, "tiny", DAY, size=6)
    for item in daily.items:
        drills.submit(store, ann.id, daily.key, item.position, "A", 0.7)
    practice = drills.get_or_create_drill(store, ann.id, "tiny", DAY, size=6, kind="practice", round=1)
    assert not {i.pair_id for i in practice.items} & {i.pair_id for i in daily.items}
    assert not any(i.repeat for i in practice.items)


def test_the_drill_page_labels_a_seen_pair_as_practice_once_answered(farmer):
    """Today's drill on a bank fay finished on 2 March repeats pairs: once answered, the page says the
    answer is practice. Before the answer nothing marks it: a pair shown again with its sides swapped
    is a probe, which must look like any pair."""
    store, _, fay = farmer
    at = AppTest.from_file(str(ROOT / "views" / "drill.py"), default_timeout=90)
    at.session_state[TOKEN] = accounts.start_session(store, fay.id)
    at.run()
    assert not at.exception, at.exception
    assert not any("before" in str(i.value) for i in [*at.info, *at.caption, *at.warning])
    at.button(key="pick_1").click().run()
    at.button(key="confidence_90").click().run()
    [b for b in at.button if b.label == "Submit"][0].click().run()
    assert not at.exception, at.exception
    assert any("not scored" in str(c.value) for c in at.caption)


def test_a_judgments_file_counts_first_answers_too(tmp_path, capsys):
    """``python -m calibration leaderboard`` on a file: appended repeats at 100% change nothing."""
    from calibration.data import first_answers
    from cli.calibration import main as calibration_main

    bank = tiny_bank()
    bank_path = tmp_path / "bank.jsonl"
    bank_path.write_text(bank.to_json(orient="records", lines=True))
    honest = pd.DataFrame(
        {
            "rater": ["fay"] * 6 + ["gus"] * 6,
            "pair_id": [f"p{i}" for i in range(6)] * 2,
            "choice": ["B"] * 6 + ["A", "B"] * 3,
            "confidence": [0.9] * 12,
            "answered_at": pd.date_range("2026-01-01", periods=12, freq="h", tz="UTC"),
        }
    )
    farmed = pd.concat(
        [
            honest,
            honest.iloc[:6].assign(
                choice="A", confidence=1.0, answered_at=pd.Timestamp("2026-02-01", tz="UTC")
            ),
        ]
    )
    assert first_answers(farmed).equals(honest)
    boards = []
    for name, frame in (("honest", honest), ("farmed", farmed)):
        path = tmp_path / f"{name}.csv"
        frame.to_csv(path, index=False)
        assert (
            calibration_main(
                ["leaderboard", "--bank", str(bank_path), "--judgments", str(path), "--min-n", "1"]
            )
            == 0
        )
        boards.append(capsys.readouterr().out)
    assert boards[0] == boards[1]
