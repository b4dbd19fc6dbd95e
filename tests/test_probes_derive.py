"""Deriving counterfactual probes from a bank (pairs/probes.py), and the bank contract for probes."""

from __future__ import annotations

import re
from collections import Counter

import pandas as pd
import pytest

from pairs.bank import COLUMNS, STARTER_BANK_PATH, bank_to_records, build_bank, validate_records
from pairs.features import pair_features
from pairs.importers import read_bank
from pairs.probes import (
    _CITATIONS,
    _PRACTICE_CITATIONS,
    KIND_TAGS,
    MAX_POLISH,
    PADDING_RATIO,
    SKIP_REASONS,
    derive_probes,
)

_EMOJI = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf\u2b50\u2b55\ufe0f]")


@pytest.fixture(scope="module")
def starter() -> pd.DataFrame:
    return read_bank(STARTER_BANK_PATH)


@pytest.fixture(scope="module")
def probes(starter) -> pd.DataFrame:
    return derive_probes(starter, ("polish", "padding", "authority"), seed=0)


def words(text: str) -> Counter[str]:
    """The words of a text once Markdown marks and emoji are taken out."""
    text = _EMOJI.sub(" ", text)
    text = re.sub(r"(?m)^\s*(?:#{1,6}|[-*+])\s+", " ", text)
    text = text.replace("**", "")
    return Counter(text.split())


def styled_and_original(probe: pd.Series, bases: pd.DataFrame) -> tuple[str, str]:
    column = f"response_{probe['styled'].lower()}"
    return probe[column], bases.loc[probe["probe_of"], column]


def test_the_same_seed_derives_the_same_probes(starter, probes):
    again = derive_probes(starter, ("polish", "padding", "authority"), seed=0)
    pd.testing.assert_frame_equal(again, probes)
    other = derive_probes(starter, ("polish", "padding", "authority"), seed=1)
    assert not other.equals(probes)


def test_probes_follow_the_contract(starter, probes):
    bases = starter.set_index("id")
    assert list(probes.columns) == COLUMNS
    assert set(probes["probe"]) == {"polish", "padding", "authority"}
    for probe in probes.to_dict("records"):
        base = bases.loc[probe["probe_of"]]
        assert probe["id"] == f"{probe['probe_of']}~{probe['probe']}"
        assert base["gold"] in ("A", "B") and not base["probe"]
        for field in ("prompt", "gold", "domain", "source"):
            assert probe[field] == base[field]
        assert probe["gold_confidence"] == base["gold_confidence"] or (
            pd.isna(probe["gold_confidence"]) and pd.isna(base["gold_confidence"])
        )
        assert probe["tags"] == tuple(dict.fromkeys((*base["tags"], KIND_TAGS[probe["probe"]])))
        said = probe["rationale"]
        assert said.startswith("Only the ") and f"of Response {probe['styled']} was changed" in said
        assert probe["rationale"].endswith(base["rationale"])
        other = "b" if probe["styled"] == "A" else "a"
        assert probe[f"response_{other}"] == base[f"response_{other}"]  # byte for byte
        assert probe[f"response_{probe['styled'].lower()}"] != base[f"response_{probe['styled'].lower()}"]


def test_probes_validate_as_a_bank_and_survive_a_round_trip(probes):
    records = bank_to_records(probes)
    assert all({"probe", "probe_of", "styled"} <= set(r) for r in records)
    again, problems = validate_records(enumerate(records, 1), "probes.jsonl")
    assert problems == []
    pd.testing.assert_frame_equal(again.drop(columns="line"), probes)


def test_styled_is_the_gold_response_in_about_half_of_each_kind(probes):
    for kind, group in probes.groupby("probe"):
        share = (group["styled"] == group["gold"]).mean()
        assert 0.45 <= share <= 0.55, (kind, share)


