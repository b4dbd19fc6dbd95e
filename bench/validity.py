"""Validity of PairCal's verdicts: power, false alarms and coverage by n, effect and scenario.

Run::

    python bench/validity.py                 # print the tables (200 raters a cell, 80 cohorts)
    python bench/validity.py --write         # ... and regenerate VALIDITY.md's generated section
    python bench/validity.py --quick         # tiny sizes, written to bench/out/VALIDITY.quick.md

Every figure goes through the path a user runs: the judgments of simulated
raters, in the judgment-store layout, are cut to first answers
(:func:`calibration.data.first_answers`, as the CLI does), joined to the bank
by :func:`calibration.data.prepare` and read from
:func:`calibration.report.build_report`: a rater's verdicts from the report of
that rater alone (``build_report(prepared, rater=...)`` on the rater's own
judgments, as the CLI builds it for a file of one rater, and My report for a
rater whose pairs nobody else in the cohort judged), the cohort's pooled bias,
leaderboard and gold audit from the cohort report. The cells marked "in a
cohort" read a rater's verdicts from the cohort report instead, whose bias
model allows for each pair's easiness measured on the other raters (as My
report and the lead's console show them).
Nothing is read from inside the statistics modules; the report fields read are looked up in one place each
(:data:`FIELDS`, :func:`interval_columns`), and a missing field stops the run
with its name.

The raters are :class:`calibration.people.Person` raters
(:func:`calibration.people.simulate_people`), who behave like people rather
than like the model: pairs differ in easiness, hard pairs of an LLMBar-like
bank are mostly short-gold (:func:`calibration.people.llmbar_like_bank`),
skill falls within a drill, repeats of pairs whose gold was revealed are
answered from memory. The scenarios are listed in :data:`SCENARIOS`; the
planted effects are a length odds ratio of 2 per doubling and a position odds
ratio of 2.7, the sizes of the targets.

Each cell of a table is a share of simulated raters (or cohorts, flags, rows)
with its Monte Carlo 95% interval (Clopper-Pearson, exact), the number it is
a share of, and the seed that reproduces it. "met" compares the share itself
with the target; the interval says how sure that comparison is.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
import zlib
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from bench.probe_power import share  # noqa: E402
from calibration.data import first_answers, prepare  # noqa: E402
from calibration.people import Person, llmbar_like_bank, simulate_people  # noqa: E402
from calibration.report import build_report  # noqa: E402
from calibration.simulate import synthetic_bank  # noqa: E402
from pairs.features import pair_features  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
VALIDITY = ROOT / "VALIDITY.md"
QUICK_OUT = ROOT / "bench" / "out" / "VALIDITY.quick.md"
BEGIN, END = "<!-- validity:begin -->", "<!-- validity:end -->"

SIZES = (30, 50, 100, 200)
LEADERBOARD_SIZES = (20, 30, 50, 100, 200)
LENGTH_OR = 2.0
POSITION_OR = 2.7
BANK_PAIRS = 2000
COHORT_RATERS, COHORT_BANK = 20, 400
#: Raters in a cohort whose reports allow for pair easiness (:func:`in_cohort_rows`), and raters a pair.
IN_COHORT_RATERS, IN_COHORT_PER_PAIR = 40, 20
AUDIT_RATERS, AUDIT_BANK, AUDIT_WRONG = 20, 200, 0.08
LEADERBOARD_RATERS = 40
N_BOOT = 50  # agreement bootstrap resamples: no figure here reads the agreement intervals

#: The report fields read, each in one place: ``(path in a rater or cohort object)``.
FIELDS = {
    "significant": ("bias", "{effect}", "significant"),
    "odds_ratio": ("bias", "{effect}", "odds_ratio"),
    "ci_low": ("bias", "{effect}", "ci_low"),
    "ci_high": ("bias", "{effect}", "ci_high"),
    "calibration": ("calibration", "calibration"),
    "leaderboard": ("leaderboard",),
    "gold_audit": ("gold_audit",),
}
#: The calibration verdict that counts as "called well calibrated".
WELL_CALIBRATED = "well calibrated"
#: Interval columns of a leaderboard row, in order of preference: the first pair present is read.
#: The interval is meant to belong to the shown ``score``.
LEADERBOARD_INTERVALS = (("score_ci_low", "score_ci_high"), ("ci_low", "ci_high"))
LEADERBOARD_SCORE = "score"
EFFECTS = ("length", "polish", "position")


class ReportFieldMissing(KeyError):
    """A field this script reads is not in the report: adjust :data:`FIELDS`."""


def lookup(obj: Mapping[str, Any], name: str, **fmt: str) -> Any:
    """The value of report field ``name`` (a key of :data:`FIELDS`) in a rater or cohort object."""
    here: Any = obj
    path = [part.format(**fmt) for part in FIELDS[name]]
    for depth, key in enumerate(path):
        if not isinstance(here, Mapping) or key not in here:
            raise ReportFieldMissing(
                f"report field {'.'.join(path[: depth + 1])!r} is missing; "
                f"bench/validity.py reads it as {name!r} (see FIELDS)"
            )
        here = here[key]
    return here


def interval_columns(row: Mapping[str, Any]) -> tuple[str, str]:
    """The leaderboard row's interval columns: the first pair of :data:`LEADERBOARD_INTERVALS` present."""
    for low, high in LEADERBOARD_INTERVALS:
        if low in row and high in row:
            return low, high
    raise ReportFieldMissing(f"no leaderboard interval among {LEADERBOARD_INTERVALS}; row has {sorted(row)}")


