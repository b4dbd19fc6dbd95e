"""Text features, checked against counts made by hand on small texts."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from pairs import features
from pairs.bank import build_bank
from pairs.features import pair_features, response_features

POLISHED = """# Setup guide

Here is **how** to do it, with __care__:

1. Install it
2. Run it
   - check the log
* done ✅ 🚀

| step | time |
|------|-----:|
| one  | 2 s  |

See [the docs](https://example.org/docs) or https://example.org/faq.

```python
# a comment, not a header
- not a list item
**not bold**
```
"""


def test_hand_counted_markdown():
    f = response_features(pd.Series([POLISHED])).iloc[0]
    assert f["headers"] == 1
    assert f["list_items"] == 4
    assert f["bold"] == 2
    assert f["code_blocks"] == 1
    assert f["tables"] == 1
    assert f["links"] == 2
    assert f["emojis"] == 2
    assert f["polish"] == 1 + 4 + 2 + 1 + 1 + 2 + 2
    assert f["words"] == len(POLISHED.split())
    assert f["chars"] == len(POLISHED)
    assert f["tokens"] == math.ceil(len(POLISHED) / 4)


@pytest.mark.parametrize(
    "text, column, expected",
    [
        ("#hashtag is not a header", "headers", 0),
        ("####### seven is not a header", "headers", 0),
        ("    ### indented by four is code, but we count up to three spaces", "headers", 0),
        ("   ### three spaces is a header", "headers", 1),
        ("-not a list item", "list_items", 0),
        ("10) tenth item\n11. eleventh", "list_items", 2),
        ("2 * 3 = 6", "list_items", 0),
        ("a ** b ** c", "bold", 1),  # Arena's regex-style count, no full CommonMark parsing
        ("~~~\ncode\n~~~\n```\nmore\n```", "code_blocks", 2),
        ("```\nunterminated fence swallows the rest\n# x", "headers", 0),
        ("plain text", "polish", 0),
    ],
)
def test_edge_cases(text, column, expected):
    assert response_features(pd.Series([text]))[column].iloc[0] == expected


def test_pair_differences_follow_their_formulas():
    bank = build_bank(
        [
            (
                1,
                {
                    "id": "p1",
                    "prompt": "q",
                    "response_a": "one two three",
                    "response_b": "a b c d e f g",
                    "gold": "A",
                },
            ),
            (
                2,
                {"id": "p2", "prompt": "q", "response_a": "- **x**\n- y", "response_b": "plain", "gold": "B"},
            ),
        ],
        "mem",
    )
    f = pair_features(bank)
    assert list(f.index) == ["p1", "p2"]
    assert f.loc["p1", "log_word_ratio"] == pytest.approx(math.log(4 / 8))
    assert f.loc["p1", "length_doublings"] == pytest.approx(-1.0)
    assert f.loc["p1", "longer"] == "B"
    # polish A = 2 list items and 1 bold span, B = none: (ln 3 + ln 2) / 2
    assert f.loc["p2", "polish_diff"] == pytest.approx((math.log(3) + math.log(2)) / 2)
    assert f.loc["p2", "polish_a"] == 3 and f.loc["p2", "polish_b"] == 0
    assert f.loc["p2", "more_polished"] == "A"
    assert f.loc["p1", "more_polished"] == ""
    assert f.loc["p2", "list_items_diff"] == pytest.approx(2 / 3)


def test_pair_features_are_cached_by_content():
    bank = build_bank(
        [(1, {"id": "c1", "prompt": "q", "response_a": "x", "response_b": "y y", "gold": "A"})], "m"
    )
    first = pair_features(bank)
    first.loc["c1", "words_a"] = 999  # callers get a copy, the cache stays right
    assert pair_features(bank).loc["c1", "words_a"] == 1
    assert any(v.index.tolist() == ["c1"] for v in features._CACHE.values())
    changed = bank.assign(response_a=["x x x"])
    assert pair_features(changed).loc["c1", "words_a"] == 3


def test_vectorized_over_a_large_bank_matches_row_by_row():
    texts = pd.Series([POLISHED, "plain", "# h\n- a\n- b", "**b** __c__"] * 50)
    whole = response_features(texts)
    one_by_one = pd.concat([response_features(texts.iloc[[i]]) for i in range(4)])
    assert (whole.iloc[:4].to_numpy() == one_by_one.to_numpy()).all()
