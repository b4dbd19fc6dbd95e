"""The polish difference: it grows with the amount of formatting and no markdown kind dominates it."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pairs.bank import build_bank
from pairs.features import MARKDOWN_COUNTS, bank_text_counts, pair_features, polish_score


def _pairs(rows: list[tuple[str, str]]) -> pd.DataFrame:
    bank = build_bank(
        [
            (i + 1, {"id": f"p{i}", "prompt": "q", "response_a": a, "response_b": b, "gold": "A"})
            for i, (a, b) in enumerate(rows)
        ],
        "mem",
    )
    return pair_features(bank)


def _items(n: int) -> str:
    return "\n".join(f"- item {i}" for i in range(n)) or "plain"


def test_grows_with_the_amount_of_formatting():
    f = _pairs([(_items(1), "plain"), (_items(3), "plain"), (_items(20), "plain"), (_items(4), _items(1))])
    f = f.assign(more=_pairs([(_items(40), _items(10))])["polish_diff"].iloc[0])
    diffs = f["polish_diff"].tolist()
    assert diffs[:3] == pytest.approx([math.log(2) / 2, math.log(4) / 2, math.log(21) / 2])
    assert diffs[0] < diffs[1] < diffs[2]
    # the same 4:1 ratio with ten times the elements is a larger difference (a ratio of counts was not)
    assert f["more"].iloc[0] > diffs[3] + 0.15
    # a second kind of formatting adds to the first
    two = _pairs([(_items(3) + "\n\n**bold** and **more** and **three**", "plain")])["polish_diff"].iloc[0]
    assert two == pytest.approx(math.log(4))


def test_a_long_list_does_not_outweigh_several_kinds():
    varied = "# Title\n\n## Part\n\n**a** **b** **c**\n\n```\ncode\n```\n\nplain text"
    f = _pairs([(_items(10), varied)])
    assert f.loc["p0", "polish_a"] > f.loc["p0", "polish_b"]  # 10 elements against 6
    assert f.loc["p0", "more_polished"] == "B"  # but three kinds beat one
    assert f.loc["p0", "polish_diff"] == pytest.approx(
        0.5 * (math.log(11) - math.log(3) - math.log(4) - math.log(2))
    )


def test_signs_and_symmetry():
    f = _pairs([("**x** and - no", _items(2)), (_items(2), "**x** and - no"), (_items(2), _items(2))])
    assert f.loc["p0", "polish_diff"] == pytest.approx(-f.loc["p1", "polish_diff"])
    assert f.loc["p2", "polish_diff"] == 0 and f.loc["p2", "more_polished"] == ""
    assert (np.sign(f["polish_diff"]) == f["more_polished"].map({"A": 1, "B": -1, "": 0})).all()


def test_polish_score_is_half_the_sum_of_log_counts():
    counts = np.array([[0, 20, 0, 0, 0, 0, 0], [2, 0, 5, 1, 0, 0, 3]])
    expected = [0.5 * math.log(21), 0.5 * (math.log(3) + math.log(6) + math.log(2) + math.log(4))]
    assert polish_score(counts).tolist() == pytest.approx(expected)


def test_stored_counts_give_the_same_difference():
    """The database keeps per-kind counts (migration 0003): the new difference needs no recount."""
    bank = build_bank(
        [(1, {"id": "p", "prompt": "q", "response_a": _items(5), "response_b": "# h\n**b**", "gold": "A"})],
        "mem",
    )
    counts = bank_text_counts(bank)
    features_from_counts = pair_features(bank.assign(prompt="other"), counts=counts)
    assert features_from_counts.loc["p", "polish_diff"] == pytest.approx(
        0.5 * (math.log(6) - math.log(2) - math.log(2))
    )


def _llmbar() -> Path | None:
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "data" / "llmbar"
        if (candidate / "natural.json").exists():
            return candidate
    return None


def test_share_of_each_kind_on_llmbar():
    """The figures in pairs/features.py's docstring: list items' share of the per-kind differences drops."""
    folder = _llmbar()
    if folder is None:
        pytest.skip("../shared/data/llmbar/ is not present")
    from pairs.importers import read_bank

    f = pd.concat([pair_features(read_bank(p)) for p in sorted(folder.glob("*.json"))])
    assert len(f) == 419
    a = f[[f"{c}_a" for c in MARKDOWN_COUNTS]].to_numpy()
    b = f[[f"{c}_b" for c in MARKDOWN_COUNTS]].to_numpy()
    old = np.abs(a - b).sum(axis=0)
    new = np.abs(np.log1p(a) - np.log1p(b)).sum(axis=0)
    old, new = (
        dict(zip(MARKDOWN_COUNTS, old / old.sum(), strict=True)),
        dict(zip(MARKDOWN_COUNTS, new / new.sum(), strict=True)),
    )
    assert old["list_items"] == pytest.approx(0.936, abs=5e-4) and new["list_items"] == pytest.approx(
        0.892, abs=5e-4
    )
    assert new["bold"] == pytest.approx(0.042, abs=5e-4) and new["code_blocks"] == pytest.approx(
        0.029, abs=5e-4
    )
    # the polish difference is the sum of the per-kind log terms
    assert f["polish_diff"].to_numpy() == pytest.approx(0.5 * (np.log1p(a) - np.log1p(b)).sum(axis=1))
    assert int((a != b).any(axis=1).sum()) == 130 and int((a[:, 1] != b[:, 1]).sum()) == 115