# ----------------------------------------------------------------------------- raters


@dataclass(frozen=True)
class Scenario:
    """How a group of simulated raters behaves (fields as :class:`calibration.people.Person`)."""

    key: str
    label: str
    bank: str = "plain"  # "plain": length independent of gold; "spread": easiness spread; "llmbar"
    person: dict = field(default_factory=dict)
    position_sd: float = 0.0  # spread of the raters' own pull to the left side (log-odds)
    repeat_share: float = 0.0
    no_resolution: bool = False


SCENARIOS = {
    s.key: s
    for s in (
        Scenario("model", "model-like (the model's own assumptions)", "plain", {"item_weight": 0.0}),
        Scenario("people", "people: easiness spread, fatigue", "spread", {"fatigue": 1.0}),
        Scenario("confound", "LLMBar-like: hard pairs mostly short-gold", "llmbar", {"fatigue": 1.0}),
        Scenario(
            "memory", "memory: 30% repeats of revealed pairs", "spread", {"memory": 0.9}, repeat_share=0.3
        ),
        Scenario("fatigue", "fatigue: skill falls 2 log-odds within a drill", "spread", {"fatigue": 2.0}),
        Scenario(
            "position",
            "position preference (odds 2.7 for the left)",
            "spread",
            {"position_bias": float(np.log(POSITION_OR))},
        ),
        Scenario(
            "a_pref",
            "prefers response A, side not recorded",
            "spread",
            {"a_bias": 0.7, "records_left": False},
        ),
        Scenario(
            "no_resolution",
            "confidence without resolution (55% or 95% at random, 75% right)",
            "plain",
            {"item_weight": 0.0, "skill": float(np.log(3.0))},
            no_resolution=True,
        ),
        Scenario("calibrated", "felt confidence (for reference)", "plain", {"item_weight": 0.0}),
    )
}


def cell_seed(seed: int, *key: object) -> int:
    """A seed for one cell, from the run's seed and the cell's name (stable across runs)."""
    return seed * 100_003 + zlib.crc32(repr(key).encode()) % 100_000


