"""The bank commands of ``python -m pairs``: validate, convert, stats."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from cli.pairs import COMMANDS, build_parser, main
from pairs.importers import check_bank, read_bank
from tests.conftest import FIXTURES, ROOT

BROKEN = FIXTURES / "broken_bank.jsonl"


def test_validate_a_valid_file(capsys):
    assert main(["validate", str(FIXTURES / "bank.csv")]) == 0
    out, err = capsys.readouterr()
    assert out == f"{FIXTURES / 'bank.csv'}: valid, 3 pairs (csv); gold A 2, B 0, tie 1\n"
    assert err == ""


def test_validate_a_broken_file_prints_every_problem(capsys):
    assert main(["validate", str(BROKEN)]) == 1
    out, err = capsys.readouterr()
    _, problems = check_bank(str(BROKEN))
    assert err.splitlines() == [str(p) for p in problems]
    assert len(problems) == 9
    assert all(line.startswith(f"{BROKEN}:") for line in err.splitlines())
    assert out == f"{BROKEN}: not valid, 9 problems\n"


def test_validate_with_an_explicit_format(capsys):
    assert main(["validate", str(FIXTURES / "llmbar_small.json"), "--from", "chosen-rejected"]) == 1
    err = capsys.readouterr().err
    assert "chosen: missing" in err and "Traceback" not in err


def test_convert_writes_a_native_bank(tmp_path, capsys):
    out = tmp_path / "bank.jsonl"
    assert main(["convert", str(FIXTURES / "mt_bench.jsonl"), "--from", "auto", "--out", str(out)]) == 0
    assert "wrote 5 pairs (mt-bench)" in capsys.readouterr().out
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 5 and set(records[0]) == {
        "id",
        "prompt",
        "response_a",
        "response_b",
        "gold",
        "rationale",
        "tags",
        "domain",
        "source",
        "gold_confidence",
    }
    original = read_bank(FIXTURES / "mt_bench.jsonl").drop(columns="line")
    again = read_bank(out).drop(columns="line")
    assert again.equals(original)
    assert [p.name for p in tmp_path.iterdir()] == ["bank.jsonl"]


def test_convert_a_broken_file_writes_nothing(tmp_path, capsys):
    out = tmp_path / "bank.jsonl"
    assert main(["convert", str(BROKEN), "--out", str(out)]) == 1
    assert not out.exists() and list(tmp_path.iterdir()) == []
    assert "nothing written" in capsys.readouterr().out
    out.write_text("old\n", encoding="utf-8")
    assert main(["convert", str(BROKEN), "--out", str(out)]) == 1
    assert out.read_text(encoding="utf-8") == "old\n"


def test_convert_requires_out(capsys):
    assert main(["convert", str(BROKEN)]) == 2
    assert "--out" in capsys.readouterr().err


def test_missing_or_unreadable_files_exit_2(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "nope.jsonl")]) == 2
    assert main(["stats", str(tmp_path)]) == 2
    assert (
        main(["convert", str(FIXTURES / "bank.csv"), "--out", str(tmp_path / "no" / "dir" / "b.jsonl")]) == 2
    )
    err = capsys.readouterr().err
    assert "nope.jsonl: No such file or directory" in err
    assert "Is a directory" in err
    assert "Traceback" not in err


def test_unknown_format_choice_exits_2(capsys):
    assert main(["validate", str(BROKEN), "--from", "yaml"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_stats_table(capsys):
    assert main(["stats", str(FIXTURES / "bank.csv")]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{FIXTURES / 'bank.csv'} (csv): 3 pairs; gold A 2, B 0, tie 1")
    for heading in ("tag", "domain", "shorter response is gold", "plainer response is gold", "trap"):
        assert f"\n{heading}" in out
    assert "starter-bank requirements: 7 not met" in out


def test_stats_json(capsys):
    assert main(["stats", str(FIXTURES / "bank.csv"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["format"] == "csv" and report["pairs"] == 3
    assert report["tags"] == {"control": 1, "factual": 1, "length": 1, "polish": 1}
    assert report["domains"] == {"coding": 1, "math": 1, "writing": 1}
    assert report["shorter_gold"] == {"n": 0, "count": 0, "share": None}  # NaN is written as null
    assert report["plainer_gold"] == {"n": 1, "count": 1, "share": 1.0}
    assert len(report["balance_problems"]) == 7


def test_stats_on_a_broken_file(capsys):
    assert main(["stats", str(BROKEN), "--json"]) == 1
    assert capsys.readouterr().err.count("\n") == 9


@pytest.mark.parametrize("command", ["validate", "convert", "stats", "derive"])
def test_every_command_has_help(command, capsys):
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: python -m pairs {command}")
    assert "--from FORMAT" in out and "mt-bench" in out


def test_top_level_help_lists_every_command(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    choices = build_parser()._subparsers._group_actions[0].choices
    assert len(COMMANDS) == len(choices)
    assert set(choices) == {
        "validate",
        "convert",
        "stats",
        "derive",
        "import",
        "export",
        "judgments",
        "store",
        "accounts",
        "cohort",
    }
    for command in choices:
        assert command in out


def test_no_command_is_a_usage_error(capsys):
    assert main([]) == 2
    assert "usage:" in capsys.readouterr().err


def test_real_llmbar_convert_then_validate(llmbar_dir, tmp_path, capsys):
    out = tmp_path / "natural.jsonl"
    assert main(["convert", str(llmbar_dir / "natural.json"), "--from", "llmbar", "--out", str(out)]) == 0
    assert main(["validate", str(out)]) == 0
    assert (
        capsys.readouterr().out.splitlines()[-1] == f"{out}: valid, 100 pairs (jsonl); gold A 42, B 58, tie 0"
        "; 100 without a rationale (raters see no reason after answering)"
    )


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pairs", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_python_dash_m_pairs(llmbar_dir, tmp_path):
    out = tmp_path / "natural.jsonl"
    converted = _run("convert", str(llmbar_dir / "natural.json"), "--out", str(out))
    assert converted.returncode == 0, converted.stderr
    validated = _run("validate", str(out))
    assert validated.returncode == 0, validated.stderr
    assert validated.stdout == (
        f"{out}: valid, 100 pairs (jsonl); gold A 42, B 58, tie 0"
        "; 100 without a rationale (raters see no reason after answering)\n"
    )
    broken = _run("validate", str(BROKEN))
    assert broken.returncode == 1 and len(broken.stderr.splitlines()) == 9
    missing = _run("stats", str(tmp_path / "missing.jsonl"))
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
