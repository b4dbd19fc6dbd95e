"""The PandaLM-style case end to end: three real annotators' votes, no confidence, no left column.

The votes become judgments, the majority the gold; the cohort report's agreement must stay
Krippendorff's alpha exactly (the ``krippendorff`` package), and the report must not invent what
the file does not hold (calibration, position bias).
"""

from __future__ import annotations

import json

import krippendorff
import numpy as np
import pytest

from calibration.data import prepare
from calibration.report import build_report, to_json
from pairs.importers import check_judgments_file, read_bank


@pytest.fixture(scope="module")
def pandalm(tmp_path_factory):
    """60 rows, three annotators of different reliability, votes 1/2 and now and then 0 (tie)."""
    rng = np.random.default_rng(7)
    rows = []
    for i in range(60):
        better = int(rng.integers(1, 3))
        votes = {}
        for k, right in ((1, 0.9), (2, 0.75), (3, 0.6)):
            u = rng.random()
            votes[f"annotator{k}"] = 0 if u > 0.95 else (better if u < right else 3 - better)
        rows.append(
            {
                "idx": i,
                "instruction": f"Question {i}: say something useful about topic {i}.",
                "input": "",
                "response1": f"Answer one to {i}, " + "word " * int(rng.integers(3, 40)),
                "response2": f"Answer two to {i}, " + "word " * int(rng.integers(3, 40)),
                **votes,
            }
        )
    path = tmp_path_factory.mktemp("pandalm") / "pandalm.json"
    path.write_text(json.dumps(rows), encoding="utf-8")
    return path


def test_cohort_alpha_of_three_annotators_is_the_packages(pandalm):
    bank = read_bank(pandalm)
    checked = check_judgments_file(pandalm.read_bytes(), pandalm.name)
    assert checked.problems == []
    judgments = checked.rows
    report = build_report(prepare(bank, judgments), n_boot=50)
    cohort = report["cohort"]
    # the reference: pairs with a decided (majority) gold, tie answers left out, as the report does
    decided = set(bank.loc[bank["gold"] != "tie", "id"])
    votes = judgments[judgments["pair_id"].isin(decided) & judgments["choice"].isin(["A", "B"])]
    matrix = votes.pivot(index="rater", columns="pair_id", values="choice").replace({"A": 0.0, "B": 1.0})
    expected = krippendorff.alpha(
        reliability_data=matrix.to_numpy(dtype=float), level_of_measurement="nominal"
    )
    assert cohort["agreement"]["alpha"] == pytest.approx(expected, abs=1e-12)
    assert cohort["agreement"]["n_raters"] == 3
    assert cohort["agreement"]["ci_low"] <= cohort["agreement"]["alpha"] <= cohort["agreement"]["ci_high"]
    # nothing invented: no confidence, so no calibration figures; no left column, so no position line
    for rater in report["raters"]:
        assert rater["calibration"]["brier"] is None
        assert rater["bias"]["position"]["estimable"] is False
    assert cohort["n_raters"] == 3
    to_json(report)  # strict JSON
