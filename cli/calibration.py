"""The ``python -m calibration`` command line, for judgments collected anywhere.

::

    python -m calibration report --bank BANK --judgments J.csv [--rater ID] --format json|md|html [--out FILE]
    python -m calibration leaderboard --bank BANK --judgments J.csv --format csv|json [--out FILE]
    python -m calibration effect --bank BANK --judgments J.csv [--format json|csv|md] [--out FILE]
    python -m calibration simulate --bank BANK --out J.csv [--raters N] [--per-rater N] [--seed S]
        [--length-bias OR] [--polish-bias OR] [--position-bias OR] [--confidence-scale G]

With ``--judgments`` the bank is a file (any format ``python -m pairs`` reads).
Without it the judgments come from the app's database (``--db URL``, default
``PAIRCAL_DB_URL`` or ``data/paircal.db``) and ``--bank`` names a bank there.

Exit codes: 0 success; 1 the input has problems (each printed to stderr as
``FILE:LINE: field: message``); 2 a file cannot be read or the command line is wrong.
"""

from __future__ import annotations

import argparse
import math
import sys

import pandas as pd

from calibration.agreement import N_BOOT
from calibration.leaderboard import MIN_RANKED, PRIOR_JUDGMENTS
from pairs.errors import InputError, Problem
from pairs.export import count_of, csv_text
from pairs.files import atomic_write
from pairs.judgments import read_judgments
from pairs.judgments import to_csv as judgments_to_csv
from pairs.names import printable_output

EXIT_OK, EXIT_INVALID, EXIT_UNREADABLE = 0, 1, 2


def main(argv: list[str] | None = None) -> int:
    """Run a command and return its exit code (never a traceback for bad input).

    Parameters
    ----------
    argv : list of str, optional
        The arguments after ``python -m calibration`` (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 success; 1 the input has problems (each printed to stderr as
        ``FILE:LINE: field: message``); 2 a file cannot be read or the command
        line is wrong. Everything it prints has its control characters escaped
        (:func:`pairs.names.printable`), so no rater name can drive the terminal.
    """
    with printable_output():
        return _main(argv)


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else EXIT_UNREADABLE
    try:
        return args.run(args)
    except InputError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        print(f"not valid: {len(error.problems)} problem(s); nothing written", file=sys.stderr)
        return EXIT_INVALID
    except OSError as error:
        where = f"{error.filename}: " if error.filename else ""
        print(f"error: {where}{error.strerror or error}", file=sys.stderr)
        return EXIT_UNREADABLE