def test_polish_keeps_every_word_and_adds_formatting(starter, probes):
    bases = starter.set_index("id")
    polish = probes[probes["probe"] == "polish"]
    assert len(polish) > 300
    for probe in polish.to_dict("records"):
        styled, original = styled_and_original(pd.Series(probe), bases)
        lost = words(original) - words(styled)
        assert not lost, (probe["id"], lost)
        added = words(styled) - words(original)
        assert sum(added.values()) <= 7, (probe["id"], added)  # a heading, nothing more
        for number in re.findall(r"\d+(?:[.,]\d+)*", original):
            assert number in styled
        for block in re.findall(r"```.*?```", original, re.S):
            assert block in styled
    features = pair_features(polish)
    base_features = pair_features(bases.loc[polish["probe_of"]].reset_index())
    for probe, (_, after), (_, before) in zip(
        polish.to_dict("records"), features.iterrows(), base_features.iterrows(), strict=True
    ):
        side = probe["styled"].lower()
        assert after[f"polish_{side}"] > before[f"polish_{side}"], probe["id"]
        assert before[f"polish_{side}"] <= MAX_POLISH


def test_padding_keeps_the_answer_and_adds_half_its_words(starter, probes):
    bases = starter.set_index("id")
    padding = probes[probes["probe"] == "padding"]
    assert len(padding) > 300
    for probe in padding.to_dict("records"):
        styled, original = styled_and_original(pd.Series(probe), bases)
        assert len(styled.split()) >= PADDING_RATIO * len(original.split()), probe["id"]
        # every sentence of the original is there, in order (a hedge may lower its first letter)
        folded, at = " ".join(styled.split()).casefold(), 0
        for sentence in re.split(r"(?<=[.!?:])\s+|(?<=[.!?:][\"”’')\]])\s+|\n+", original):
            sentence = " ".join(sentence.split())
            found = folded.find(sentence.casefold(), at)
            assert found >= 0, (probe["id"], sentence)
            at = found + len(sentence)
        ending = r"^(In summary|To sum up|So, to recap|Feel free to adjust|You can of course|Let me know if)"
        assert re.search(ending, styled, re.M), probe["id"]
    features = pair_features(padding)
    base_features = pair_features(bases.loc[padding["probe_of"]].reset_index())
    for probe, (_, after), (_, before) in zip(
        padding.to_dict("records"), features.iterrows(), base_features.iterrows(), strict=True
    ):
        side = probe["styled"].lower()
        assert after[f"words_{side}"] >= PADDING_RATIO * before[f"words_{side}"]


def test_authority_adds_an_unsupported_appeal(starter, probes):
    bases = starter.set_index("id")
    for probe in probes[probes["probe"] == "authority"].to_dict("records"):
        styled, original = styled_and_original(pd.Series(probe), bases)
        assert re.match(r"(As an expert|Speaking as a specialist|As someone who has worked) in ", styled)
        citations = "|".join(re.escape(c) for c in (*_CITATIONS, *_PRACTICE_CITATIONS))
        cited = re.sub(rf" ({citations})", "", styled)
        assert cited != styled, probe["id"]
        assert " ".join(original.split()) in " ".join(cited.split())


def test_skipped_pairs_are_counted_with_a_reason(starter, probes):
    skipped = probes.attrs["skipped"]
    assert set(skipped) == {"polish", "padding", "authority"}
    ties = int((starter["gold"] == "tie").sum())
    for kind, reasons in skipped.items():
        assert set(reasons) <= set(SKIP_REASONS)
        assert reasons["tie"] == ties
        made = int((probes["probe"] == kind).sum())
        assert made + sum(reasons.values()) == len(starter), kind
    assert skipped["padding"].get("language", 0) > 0  # the Spanish and French pairs


def test_ties_probes_and_constrained_prompts_are_not_bases():
    plain = "The capital of France is Paris. It has been the capital for centuries. Lyon is second."
    other = "France's capital is Lyon, which is also its largest city by far."
    question = "What is the capital of France?"
    pair = {"prompt": question, "response_a": plain, "response_b": other, "gold": "A"}
    rows = [
        {**pair, "id": "t", "gold": "tie"},
        {**pair, "id": "c", "prompt": "In one sentence, name France's capital."},
        {**pair, "id": "p", "probe": "polish", "probe_of": "x", "styled": "A"},
        {**pair, "id": "ok"},
    ]
    bank = build_bank(enumerate(rows, 1), "bank.jsonl")
    probes = derive_probes(bank, ["polish"])
    assert probes["probe_of"].tolist() == ["ok"]
    assert probes.attrs["skipped"] == {"polish": {"constrained": 1, "probe": 1, "tie": 1}}


