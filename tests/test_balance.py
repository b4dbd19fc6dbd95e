"""Bank statistics and the starter-bank balance requirements."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from pairs.balance import LENGTH_RATIO, MIN_TRAPS, TRAP_KINDS, balance_problems, bank_stats
from pairs.importers import read_bank

LONG = "one two three four five six"  # 6 words
SHORT = "one two three"  # 3 words: LONG is exactly 2x
ALMOST = "one two three four"  # 4 words: LONG is 1.5x ALMOST
CLOSE = "one two three four five"  # 5 words: LONG is 1.2x, not a clear length difference
FANCY = "# Heading\n- **one** two"  # polish 3 (header, list item, bold), 4 words


def _bank(rows: list[tuple[str, str, str, tuple[str, ...], str]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [f"p{i}" for i in range(len(rows))],
            "prompt": ["q"] * len(rows),
            "response_a": [r[0] for r in rows],
            "response_b": [r[1] for r in rows],
            "gold": [r[2] for r in rows],
            "tags": [r[3] for r in rows],
            "domain": [r[4] for r in rows],
        }
    )


def test_counts_by_gold_tag_and_domain():
    bank = _bank(
        [
            (LONG, SHORT, "A", ("length",), "coding"),
            (SHORT, LONG, "B", ("length", "polish"), "coding"),
            (LONG, LONG + " x", "tie", ("sycophancy",), ""),
        ]
    )
    stats = bank_stats(bank)
    assert stats["pairs"] == 3
    assert stats["gold"] == {"A": 1, "B": 1, "tie": 1}
    assert stats["tags"] == {"length": 2, "polish": 1, "sycophancy": 1}
    assert stats["domains"] == {"coding": 2, "": 1}
    assert stats["traps"] == {"length": 2, "polish": 1, "constraint": 0, "factual": 0, "control": 0}


def test_shorter_gold_counts_only_decided_pairs_with_a_clear_length_difference():
    bank = _bank(
        [
            (LONG, SHORT, "B", (), ""),  # 2x, shorter is gold
            (SHORT, LONG, "A", (), ""),  # 2x, shorter is gold
            (LONG, ALMOST, "B", (), ""),  # exactly 1.5x counts, shorter is gold
            (LONG, SHORT, "A", (), ""),  # 2x, longer is gold
            (LONG, CLOSE, "B", (), ""),  # 1.2x: not counted
            (LONG, SHORT, "tie", (), ""),  # tie: not counted
        ]
    )
    assert LENGTH_RATIO == 1.5
    assert bank_stats(bank)["shorter_gold"] == {"n": 4, "count": 3, "share": 0.75}


def test_plainer_gold_counts_only_decided_pairs_whose_polish_differs():
    bank = _bank(
        [
            (FANCY, ALMOST, "B", (), ""),  # plainer is gold
            (FANCY, ALMOST, "A", (), ""),  # more polished is gold
            (ALMOST, FANCY, "A", (), ""),  # plainer is gold
            (ALMOST, SHORT, "A", (), ""),  # same polish: not counted
            (FANCY, ALMOST, "tie", (), ""),  # tie: not counted
        ]
    )
    assert bank_stats(bank)["plainer_gold"] == {"n": 3, "count": 2, "share": pytest.approx(2 / 3)}


def test_a_bank_where_gold_is_always_the_shorter_fails_and_a_mixed_one_passes():
    traps = tuple(TRAP_KINDS)
    always_short = _bank([(SHORT, LONG, "A", traps, "math")] * 1 + [(LONG, SHORT, "B", traps, "math")] * 9)
    always_short["id"] = [f"s{i}" for i in range(10)]
    problems = balance_problems(bank_stats(always_short), min_traps=1)
    assert problems == [
        "the shorter response is gold in 100.0% of 10 pairs with a clear length difference; required 40-60%",
        "the plainer response is gold: cannot be measured, no pairs with different polish; required 40-60%",
    ]
    mixed = _bank(
        [(SHORT, LONG, "A", traps, "")] * 5
        + [(LONG, SHORT, "A", traps, "")] * 5
        + [(FANCY, SHORT, "B", traps, "")] * 1
        + [(FANCY, SHORT, "A", traps, "")] * 1
    )
    mixed["id"] = [f"m{i}" for i in range(len(mixed))]
    stats = bank_stats(mixed)
    assert stats["shorter_gold"]["share"] == 0.5
    assert balance_problems(stats, min_traps=12) == []


def _stats(shorter: float, plainer: float, traps: int) -> dict:
    return {
        "shorter_gold": {"n": 100, "count": round(shorter * 100), "share": shorter},
        "plainer_gold": {"n": 100, "count": round(plainer * 100), "share": plainer},
        "traps": dict.fromkeys(TRAP_KINDS, traps),
    }


@pytest.mark.parametrize("share", [0.40, 0.5, 0.60])
def test_shares_on_the_bounds_pass(share):
    assert balance_problems(_stats(share, share, MIN_TRAPS)) == []


@pytest.mark.parametrize("share", [0.39, 0.61])
def test_shares_outside_the_bounds_fail(share):
    problems = balance_problems(_stats(share, 0.5, MIN_TRAPS))
    assert len(problems) == 1 and problems[0].startswith("the shorter response is gold in")


def test_each_trap_kind_needs_eight_pairs():
    stats = _stats(0.5, 0.5, MIN_TRAPS)
    stats["traps"]["control"] = MIN_TRAPS - 1
    assert MIN_TRAPS == 8
    assert balance_problems(stats) == ["only 7 pairs tagged 'control'; required at least 8"]


def test_empty_bank():
    stats = bank_stats(_bank([]))
    assert stats["pairs"] == 0 and stats["gold"] == {"A": 0, "B": 0, "tie": 0}
    assert stats["shorter_gold"]["n"] == 0 and math.isnan(stats["shorter_gold"]["share"])
    assert len(balance_problems(stats)) == 2 + len(TRAP_KINDS)


@pytest.mark.parametrize(
    "name", ["adversarial-neighbor.json", "adversarial-gptinst.json", "adversarial-manual.json"]
)
def test_llmbar_adversarial_sets_are_strong_length_traps(llmbar_dir, name):
    """LLMBar's README: the longer output is gold in only about 12-17% of these sets."""
    stats = bank_stats(read_bank(llmbar_dir / name))
    assert stats["shorter_gold"]["share"] > 0.75
    assert any(p.startswith("the shorter response is gold") for p in balance_problems(stats))
