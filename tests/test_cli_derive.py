"""``python -m pairs derive``: counterfactual probes from a bank file, written all or nothing."""

from __future__ import annotations

import json

import pytest

from cli.pairs import build_parser, main
from pairs.bank import STARTER_BANK_PATH
from pairs.importers import read_bank
from pairs.probes import SKIP_REASONS, derive_probes
from tests.conftest import FIXTURES

BROKEN = FIXTURES / "broken_bank.jsonl"


def test_derive_the_starter_bank(tmp_path, capsys):
    out = tmp_path / "probes.jsonl"
    assert (
        main(
            ["derive", str(STARTER_BANK_PATH), "--kinds", "polish,padding", "--seed", "3", "--out", str(out)]
        )
        == 0
    )
    printed = capsys.readouterr().out.splitlines()
    probes = read_bank(out)
    expected = derive_probes(read_bank(STARTER_BANK_PATH), ["polish", "padding"], seed=3)
    assert probes.drop(columns="line").equals(expected)
    assert set(probes["probe"]) == {"polish", "padding"}
    polish, padding = (int((probes["probe"] == k).sum()) for k in ("polish", "padding"))
    assert printed[0] == (
        f"{STARTER_BANK_PATH}: wrote {len(probes)} probes (polish {polish}, padding {padding}) "
        f"from 512 pairs to {out} (seed 3)"
    )
    assert printed[1].startswith(f"  polish: {polish} probes; {512 - polish} base pairs skipped: ")
    assert printed[2].startswith(f"  padding: {padding} probes; {512 - padding} base pairs skipped: ")
    assert SKIP_REASONS["tie"] in printed[1] and SKIP_REASONS["language"] in printed[2]
    # every record of the file is a probe, and says so
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert all(r["probe"] in ("polish", "padding") and r["styled"] in ("A", "B") for r in records)


def test_default_kinds_and_seed(tmp_path, capsys):
    out = tmp_path / "probes.jsonl"
    assert main(["derive", str(STARTER_BANK_PATH), "--out", str(out)]) == 0
    assert "(seed 0)" in capsys.readouterr().out
    assert set(read_bank(out)["probe"]) == {"polish", "padding"}


def test_swap_is_refused_with_a_reason(tmp_path, capsys):
    out = tmp_path / "probes.jsonl"
    assert main(["derive", str(STARTER_BANK_PATH), "--kinds", "polish,swap", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "swap probes are not written to a file: the drill draws them" in err
    assert not out.exists()


def test_an_unknown_kind_is_refused(tmp_path, capsys):
    out = tmp_path / "probes.jsonl"
    assert main(["derive", str(STARTER_BANK_PATH), "--kinds", "bold", "--out", str(out)]) == 2
    assert "unknown kind 'bold': choose from polish, padding, authority" in capsys.readouterr().err
    assert not out.exists()


def test_a_bad_bank_lists_its_problems_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "probes.jsonl"
    out.write_text("kept\n", encoding="utf-8")
    assert main(["derive", str(BROKEN), "--out", str(out)]) == 1
    printed = capsys.readouterr()
    assert len(printed.err.splitlines()) == 9 and all(
        line.startswith(f"{BROKEN}:") for line in printed.err.splitlines()
    )
    assert printed.out == f"{BROKEN}: not valid, 9 problems; nothing written to {out}\n"
    assert out.read_text(encoding="utf-8") == "kept\n"


def test_a_bank_with_no_possible_base_writes_nothing(tmp_path, capsys):
    bank = tmp_path / "ties.jsonl"
    bank.write_text(
        json.dumps({"id": "t", "prompt": "q", "response_a": "a", "response_b": "b", "gold": "tie"}) + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "probes.jsonl"
    assert main(["derive", str(bank), "--out", str(out)]) == 1
    printed = capsys.readouterr().out
    assert "no probe could be derived from 1 pair; nothing written" in printed
    assert f"1 base pair skipped: 1 {SKIP_REASONS['tie']}" in printed
    assert not out.exists()


def test_derive_help_is_plain():
    parser = build_parser()
    derive = parser._subparsers._group_actions[0].choices["derive"]  # type: ignore[union-attr]
    text = derive.format_help()
    assert "%%" not in text and "--kinds KIND,..." in text and "swap" not in text


def test_derive_real_llmbar_files(llmbar_dir, tmp_path, capsys):
    for name in ("natural.json", "adversarial-neighbor.json"):
        out = tmp_path / f"{name}.probes.jsonl"
        assert main(["derive", str(llmbar_dir / name), "--out", str(out)]) == 0, capsys.readouterr()
        probes = read_bank(out)
        assert len(probes) > 0 and (probes["source"] == "llmbar").all()
        for kind, group in probes.groupby("probe"):
            assert 0.3 <= (group["styled"] == group["gold"]).mean() <= 0.7, kind


@pytest.mark.parametrize("kinds", ["authority", "padding,authority"])
def test_authority_probes(tmp_path, capsys, kinds):
    out = tmp_path / "probes.jsonl"
    assert main(["derive", str(STARTER_BANK_PATH), "--kinds", kinds, "--out", str(out)]) == 0
    assert set(read_bank(out)["probe"]) == set(kinds.split(","))