def test_code_only_and_formatted_responses_are_not_restyled():
    code = "```python\nprint(sorted(items))\n```"
    formatted = (
        "## Answer\n\n- **one** point\n- **two** points\n\nThat is all there is to it, really, I think."
    )
    bank = build_bank(
        [
            (
                1,
                {
                    "id": "x",
                    "prompt": "How do I sort?",
                    "response_a": code,
                    "response_b": formatted,
                    "gold": "A",
                },
            )
        ],
        "bank.jsonl",
    )
    probes = derive_probes(bank, ["polish", "padding"])
    assert probes["id"].tolist() == ["x~padding"] and probes["styled"].tolist() == ["B"]
    assert probes.attrs["skipped"] == {"polish": {"code": 1}, "padding": {}}


def test_swap_and_unknown_kinds_are_refused(starter):
    with pytest.raises(ValueError, match="swap probe is a pair the rater answered before"):
        derive_probes(starter, ["swap"])
    with pytest.raises(ValueError, match="kinds must be among polish, padding, authority; got 'bold'"):
        derive_probes(starter, ["bold"])


# -- the bank contract --------------------------------------------------------------------------


def base_record(**extra) -> dict:
    return {"id": "p1~polish", "prompt": "q", "response_a": "a", "response_b": "b", "gold": "A", **extra}


@pytest.mark.parametrize(
    ("extra", "field", "message"),
    [
        (
            {"probe": "bold", "probe_of": "p1", "styled": "A"},
            "probe",
            "must be one of polish, padding, authority",
        ),
        ({"probe": "polish", "styled": "A"}, "probe_of", "missing: a probe names the id"),
        ({"probe": "polish", "probe_of": "p1"}, "styled", "must be A or B, got nothing"),
        ({"probe": "polish", "probe_of": "p1", "styled": "C"}, "styled", "must be A or B, got 'C'"),
        (
            {"probe": "polish", "probe_of": "p1", "styled": "A", "gold": "tie"},
            "gold",
            "a probe's gold must be A or B",
        ),
        ({"probe_of": "p1"}, "probe_of", "but probe is empty"),
        ({"styled": "B"}, "styled", "but probe is empty"),
        ({"probe": "polish", "probe_of": "p1~polish", "styled": "A"}, "probe_of", "cannot be its own base"),
        ({"probe": 3, "probe_of": "p1", "styled": "A"}, "probe", "must be text, got int"),
    ],
)
def test_bad_probe_fields_are_problems(extra, field, message):
    _, problems = validate_records([(1, base_record(**extra))], "bank.jsonl")
    assert [(p.field, message in p.message) for p in problems] == [(field, True)], problems


def test_probe_fields_default_to_empty_and_stay_out_of_ordinary_records():
    bank = build_bank([(1, base_record(id="p1"))], "bank.jsonl")
    assert bank[["probe", "probe_of", "styled"]].iloc[0].tolist() == ["", "", ""]
    assert not {"probe", "probe_of", "styled"} & set(bank_to_records(bank)[0])
    probe = build_bank([(1, base_record(probe=" Polish ", probe_of="p1", styled="b"))], "bank.jsonl")
    assert probe[["probe", "probe_of", "styled"]].iloc[0].tolist() == ["polish", "p1", "B"]
    record = bank_to_records(probe)[0]
    assert list(record)[-3:] == ["probe", "probe_of", "styled"]
    # a base need not be in the same file: probes may join a bank that has the bases
    assert validate_records([(1, record)], "probes.jsonl")[1] == []


def test_a_frame_without_the_probe_columns_is_written_as_before():
    frame = pd.DataFrame(
        [{"id": "p1", "prompt": "q", "response_a": "a", "response_b": "b", "gold": "A", "rationale": "",
          "tags": (), "domain": "", "source": "", "gold_confidence": float("nan")}]
    )  # fmt: skip
    assert bank_to_records(frame) == [
        {"id": "p1", "prompt": "q", "response_a": "a", "response_b": "b", "gold": "A", "rationale": "",
         "tags": [], "domain": "", "source": ""}
    ]  # fmt: skip