def load_inputs(args: argparse.Namespace, *, repeats: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The bank and the judgments, from files or from the database.

    Parameters
    ----------
    args : argparse.Namespace
        ``bank`` and ``judgments`` (files), or ``bank``, ``db`` and ``cohort``
        (the database, when ``judgments`` is not given).
    repeats : bool, default False
        Keep later answers to a pair a rater had answered (the probes' swap
        figure needs them); by default only first answers, which every other
        statistic counts.

    Returns
    -------
    bank : DataFrame
        The pairs.
    judgments : DataFrame
        The judgments, checked against the bank's pair ids.

    Raises
    ------
    InputError
        When a file has problems, or the database has no such bank or no judgments on it.
    """
    from calibration.data import first_answers
    from pairs.importers import read_bank

    if args.judgments:
        bank = read_bank(args.bank, getattr(args, "bank_format", "auto"))
        judgments = read_judgments(args.judgments, pair_ids=bank["id"])
        # as the database counts: a repeat counts in no statistic (the swap figure reads them apart)
        return bank, judgments if repeats else first_answers(judgments)
    store = _store(args)
    try:
        bank = store.load_bank(args.bank)
    except KeyError:
        known = ", ".join(store.bank_names()) or "none"
        raise InputError(
            [Problem(store.url_for_display, None, "bank", f"no bank named {args.bank!r} (banks: {known})")]
        ) from None
    judgments = store.cohort_judgments(bank=args.bank, cohort=args.cohort, repeats=repeats)
    if judgments.empty:
        raise InputError(
            [Problem(store.url_for_display, None, "judgments", f"no judgments on bank {args.bank!r}")]
        )
    return bank, judgments


def _prepared(args: argparse.Namespace) -> pd.DataFrame:
    from calibration.data import prepare

    bank, judgments = load_inputs(args)
    return prepare(bank, judgments)


def _write(args: argparse.Namespace, text: str) -> None:
    if args.out:
        atomic_write(args.out, [text])
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


def cmd_report(args: argparse.Namespace) -> int:
    """Write the bias and calibration report of one rater or a whole cohort.

    Where the bank's pairs have a ``domain``, the report has the figures per
    track (:func:`calibration.tracks.track_accuracy`) for every rater and the cohort.
    Every answer, repeats included, goes to the report for the probes' swap
    figure; all other statistics count first answers only.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line (see :func:`build_parser`).

    Returns
    -------
    int
        0; problems in the input are raised as InputError, which :func:`main` makes exit 1.
    """
    from calibration.data import first_answers, prepare
    from calibration.report import FORMATS, build_report
    from calibration.tracks import bank_domains

    bank, answers = load_inputs(args, repeats=True)
    prepared = prepare(bank, first_answers(answers))
    if args.rater is not None and args.rater not in set(prepared["rater"]):
        source = args.judgments or "the database"
        raise InputError([Problem(str(source), None, "rater", f"no judgments by rater {args.rater!r}")])
    report = build_report(
        prepared,
        rater=args.rater,
        n_boot=args.bootstrap,
        simulated=_simulated(args),
        domains=bank_domains(bank),  # None for a bank without domains: no track figures
        answers=answers,  # repeats included: the swap figure of the probes
    )
    _write(args, FORMATS[args.format](report))
    return EXIT_OK


def cmd_effect(args: argparse.Namespace) -> int:
    """Write the training effect: the change between assessment forms, per rater and for the cohort.

    The judgments need a ``form`` column (``pre``, ``post``, ``retention``, or
    empty for a drill answer, which is left out). A pair answered again in a
    later form counts in each form (:func:`calibration.data.first_answers`).

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line (see :func:`build_parser`).

    Returns
    -------
    int
        0; a file without a ``form`` column, or without answers in both the pre
        and the post form, is an InputError, which :func:`main` makes exit 1.
    """
    from calibration.data import first_answers, prepare
    from calibration.effect import effect_table, training_effect
    from calibration.render import effect_markdown
    from calibration.report import _clean, to_json

    bank, answers = load_inputs(args, repeats=True)
    source = str(args.judgments or "the database")
    if "form" not in answers.columns:
        raise InputError(
            [
                Problem(
                    source,
                    1 if args.judgments else None,
                    "form",
                    "missing column: the training effect needs each answer's assessment form "
                    "(pre, post, retention, or empty for a drill answer)",
                )
            ]
        )
    counts = answers["form"].value_counts()
    missing = [stage for stage in ("pre", "post") if not counts.get(stage, 0)]
    if missing:
        found = ", ".join(f"{stage or 'drill'} {int(n)}" for stage, n in counts.items())
        raise InputError(
            [
                Problem(
                    source,
                    None,
                    "form",
                    f"no answers in the {' or the '.join(missing)} form (answers by form: {found}); "
                    "the training effect compares the pre and the post form",
                )
            ]
        )
    effect = training_effect(prepare(bank, first_answers(answers)), confidence=args.confidence)
    if args.format == "csv":
        text = csv_text(effect_table(effect), decimals=4)
    elif args.format == "md":
        text = "\n".join(["# PairCal training effect", "", *effect_markdown(effect)])
    else:
        text = to_json(_clean(effect))
    _write(args, text)
    return EXIT_OK


def _simulated(args: argparse.Namespace) -> set[str]:
    """Raters to label simulated: ``--simulated``, and with the database its ``raters.simulated`` marks."""
    named = {name.strip() for name in (args.simulated or "").split(",") if name.strip()}
    if args.judgments:
        return named
    return named | _store(args).simulated_raters(cohort=args.cohort)


def _store(args: argparse.Namespace):
    """The database named by ``--db`` (default ``PAIRCAL_DB_URL``), opened once per command."""
    if getattr(args, "store", None) is None:
        from storage.store import Store

        args.store = Store(args.db)
    return args.store


def cmd_leaderboard(args: argparse.Namespace) -> int:
    """Write the leaderboard, as CSV (:func:`pairs.export.csv_text`: no cell a spreadsheet would run) or JSON.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line (see :func:`build_parser`).

    Returns
    -------
    int
        0; problems in the input are raised as InputError, which :func:`main` makes exit 1.
    """
    from calibration.leaderboard import leaderboard

    board = leaderboard(_prepared(args), k=args.prior, min_n=args.min_n)
    if args.format == "csv":
        text = csv_text(board, decimals=4)
    else:
        text = board.to_json(orient="records", indent=2)
    _write(args, text)
    return EXIT_OK


def cmd_simulate(args: argparse.Namespace) -> int:
    """Write the judgments of simulated raters with the planted skill and biases as a CSV.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line (see :func:`build_parser`).

    Returns
    -------
    int
        0; problems in the input are raised as InputError, which :func:`main` makes exit 1.
    """
    from calibration.simulate import RaterSpec, simulate_judgments
    from pairs.importers import read_bank

    bank = read_bank(args.bank, "auto")
    width = len(str(args.raters))
    raters = [
        RaterSpec(
            rater=f"sim-{i + 1:0{width}d}",
            skill=args.skill,
            length_bias=math.log(args.length_bias),
            polish_bias=math.log(args.polish_bias),
            position_bias=math.log(args.position_bias),
            confidence_scale=args.confidence_scale,
        )
        for i in range(args.raters)
    ]
    judgments = simulate_judgments(bank, raters, n_per_rater=args.per_rater, seed=args.seed)
    atomic_write(args.out, [judgments_to_csv(judgments)])
    print(
        f"wrote {count_of(len(judgments), 'simulated judgment')} by {count_of(args.raters, 'rater')} "
        f"to {args.out}",
        file=sys.stderr,
    )
    return EXIT_OK


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def _inputs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--bank",
        required=True,
        metavar="BANK",
        help="bank file (with --judgments) or bank name in the database",
    )
    parser.add_argument("--judgments", metavar="J.csv", help="judgments CSV; without it, read the database")
    parser.add_argument(
        "--db", metavar="URL", help="database URL (default: PAIRCAL_DB_URL, else data/paircal.db)"
    )
    parser.add_argument("--cohort", metavar="NAME", help="with the database: only this cohort's judgments")
    parser.add_argument("--out", metavar="FILE", help="write here (atomically) instead of standard output")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m calibration``: report, leaderboard, simulate.

    Defaults shared with the library are the library's own constants
    (``--prior``, ``--min-n``, ``--bootstrap``).

    Returns
    -------
    argparse.ArgumentParser
        Parsed arguments carry ``run``, the command's function.
    """
    parser = argparse.ArgumentParser(
        prog="python -m calibration",
        description="Measure raters' length, polish and position bias and confidence calibration "
        "against gold.",
        epilog="Exit codes: 0 success, 1 the input has problems, 2 unreadable file or bad usage.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "report",
        help="bias and calibration report for one rater or a whole cohort",
        description="Per rater: accuracy, length/polish/position odds ratios with 95% CIs and p-values, "
        "plain "
        "rates, calibration (Brier and its decomposition, log score, ECE, overconfidence, reliability bins), "
        "Krippendorff's alpha against gold, accuracy per trap kind. Without --rater, also the cohort: pooled "
        "bias, cohort alpha, leaderboard, gold audit. JSON gives one object with --rater, else "
        '{"raters": [...], "cohort": {...}}; HTML is one self-contained file with inline SVG charts.',
    )
    _inputs(p)
    p.add_argument("--rater", metavar="ID", help="report only this rater")
    p.add_argument(
        "--simulated",
        metavar="NAMES",
        help="comma-separated raters to label as simulated, e.g. those `simulate` wrote (with the database, "
        "raters it marks simulated are labelled anyway)",
    )
    p.add_argument("--format", choices=["json", "md", "html"], default="json")
    p.add_argument(
        "--bootstrap",
        type=int,
        default=N_BOOT,
        metavar="N",
        help=f"resamples for alpha CIs (default {N_BOOT})",
    )
    p.set_defaults(run=cmd_report)

    p = sub.add_parser(
        "leaderboard",
        help="rank raters by a proper score of their confidence",
        description="Rank by Brier skill over the coin, shrunk toward the cohort mean by empirical Bayes "
        "(the cohort mean weighs at most --prior pseudo-judgments), with the 95% interval of the score "
        "shown; raters with fewer than --min-n scored judgments are listed unranked.",
    )
    _inputs(p)
    p.add_argument("--format", choices=["csv", "json"], default="csv")
    p.add_argument(
        "--prior",
        type=float,
        default=PRIOR_JUDGMENTS,
        metavar="K",
        help=f"most weight of the cohort mean, in judgments (default {PRIOR_JUDGMENTS})",
    )
    p.add_argument(
        "--min-n",
        type=int,
        default=MIN_RANKED,
        metavar="N",
        help=f"judgments needed to be ranked (default {MIN_RANKED})",
    )
    p.set_defaults(run=cmd_leaderboard)

    p = sub.add_parser(
        "effect",
        help="the training effect: change between the pre, post and retention assessment forms",
        description="Per rater and for the cohort, the change between assessment forms (column form: pre, "
        "post, retention) in accuracy, score, Brier skill, overconfidence and the length, polish and "
        'position odds ratios, with intervals, p-values and effect sizes. JSON: {"raters": {ID: '
        '{"effect": {MEASURE: {pre, post, change, ci_low, ci_high, p_value, significant, ...}}, '
        '"retention": ...}}, "cohort": {...}}; CSV: one row per rater, comparison and measure.',
    )
    _inputs(p)
    p.add_argument("--format", choices=["json", "csv", "md"], default="json")
    p.add_argument(
        "--confidence", type=float, default=0.95, metavar="LEVEL", help="interval level (default 0.95)"
    )
    p.set_defaults(run=cmd_effect)

    p = sub.add_parser(
        "simulate",
        help="write judgments of simulated raters with planted biases (ids start with sim-)",
        description="Simulated raters answer BANK with the planted skill and biases; odds ratios are per "
        "doubling of length, per 0.5 normalized polish difference, and left over right.",
    )
    p.add_argument("--bank", required=True, metavar="BANK", help="bank file")
    p.add_argument("--out", required=True, metavar="J.csv")
    p.add_argument("--raters", type=int, default=20, metavar="N")
    p.add_argument("--per-rater", type=int, default=200, metavar="N")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--skill", type=float, default=1.5, help="log odds of picking gold (default 1.5)")
    p.add_argument("--length-bias", type=_positive_float, default=1.0, metavar="OR")
    p.add_argument("--polish-bias", type=_positive_float, default=1.0, metavar="OR")
    p.add_argument("--position-bias", type=_positive_float, default=1.0, metavar="OR")
    p.add_argument(
        "--confidence-scale",
        type=_positive_float,
        default=1.0,
        metavar="G",
        help=">1 overconfident, <1 under",
    )
    p.set_defaults(run=cmd_simulate)
    return parser


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