class Banks:
    """The run's banks, built once each, with their pair features."""

    def __init__(self, seed: int, n_pairs: int) -> None:
        self.seed, self.n_pairs = seed, n_pairs
        self._cache: dict[tuple, tuple[pd.DataFrame, pd.DataFrame]] = {}

    def get(self, kind: str, n_pairs: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
        """``(bank, features)`` of one kind: ``plain``, ``spread`` or ``llmbar``."""
        n = n_pairs or self.n_pairs
        if (kind, n) not in self._cache:
            self._cache[(kind, n)] = self.fresh(kind, n, self.seed)
        return self._cache[(kind, n)]

    @staticmethod
    def fresh(kind: str, n_pairs: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
        """A new ``(bank, features)`` of one kind, drawn with ``seed`` (not cached)."""
        if kind == "llmbar":
            bank = llmbar_like_bank(n_pairs, seed=seed)
        else:
            bank = synthetic_bank(n_pairs, seed=seed)
            if kind == "spread":
                rng = np.random.default_rng(seed + 1)
                bank = bank.assign(easiness=rng.normal(0.0, 0.6, len(bank)))
        return bank, pair_features(bank)


def simulate(
    scenario: Scenario,
    bank: pd.DataFrame,
    features: pd.DataFrame,
    n_raters: int,
    n: int,
    seed: int,
    *,
    length_bias: float = 0.0,
    position_bias: float | None = None,
    judged_bank: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """``n`` first answers by each of ``n_raters`` raters of ``scenario``, prepared as the report reads them.

    Skill is uniform in [0.8, 2.2] per rater unless the scenario fixes it. The
    judgments go through ``first_answers`` and ``prepare`` (with
    ``judged_bank`` in place of ``bank`` when given: the bank PairCal sees,
    e.g. with some golds wrong).
    """
    rng = np.random.default_rng(seed)
    skills = rng.uniform(0.8, 2.2, n_raters)
    pulls = rng.normal(0.0, scenario.position_sd, n_raters) if scenario.position_sd else np.zeros(n_raters)
    people = []
    for i in range(n_raters):
        spec: dict[str, Any] = {"skill": float(skills[i]), "position_bias": float(pulls[i])}
        spec.update(scenario.person)
        if position_bias is not None:
            spec["position_bias"] = position_bias
        spec["length_bias"] = length_bias
        people.append(Person(f"r{i:04d}", **spec))
    total = int(np.ceil(n / (1 - scenario.repeat_share))) + (10 if scenario.repeat_share else 0)
    total = min(total, len(bank)) if not scenario.repeat_share else total
    judgments = simulate_people(
        bank, people, n_per_rater=total, seed=seed, repeat_share=scenario.repeat_share
    )
    judgments = first_answers(judgments.drop(columns="repeat"))
    judgments = judgments[judgments.groupby("rater").cumcount() < n]  # n first answers each
    if scenario.no_resolution:
        confidence = np.where(rng.random(len(judgments)) < 0.5, 0.55, 0.95)
        judgments = judgments.assign(confidence=confidence)
    return prepare(bank if judged_bank is None else judged_bank, judgments, features=features)


def rater_reports(prepared: pd.DataFrame) -> list[dict]:
    """Each rater's report object, built for that rater alone (no one else judged their pairs)."""
    return [
        build_report(one, rater=str(name), n_boot=N_BOOT)
        for name, one in prepared.groupby("rater", sort=False)
    ]


# ----------------------------------------------------------------------------- measures


@dataclass
class Row:
    """One cell: ``k`` of ``m`` with a target."""

    table: str
    scenario: str
    planted: str
    n: int
    k: int
    m: int
    unit: str
    seed: int
    target: str = ""
    check: Callable[[int, int], bool] | None = None
    #: what "met" says of a share of nothing: a false-discovery share with no flags is 0
    #: (Benjamini & Hochberg 1995 count V / R as 0 when R = 0), so that target holds
    empty: str = "n/a"

    @property
    def met(self) -> str:
        if self.check is None:
            return ""
        if self.m == 0:
            return self.empty
        return "yes" if self.check(self.k, self.m) else "no"


def _at_most(p: float, k: int, m: int) -> bool:
    return k / m <= p


def _between(lo: float, hi: float, k: int, m: int) -> bool:
    return lo <= k / m <= hi


# checks are partials of module functions, so rows can come back from worker processes
def at_most(p: float) -> Callable[[int, int], bool]:
    return partial(_at_most, p)


def at_least(p: float) -> Callable[[int, int], bool]:
    return partial(_between, p, float("inf"))


def between(lo: float, hi: float) -> Callable[[int, int], bool]:
    return partial(_between, lo, hi)


def zero(k: int, m: int) -> bool:
    return k == 0


def _covers(obj: Mapping[str, Any], effect: str, planted: float) -> bool | None:
    low, high = lookup(obj, "ci_low", effect=effect), lookup(obj, "ci_high", effect=effect)
    if low is None or high is None:
        return None
    return bool(low <= planted <= high)


def _toward(obj: Mapping[str, Any], effect: str) -> bool:
    """Significant with an odds ratio above 1: "you favour longer" (left, more polished)."""
    ratio = lookup(obj, "odds_ratio", effect=effect)
    return bool(lookup(obj, "significant", effect=effect)) and ratio is not None and ratio > 1


TITLES = {
    "longer": 'Unbiased raters told "you favour longer answers"',
    "any": "Unbiased raters with any of the three bias lines (length, polish, position)",
    "cohort": "Cohorts of unbiased raters called length-biased (pooled model)",
    "power_length": "Length odds ratio 2 per doubling found (significant, toward longer)",
    "power_position": "Position odds ratio 2.7 found (significant, toward the left)",
    "coverage": "95% interval covers the planted odds ratio",
    "calibration": "Called well calibrated",
    "audit": "Gold audit: flags on correct golds (false discoveries), of all flags",
    "audit_power": "Gold audit: wrong golds flagged (for reference: its power)",
    "leaderboard": "Leaderboard rows whose interval misses the shown score or passes 1",
}


def per_rater_plans() -> list[tuple[str, str, float, float | None]]:
    """The per-rater cells' ``(scenario, planted, length bias, position bias)``, in table order."""
    unbiased = ("model", "people", "confound", "memory", "fatigue", "position", "a_pref")
    plans: list[tuple[str, str, float, float | None]] = [(s, "none", 0.0, None) for s in unbiased]
    plans += [(s, "length OR 2", float(np.log(LENGTH_OR)), None) for s in ("model", "people", "confound")]
    plans += [(s, "position OR 2.7", 0.0, float(np.log(POSITION_OR))) for s in ("model", "people")]
    plans = [(k, "position OR 2.7" if k == "position" else p, lb, pb) for k, p, lb, pb in plans]
    plans += [("no_resolution", "none", 0.0, None), ("calibrated", "none", 0.0, None)]
    return plans


def per_rater_rows(
    banks: Banks,
    n_raters: int,
    seed: int,
    sizes: Iterable[int],
    plans: list[tuple[str, str, float, float | None]] | None = None,
) -> list[Row]:
    """False alarms, power, coverage and the calibration verdict: one report per simulated rater."""
    rows: list[Row] = []
    for key, planted, length_bias, position_bias in per_rater_plans() if plans is None else plans:
        scenario = SCENARIOS[key]
        bank, features = banks.get(scenario.bank)
        for n in sizes:
            s = cell_seed(seed, key, planted, n)
            prepared = simulate(
                scenario, bank, features, n_raters, n, s, length_bias=length_bias, position_bias=position_bias
            )
            objs = rater_reports(prepared)
            m = len(objs)

            def add(table: str, k: int, m: int = m, unit: str = "raters", **kw: Any) -> None:
                rows.append(Row(table, scenario.label, planted, n, k, m, unit, s, **kw))  # noqa: B023

            if key in ("no_resolution", "calibrated"):
                called = sum(lookup(o, "calibration") == WELL_CALIBRATED for o in objs)
                target = {"target": "<= 20%", "check": at_most(0.20)} if key == "no_resolution" else {}
                add("calibration", called, **target)
                continue
            length_planted = length_bias != 0
            position_planted = position_bias is not None or "position_bias" in scenario.person
            if not length_planted:
                longer = sum(_toward(o, "length") for o in objs)
                conf = key == "confound"
                add("longer", longer, **({"target": "<= 10%", "check": at_most(0.10)} if conf else {}))
                if not position_planted:
                    any_line = sum(
                        any(bool(lookup(o, "significant", effect=e)) for e in EFFECTS) for o in objs
                    )
                    tgt = {"target": "<= 10%", "check": at_most(0.10)} if n == 200 else {}
                    add("any", any_line, **tgt)
            else:
                found = sum(_toward(o, "length") for o in objs)
                goal = {30: 0.50, 100: 0.90}.get(n)
                add(
                    "power_length",
                    found,
                    **({"target": f">= {goal:.0%}", "check": at_least(goal)} if goal else {}),
                )
            if position_planted:
                found = sum(_toward(o, "position") for o in objs)
                tgt = {"target": ">= 85%", "check": at_least(0.85)} if n == 100 else {}
                add("power_position", found, **tgt)
            # coverage of the planted odds ratios (1 where nothing is planted)
            for effect, value in (("length", np.exp(length_bias)), ("position", None)):
                if effect == "position":
                    if scenario.position_sd or scenario.person.get("records_left") is False:
                        continue  # each rater has their own pull: no single planted value
                    pb = (
                        position_bias
                        if position_bias is not None
                        else scenario.person.get("position_bias", 0.0)
                    )
                    value = float(np.exp(pb))
                covered = [_covers(o, effect, float(value)) for o in objs]
                known = [c for c in covered if c is not None]
                rows.append(
                    Row(
                        "coverage",
                        scenario.label,
                        f"{effect} OR {value:.3g}",
                        n,
                        sum(known),
                        len(known),
                        "raters",
                        s,
                        "92%-98%",
                        between(0.92, 0.98),
                    )
                )
    return rows


def in_cohort_plans() -> list[tuple[str, str, float]]:
    """The in-cohort cells' ``(scenario, planted, length bias)``, in table order."""
    return [
        (key, planted, bias)
        for key in ("people", "confound")
        for planted, bias in (("none", 0.0), ("length OR 2", float(np.log(LENGTH_OR))))
    ]


def in_cohort_rows(
    banks: Banks, n_raters: int, seed: int, sizes: Iterable[int], plan: tuple[str, str, float]
) -> list[Row]:
    """A rater's verdicts inside a cohort: the cohort report's rater objects, which allow for each
    pair's easiness measured on the other raters (:func:`calibration.bias.with_cohort_easiness`).

    Cohorts of :data:`IN_COHORT_RATERS` raters, each pair judged by :data:`IN_COHORT_PER_PAIR`
    (a bank of ``2 n`` pairs at ``n`` judgments a rater, drawn afresh for each cohort), enough
    cohorts for ``n_raters`` raters.
    """
    key, planted, length_bias = plan
    scenario = SCENARIOS[key]
    label = f"{planted}; in a cohort ({IN_COHORT_RATERS} raters, {IN_COHORT_PER_PAIR} a pair)"
    cohorts = max(1, -(-n_raters // IN_COHORT_RATERS))
    rows: list[Row] = []
    for n in sizes:
        s = cell_seed(seed, "in-cohort", key, planted, n)
        objs: list[dict] = []
        for c in range(cohorts):
            # each cohort its own bank: a cell is not one small bank's draw
            bank, features = banks.fresh(scenario.bank, IN_COHORT_RATERS * n // IN_COHORT_PER_PAIR, s + c)
            prepared = simulate(scenario, bank, features, IN_COHORT_RATERS, n, s + c, length_bias=length_bias)
            objs += build_report(prepared, n_boot=N_BOOT)["raters"]
        m = len(objs)

        def add(table: str, k: int, m: int = m, **kw: Any) -> None:
            rows.append(Row(table, scenario.label, label, n, k, m, "raters", s, **kw))  # noqa: B023

        at_most_10 = {"target": "<= 10%", "check": at_most(0.10)}
        if length_bias == 0:
            longer = sum(_toward(o, "length") for o in objs)
            add("longer", longer, **(at_most_10 if key == "confound" else {}))
            any_line = sum(any(bool(lookup(o, "significant", effect=e)) for e in EFFECTS) for o in objs)
            add("any", any_line, **(at_most_10 if n == 200 else {}))
        else:
            found = sum(_toward(o, "length") for o in objs)
            goal = {30: 0.50, 100: 0.90}.get(n)
            tgt = {"target": f">= {goal:.0%}", "check": at_least(goal)} if goal else {}
            add("power_length", found, **tgt)
        planted_or = float(np.exp(length_bias))
        covered = [c for c in (_covers(o, "length", planted_or) for o in objs) if c is not None]
        rows.append(
            Row(
                "coverage",
                scenario.label,
                f"length OR {np.exp(length_bias):.3g}; in a cohort",
                n,
                sum(covered),
                len(covered),
                "raters",
                s,
                "92%-98%",
                between(0.92, 0.98),
            )
        )
    return rows


def cohort_rows(banks: Banks, n_cohorts: int, seed: int, sizes: Iterable[int]) -> list[Row]:
    """Cohorts of unbiased raters: the pooled length verdict of the cohort report."""
    rows = []
    for key in ("confound", "model"):
        scenario = SCENARIOS[key]
        bank, features = banks.get(scenario.bank, COHORT_BANK)
        for n in sizes:
            s = cell_seed(seed, "cohort", key, n)
            called = 0
            for c in range(n_cohorts):
                prepared = simulate(scenario, bank, features, COHORT_RATERS, n, s + c)
                cohort = build_report(prepared, n_boot=N_BOOT)["cohort"]
                called += _toward(cohort, "length")
            rows.append(
                Row(
                    "cohort",
                    scenario.label,
                    f"none ({COHORT_RATERS} raters, {COHORT_BANK} pairs)",
                    n,
                    called,
                    n_cohorts,
                    "cohorts",
                    s,
                    "<= 10%",
                    at_most(0.10),
                )
            )
    return rows


def audit_rows(banks: Banks, n_cohorts: int, seed: int, sizes: Iterable[int]) -> list[Row]:
    """Gold audit on cohorts with 8% wrong golds: flags on correct golds, of all flags."""
    rows = []
    for kind, label, targeted in (
        ("spread", "ordinary easiness spread (sd 0.6)", True),
        ("llmbar", "LLMBar-like strata (hard pairs below a coin for some)", False),
    ):
        bank, features = banks.get(kind, AUDIT_BANK)
        rng = np.random.default_rng(cell_seed(seed, "audit-bank", kind))
        wrong = rng.random(len(bank)) < AUDIT_WRONG
        seen = bank.assign(gold=np.where(wrong, np.where(bank["gold"] == "A", "B", "A"), bank["gold"]))
        wrong_ids = set(bank["id"].astype(str)[wrong])
        scenario = replace(SCENARIOS["people"], label=label)
        for n in sizes:
            s = cell_seed(seed, "audit", kind, n)
            flags = false = found = 0
            for c in range(n_cohorts):
                prepared = simulate(
                    scenario, bank, features, AUDIT_RATERS, min(n, len(bank)), s + c, judged_bank=seen
                )
                audit = lookup(build_report(prepared, n_boot=N_BOOT)["cohort"], "gold_audit")
                ids = {str(r["pair_id"]) for r in audit}
                flags += len(ids)
                false += len(ids - wrong_ids)
                found += len(ids & wrong_ids)
            per_pair = AUDIT_RATERS * min(n, len(bank)) / len(bank)
            rows.append(
                Row(
                    "audit",
                    label,
                    f"{wrong.sum()} wrong of {len(bank)}; {per_pair:.0f} raters a pair",
                    n,
                    false,
                    flags,
                    "flags",
                    s,
                    *(("<= 10%", at_most(0.10)) if targeted else ("", None)),
                    empty="yes (no flags)",
                )
            )
            rows.append(
                Row(
                    "audit_power",
                    label,
                    f"{wrong.sum()} wrong of {len(bank)}; {per_pair:.0f} raters a pair",
                    n,
                    found,
                    int(wrong.sum()) * n_cohorts,
                    "wrong golds",
                    s,
                )
            )
    return rows


def leaderboard_rows(banks: Banks, n_cohorts: int, seed: int, sizes: Iterable[int]) -> list[Row]:
    """Leaderboard rows of people-like cohorts: interval that misses the shown score or passes 1."""
    rows = []
    scenario = SCENARIOS["people"]
    bank, features = banks.get(scenario.bank)
    for n in sizes:
        s = cell_seed(seed, "leaderboard", n)
        bad = total = 0
        for c in range(n_cohorts):
            prepared = simulate(scenario, bank, features, LEADERBOARD_RATERS, n, s + c)
            board = lookup(build_report(prepared, n_boot=N_BOOT)["cohort"], "leaderboard")
            for row in board:
                if row.get(LEADERBOARD_SCORE) is None:
                    continue
                low_col, high_col = interval_columns(row)
                low, high, shown = row[low_col], row[high_col], row[LEADERBOARD_SCORE]
                total += 1
                bad += bool(low is None or high is None or not (low <= shown <= high) or high > 1)
        rows.append(Row("leaderboard", scenario.label, "none", n, bad, total, "rows", s, "0", zero))
    return rows


# ----------------------------------------------------------------------------- output


def render(rows: list[Row], header: str) -> str:
    """One Markdown table per measure, rows by scenario and n."""
    out = [header]
    for table, title in TITLES.items():
        mine = [r for r in rows if r.table == table]
        if not mine:
            continue
        out += [
            "",
            f"### {title}",
            "",
            "| scenario | planted | n | share (95% MC interval) | of | seed | target | met |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for r in mine:
            cell = share(r.k, r.m, ".1%") if r.m else "none of 0"
            cells = [r.scenario, r.planted, str(r.n), cell, f"{r.m} {r.unit}", str(r.seed), r.target, r.met]
            out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def summary(rows: list[Row]) -> str:
    """Targets met, of the rows that carry one."""
    judged = [r for r in rows if r.check is not None]
    met = sum(r.met.startswith("yes") for r in judged)
    lines = [f"Targets met in {met} of {len(judged)} cells."]
    for table, title in TITLES.items():
        mine = [r for r in judged if r.table == table]
        if mine:
            lines.append(f"* {title}: {sum(r.met.startswith('yes') for r in mine)} of {len(mine)}")
    return "\n".join(lines)


def write_section(path: Path, text: str) -> None:
    """Replace what lies between the markers of ``path`` with ``text``."""
    doc = path.read_text()
    if BEGIN not in doc or END not in doc:
        raise SystemExit(f"{path} has no {BEGIN} ... {END} markers")
    head, rest = doc.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    path.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}")


def _progress(done: str, began: float) -> None:
    print(f"{done} done: {time.monotonic() - began:.0f} s", file=sys.stderr, flush=True)


def _task(name: str, seed: int, bank_pairs: int, n_raters: int, n_cohorts: int, plan=None):
    """One independent part of :func:`run`: its rows and the processor seconds it took."""
    began = time.process_time()
    banks = Banks(seed, bank_pairs)
    few = max(1, n_cohorts // 4)
    if name == "per-rater":
        rows = per_rater_rows(banks, n_raters, seed, SIZES, [plan])
    elif name == "in-cohort":
        rows = in_cohort_rows(banks, n_raters, seed, SIZES, plan)
    elif name == "cohort":
        rows = cohort_rows(banks, n_cohorts, seed, SIZES)
    elif name == "audit":
        rows = audit_rows(banks, few, seed, SIZES)
    else:
        rows = leaderboard_rows(banks, few, seed, LEADERBOARD_SIZES)
    return rows, time.process_time() - began


def run(
    n_raters: int, n_cohorts: int, seed: int, *, quick: bool = False, jobs: int = 1
) -> tuple[list[Row], float]:
    """Every row of every table, and the processor seconds it took (summed over ``jobs`` processes).

    The parts are independent and each seeds its own cells, so the tables are
    the same whatever ``jobs`` is.
    """
    bank_pairs = 400 if quick else BANK_PAIRS
    tasks: list[tuple[str, Any]] = [("per-rater", plan) for plan in per_rater_plans()]
    tasks += [("in-cohort", plan) for plan in in_cohort_plans()]
    tasks += [("cohort", None), ("audit", None), ("leaderboard", None)]
    args = [(name, seed, bank_pairs, n_raters, n_cohorts, plan) for name, plan in tasks]
    began = time.monotonic()
    with ProcessPoolExecutor(jobs) if jobs > 1 else contextlib.nullcontext() as pool:
        # in order, each as it is ready: from the workers, or run here one by one
        outcomes = (
            (future.result() for future in [pool.submit(_task, *a) for a in args])
            if pool is not None
            else (_task(*a) for a in args)
        )
        results = []
        for (name, plan), outcome in zip(tasks, outcomes, strict=True):
            results.append(outcome)
            _progress(name if plan is None else f"{name} {plan[0]} {plan[1]}", began)
    rows = [row for part, _ in results for row in part]
    return rows, sum(took for _, took in results)


def main(argv: list[str] | None = None) -> None:
    """Print the tables; ``--write`` regenerates VALIDITY.md's section, ``--quick`` writes bench/out/."""
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    p.add_argument("--raters", type=int, default=1000, help="simulated raters a per-rater cell (1000)")
    p.add_argument("--cohorts", type=int, default=80, help="simulated cohorts a cohort cell (default 80)")
    p.add_argument("--seed", type=int, default=12)
    p.add_argument("--quick", action="store_true", help="tiny sizes (a smoke test), to bench/out/")
    p.add_argument("--write", action="store_true", help="regenerate VALIDITY.md between its markers")
    p.add_argument("--out", type=Path, help="also write the tables to this file")
    p.add_argument("--jobs", type=int, default=1, help="worker processes (the tables do not depend on it)")
    args = p.parse_args(argv)
    if args.quick:
        args.raters, args.cohorts = 6, 4
    rows, took = run(args.raters, args.cohorts, args.seed, quick=args.quick, jobs=args.jobs)
    header = (
        f"Generated by `python bench/validity.py{' --quick' if args.quick else ''}` "
        f"({args.raters} simulated raters a per-rater cell; {args.cohorts} cohorts a cohort cell, "
        f"{max(1, args.cohorts // 4)} for the gold audit and the leaderboard; seed {args.seed}; "
        f"{took / 60:.1f} min of processor time).\n\n{summary(rows)}"
    )
    text = render(rows, header)
    print(text)
    if args.quick:
        QUICK_OUT.parent.mkdir(parents=True, exist_ok=True)
        QUICK_OUT.write_text(text)
        print(f"written to {QUICK_OUT}", file=sys.stderr)
    elif args.write:
        write_section(VALIDITY, text)
        print(f"written to {VALIDITY}", file=sys.stderr)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)


if __name__ == "__main__":
    main()
