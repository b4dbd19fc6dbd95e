"""The ``python -m pairs`` command line: a thin layer over :mod:`pairs.importers` and :mod:`pairs.balance`.

Bank files::

    python -m pairs validate FILE [--from FORMAT | --map BANK=COLUMN,... [--gold-values A=V,...]]
    python -m pairs convert INPUT [--from FORMAT | --map ...] --out BANK.jsonl [--skip-invalid --rejects R]
    python -m pairs stats FILE [--from FORMAT] [--json]
    python -m pairs derive BANK [--from FORMAT] [--kinds polish,padding] [--seed N] --out PROBES.jsonl

The database (``--db URL``, default ``PAIRCAL_DB_URL`` or ``data/paircal.db``)::

    python -m pairs import FILE --bank NAME [--from FORMAT | --map ...] [--skip-invalid --rejects R]
    python -m pairs export --bank NAME --out BANK.jsonl
    python -m pairs judgments import FILE --bank NAME [--cohort NAME] [--from FORMAT] [--skip-invalid ...]
    python -m pairs judgments export --out J.csv [--bank NAME] [--cohort NAME]
    python -m pairs store export DIR
    python -m pairs store import DIR
    python -m pairs accounts set-password --cohort NAME --rater NAME [--stdin]
    python -m pairs cohort create NAME [--bank NAME] [--drill-size N]
    python -m pairs cohort invite-lead NAME

Exit codes: 0 success; 1 the input has problems (every one printed to stderr as
``FILE:LINE: field: message``, one per line, and a one-line summary to stdout);
2 a file cannot be read or written, or the command line is wrong.

Adding a command: write ``_add_<name>(subparsers)`` that adds a subparser with
``set_defaults(run=<function taking the parsed args and returning an exit code>)``
and list it in :data:`COMMANDS`. :func:`main` turns :class:`~pairs.errors.InputError`
into exit 1 and ``OSError`` into exit 2 for every command.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import secrets
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from pairs.balance import MIN_TRAPS, SHARE_RANGE, balance_problems, bank_stats
from pairs.errors import InputError, Problem
from pairs.export import write_csv
from pairs.files import atomic_write
from pairs.importers import (
    FORMATS,
    JUDGMENT_FORMATS,
    Checked,
    ColumnMap,
    check_bank_file,
    check_judgments_file,
    read_bank,
)
from pairs.judgments import COLUMNS as JUDGMENT_COLUMNS
from pairs.judgments import read_judgments
from pairs.judgments import to_csv as judgments_to_csv
from pairs.names import printable_output
from pairs.probes import KINDS as PROBE_KINDS
from pairs.probes import SKIP_REASONS, derive_probes, probe_counts
from storage.backup import (
    InconsistentError,
    NotEmptyError,
    bank_jsonl_lines,
    export_store,
    import_store,
    json_ready,
)
from storage.store import IMPORTED_COHORT, Store

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_UNREADABLE = 2

FORMAT_HELP = {
    "auto": "decide by the file name and the keys of the first record (default)",
    "jsonl": "native bank, one pair per line",
    "csv": "native columns with a header row",
    "llmbar": "LLMBar JSON list {input, output_1, output_2, label}",
    "chosen-rejected": "preference pairs {prompt, chosen, rejected} or HH-RLHF dialogues",
    "mt-bench": "MT-Bench human judgments, several votes per pair",
    "pandalm": "PandaLM rows {instruction, input, response1, response2, annotator1..3}; majority gold",
    "arena": "Chatbot Arena battles: conversation_a/_b or prompt/response_a/response_b, and the winner",
    "label-studio": "Label Studio JSON export of pairwise comparisons (data and annotations)",
    "argilla": "Argilla preference records {fields, responses}",
}


def main(argv: list[str] | None = None) -> int:
    """Run a command and return its exit code (never raises for bad input or files).

    Parameters
    ----------
    argv : list of str, optional
        The arguments after ``python -m pairs`` (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 success; 1 the input has problems (each printed to stderr); 2 a file
        cannot be read or written, or the command line is wrong. Everything it
        prints has its control characters escaped (:func:`pairs.names.printable`).
    """
    with printable_output():  # no name, cell or file name it quotes can drive the terminal
        return _main(argv)


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help, or a usage error already explained by argparse
        return stop.code if isinstance(stop.code, int) else EXIT_UNREADABLE
    try:
        return args.run(args)
    except InputError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        out = getattr(args, "out", None)
        nothing = f"; nothing written to {out}" if out else ""
        subject = getattr(args, "file", None) or "input"
        print(f"{subject}: not valid, {_count(len(error.problems), 'problem')}{nothing}")
        return EXIT_INVALID
    except OSError as error:
        print(f"error: {_describe(error)}", file=sys.stderr)
        return EXIT_UNREADABLE


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one subparser per entry of :data:`COMMANDS`.

    Returns
    -------
    argparse.ArgumentParser
        Parsed arguments carry ``run``, the command's function.
    """
    parser = _Parser(
        prog="python -m pairs",
        description="Check, convert and summarize banks of response pairs for PairCal.",
        epilog="Exit codes: 0 success, 1 the input has problems, 2 unreadable file or bad usage.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in COMMANDS:
        add(subparsers)
    return parser


# --------------------------------------------------------------------------- commands


def cmd_validate(args: argparse.Namespace) -> int:
    """Check a bank file; print a summary, and every problem to stderr.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line (see :func:`build_parser`).

    Returns
    -------
    int
        The exit code, 0; problems are raised as InputError, which :func:`main` makes exit 1.
    """
    if usage := _usage_problem(args):
        return _usage(usage)
    bank = _checked_bank(args).all_rows()
    gold = bank["gold"].value_counts()
    print(
        f"{args.file}: valid, {_count(len(bank), 'pair')} ({bank.attrs['format']}); "
        f"gold A {gold.get('A', 0)}, B {gold.get('B', 0)}, tie {gold.get('tie', 0)}{_no_rationale(bank)}"
    )
    return EXIT_OK


def cmd_convert(args: argparse.Namespace) -> int:
    """Import a file in any format and write it as a native JSONL bank.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line (see :func:`build_parser`).

    Returns
    -------
    int
        The exit code: 0.
    """
    if usage := _usage_problem(args):
        return _usage(usage)
    checked = _checked_bank(args)
    bank = _rows(checked, args)
    write_bank_jsonl(bank, args.out)
    print(
        f"{args.file}: wrote {_count(len(bank), 'pair')} ({checked.format}) to {args.out}"
        f"{_refused(checked, args)}{_skipped(checked)}{_no_rationale(bank)}"
    )
    return EXIT_OK


def cmd_stats(args: argparse.Namespace) -> int:
    """Print counts by gold, tag and domain and the balance figures of a bank.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line (see :func:`build_parser`).

    Returns
    -------
    int
        The exit code: 0.
    """
    bank = read_bank(args.file, args.fmt)
    stats = bank_stats(bank)
    problems = balance_problems(stats)
    if args.json:
        report = {"file": str(args.file), "format": bank.attrs["format"], **stats}
        print(json.dumps(_json_ready({**report, "balance_problems": problems}), indent=2))
    else:
        print(format_stats(stats, problems, title=f"{args.file} ({bank.attrs['format']})"))
    return EXIT_OK


def cmd_derive(args: argparse.Namespace) -> int:
    """Derive counterfactual probes from a bank file and write them as a native JSONL bank.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line (see :func:`build_parser`).

    Returns
    -------
    int
        The exit code: 0 when probes were written, 1 when no pair could be a base
        (nothing is written); a bank with problems is raised as InputError (exit 1).
    """
    bank = read_bank(args.file, args.fmt)
    probes = derive_probes(bank, args.kinds, seed=args.seed)
    skipped = probes.attrs["skipped"]
    made = probe_counts(probes)
    lines = []
    for kind in args.kinds:
        reasons = skipped[kind]
        why = ", ".join(
            f"{n} {SKIP_REASONS[reason]}" for reason, n in sorted(reasons.items(), key=lambda r: -r[1])
        )
        skips = f"; {_count(sum(reasons.values()), 'base pair')} skipped: {why}" if reasons else ""
        lines.append(f"  {kind}: {_count(made.get(kind, 0), 'probe')}{skips}")
    if probes.empty:
        print(f"{args.file}: no probe could be derived from {_count(len(bank), 'pair')}; nothing written")
        print("\n".join(lines))
        return EXIT_INVALID
    write_bank_jsonl(probes, args.out)
    counts = ", ".join(f"{kind} {made.get(kind, 0)}" for kind in args.kinds)
    print(
        f"{args.file}: wrote {_count(len(probes), 'probe')} ({counts}) from {_count(len(bank), 'pair')} "
        f"to {args.out} (seed {args.seed})"
    )
    print("\n".join(lines))
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    """Validate a bank file and add its pairs to a bank in the database, all or nothing.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line (see :func:`build_parser`).

    Returns
    -------
    int
        The exit code: 0.
    """
    from storage.store import BankRefused

    if usage := _usage_problem(args):
        return _usage(usage)
    checked = _checked_bank(args)
    bank = _rows(checked, args)
    try:
        counts = Store(args.db).import_bank(args.bank, bank, source_file=Path(args.file).name[-500:])
    except BankRefused as refused:
        why = (
            "is read-only"
            if refused.reason == "read-only"
            else "belongs to a cohort (its lead imports into it)"
        )
        print(f"error: bank {args.bank!r} {why}; import under another name", file=sys.stderr)
        return EXIT_INVALID
    print(
        f"{args.file}: bank {args.bank!r}: {_count(counts['added'], 'pair')} added, "
        f"{counts['updated']} updated, "
        f"{counts['unchanged']} unchanged{_refused(checked, args)}{_skipped(checked)}{_no_rationale(bank)}"
    )
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    """Write a bank from the database as native JSONL.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line (see :func:`build_parser`).

    Returns
    -------
    int
        The exit code: 0.
    """
    bank = _stored_bank(Store(args.db), args.bank)
    write_bank_jsonl(bank, args.out)
    print(f"bank {args.bank!r}: wrote {_count(len(bank), 'pair')} to {args.out}")
    return EXIT_OK


def cmd_judgments_import(args: argparse.Namespace) -> int:
    """Validate a judgments CSV against a stored bank and store it in one transaction.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line (see :func:`build_parser`).

    Returns
    -------
    int
        The exit code: 0.
    """
    if usage := _usage_problem(args):
        return _usage(usage)
    store = Store(args.db)
    bank = _stored_bank(store, args.bank)
    as_csv = args.fmt == "csv" or (args.fmt == "auto" and Path(args.file).suffix.lower() == ".csv")
    checked: Checked | None = None
    if as_csv and not args.skip_invalid:  # the judgments CSV, read as it always was
        frame = read_judgments(args.file, pair_ids=bank["id"])
    else:
        data = Path(args.file).read_bytes()
        checked = check_judgments_file(data, args.file, args.fmt, pair_ids=bank["id"])
        frame = _rows(checked, args).drop(columns="line")
    counts = store.import_judgments(frame, bank=args.bank, cohort=args.cohort, source=args.file)
    print(
        f"{args.file}: {_count(counts['added'], 'judgment')} imported, "
        f"{counts['already_present']} already present"
        + ("" if checked is None else f"{_refused(checked, args)}{_skipped(checked)}")
    )
    return EXIT_OK


def cmd_judgments_export(args: argparse.Namespace) -> int:
    """Write judgments from the database as CSV.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line (see :func:`build_parser`).

    Returns
    -------
    int
        The exit code: 0.
    """
    frame = Store(args.db).export_judgments(bank=args.bank, cohort=args.cohort)
    atomic_write(args.out, [judgments_to_csv(frame)])
    print(f"wrote {_count(len(frame), 'judgment')} to {args.out}")
    return EXIT_OK


def cmd_store_export(args: argparse.Namespace) -> int:
    """Write the whole store to a new directory of plain files.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line (see :func:`build_parser`).

    Returns
    -------
    int
        The exit code: 0.
    """
    counts = export_store(Store(args.db), args.out)
    print(f"wrote {_summary(counts)} to {args.out}")
    return EXIT_OK


def cmd_store_import(args: argparse.Namespace) -> int:
    """Import a directory written by ``store export`` into an empty database, all or nothing.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line (see :func:`build_parser`).

    Returns
    -------
    int
        The exit code: 0 imported, 1 the directory has problems or contradicts itself,
        2 the database is not empty.
    """
    store = Store(args.db)
    try:
        counts = import_store(store, args.file)
    except NotEmptyError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_UNREADABLE
    except InconsistentError as error:  # e.g. two rows with one key: nothing imported
        print(f"{args.file}: not consistent, nothing imported: {error}", file=sys.stderr)
        return EXIT_INVALID
    print(f"{args.file}: imported {_summary(counts)} into {store.url_for_display}")
    if counts["raters"]:
        print(
            "No passwords were imported: give each person a new one with "
            "python -m pairs accounts set-password --cohort NAME --rater NAME"
        )
    return EXIT_OK


def cmd_accounts_set_password(args: argparse.Namespace) -> int:
    """Give a rater a new password: a random temporary one printed once, or one read from stdin.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line (see :func:`build_parser`).

    Returns
    -------
    int
        The exit code: 0 set, 1 no such rater or the password is refused.
    """
    from training.accounts import AccountError, set_password

    if args.stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = secrets.token_urlsafe(12)
    try:
        rater = set_password(Store(args.db), args.cohort, args.rater, password)
    except AccountError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INVALID
    who = f"{rater.name!r} in cohort {rater.cohort!r}"
    if args.stdin:
        print(f"password set for {who}")
    else:
        print(f"temporary password for {who} (shown only now; give it to them privately): {password}")
    return EXIT_OK


def cmd_cohort_create(args: argparse.Namespace) -> int:
    """Create a cohort with no lead yet and print a one-time invite for its lead.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line (see :func:`build_parser`).

    Returns
    -------
    int
        The exit code: 0 created, 1 the name is taken or the bank unknown.
    """
    from training.accounts import LEAD_INVITE_DAYS, AccountError, create_cohort_with_invite

    store = Store(args.db)
    store.ensure_starter_bank()  # as the app does when it starts: the default bank is there
    try:
        _, invite = create_cohort_with_invite(store, args.name, bank=args.bank, drill_size=args.drill_size)
    except AccountError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INVALID
    print(f"cohort {args.name.strip()!r} created on bank {args.bank!r}.")
    print(
        f"one-time lead invite (shown only now, valid {LEAD_INVITE_DAYS} days; the lead enters it under "
        f"'Join a cohort'): {invite}"
    )
    return EXIT_OK


def cmd_cohort_invite_lead(args: argparse.Namespace) -> int:
    """Print a new one-time invite to lead an existing cohort.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line (see :func:`build_parser`).

    Returns
    -------
    int
        The exit code: 0, or 1 when there is no such cohort.
    """
    from training.accounts import LEAD_INVITE_DAYS, AccountError, lead_invite

    store = Store(args.db)
    cohort_id = store.cohort_id(args.name)
    try:
        if cohort_id is None:
            raise AccountError(f"There is no cohort named {args.name!r}.")
        invite = lead_invite(store, cohort_id, by=None)
    except AccountError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INVALID
    print(
        f"one-time lead invite for cohort {args.name!r} "
        f"(shown only now, valid {LEAD_INVITE_DAYS} days): {invite}"
    )
    return EXIT_OK


def _checked_bank(args: argparse.Namespace) -> Checked:
    """The command's bank file read as ``--from``, or ``--map`` and ``--gold-values``, say."""
    columns = None
    if args.map is not None or args.gold_values is not None:
        columns = ColumnMap(
            args.map.columns if args.map is not None else {},
            args.gold_values.gold_values if args.gold_values is not None else {},
        )
    return check_bank_file(Path(args.file).read_bytes(), args.file, args.fmt, columns=columns)


def _usage_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with a command's import options taken together, or None."""
    if (getattr(args, "map", None) or getattr(args, "gold_values", None)) and args.fmt != "auto":
        return "--map and --gold-values read the file's own columns: leave out --from"
    skip, rejects = getattr(args, "skip_invalid", False), getattr(args, "rejects", None)
    if skip and not rejects:
        return "--skip-invalid needs --rejects FILE, the file the refused rows are written to"
    if rejects and not skip:
        return "--rejects is written only with --skip-invalid"
    return None


def _usage(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_UNREADABLE


def _rows(checked: Checked, args: argparse.Namespace) -> pd.DataFrame:
    """All of the file's rows, or nothing; with ``--skip-invalid`` the valid ones, once the
    refused ones are written to ``--rejects``."""
    if not getattr(args, "skip_invalid", False):
        return checked.all_rows()
    write_csv(args.rejects, checked.rejects())
    return checked.valid_rows()


def _refused(checked: Checked, args: argparse.Namespace) -> str:
    if not getattr(args, "skip_invalid", False):
        return ""
    return f"; {_count(len(checked.refused_lines), 'row')} refused (listed in {args.rejects})"


def _skipped(checked: Checked) -> str:
    why = {"repeat votes": " (a rater's first vote counts)"}
    parts = [f"{n} {what}{why.get(what, '')}" for what, n in sorted(checked.skipped.items()) if n]
    return f"; skipped {', '.join(parts)}" if parts else ""


def _no_rationale(bank: pd.DataFrame) -> str:
    """How many pairs have no expert reason to show after answering, when any."""
    n = int((bank["rationale"].fillna("").str.strip() == "").sum()) if len(bank) else 0
    return f"; {n} without a rationale (raters see no reason after answering)" if n else ""


def _summary(counts: dict[str, int]) -> str:
    return (
        f"{_count(counts['banks'], 'bank')} ({_count(counts['pairs'], 'pair')}), "
        f"{_count(counts['cohorts'], 'cohort')}, {_count(counts['raters'], 'rater')}, "
        f"{_count(counts['drill_items'], 'drill item')}, {_count(counts['judgments'], 'judgment')}, "
        f"{_count(counts['settings'], 'setting')}"
    )


def _stored_bank(store: Store, name: str) -> pd.DataFrame:
    try:
        return store.load_bank(name)
    except KeyError:
        known = ", ".join(store.bank_names()) or "none"
        raise InputError(
            [Problem(store.url_for_display, None, "bank", f"no bank named {name!r} (banks: {known})")]
        ) from None


def write_bank_jsonl(bank: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write ``bank`` as native JSONL atomically; on any error ``path`` is left as it was.

    Parameters
    ----------
    bank : DataFrame
        A bank with :data:`pairs.bank.COLUMNS`.
    path : str or path-like
        The file to write.
    """
    atomic_write(path, bank_jsonl_lines(bank))


def format_stats(stats: dict[str, Any], problems: list[str], *, title: str = "bank") -> str:
    """A readable table of :func:`pairs.balance.bank_stats` and its balance problems.

    Parameters
    ----------
    stats : dict
        As :func:`pairs.balance.bank_stats` returns it.
    problems : list of str
        As :func:`pairs.balance.balance_problems` returns them.
    title : str
        The first line's subject, e.g. the file name and format.

    Returns
    -------
    str
        Lines of text: gold counts, tags, domains, balance shares and traps, then
        which starter-bank requirements are not met.
    """
    gold = stats["gold"]
    low, high = (round(x * 100) for x in SHARE_RANGE)
    lines = [
        f"{title}: {_count(stats['pairs'], 'pair')}; gold A {gold['A']}, B {gold['B']}, tie {gold['tie']}",
        "",
        f"{'tag':<28}{'pairs':>7}",
        *(f"{tag:<28}{n:>7}" for tag, n in stats["tags"].items()),
        *([] if stats["tags"] else [f"{'(none)':<28}{0:>7}"]),
        "",
        f"{'domain':<28}{'pairs':>7}",
        *(f"{domain or '(none)':<28}{n:>7}" for domain, n in stats["domains"].items()),
        "",
        f"{'balance (decided pairs)':<28}{'share':>7}{'n':>6}   required",
    ]
    figures = {"shorter_gold": "shorter response is gold", "plainer_gold": "plainer response is gold"}
    for key, label in figures.items():
        figure = stats[key]
        share = "-" if math.isnan(figure["share"]) else f"{figure['share']:.1%}"
        lines.append(f"{label:<28}{share:>7}{figure['n']:>6}   {low}-{high}%")
    lines += ["", f"{'trap':<28}{'pairs':>7}   required"]
    lines += [f"{kind:<28}{n:>7}   >= {MIN_TRAPS}" for kind, n in stats["traps"].items()]
    lines.append("")
    if problems:
        lines.append(f"starter-bank requirements: {_count(len(problems), 'not met', plural='not met')}")
        lines += [f"  - {problem}" for problem in problems]
    else:
        lines.append("starter-bank requirements: all met")
    return "\n".join(lines)


# --------------------------------------------------------------------------- parser pieces


class _Formatter(argparse.HelpFormatter):
    """Help wrapped at spaces only: a name such as ``mt-bench`` or an example is never cut."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False, break_long_words=False)


class _Parser(argparse.ArgumentParser):
    """An argument parser (and so each of its subcommands' parsers) with :class:`_Formatter` help."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)


def _add_format_option(parser: argparse.ArgumentParser) -> None:
    formats = ["auto", *FORMATS]
    parser.add_argument(
        "--from",
        dest="fmt",
        choices=formats,
        default="auto",
        metavar="FORMAT",
        help="input format: " + "; ".join(f"{name}: {FORMAT_HELP.get(name, '')}" for name in formats),
    )


def _map_option(text: str) -> ColumnMap:
    try:
        return ColumnMap.parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _gold_values_option(text: str) -> ColumnMap:
    try:
        return ColumnMap.parse(None, text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _add_mapping_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--map",
        type=_map_option,
        metavar="BANK=COLUMN,...",
        help="read a file in no known format (CSV, JSON list or JSONL) through its own columns, e.g. "
        "prompt=instruction,response_a=output_1,response_b=output_2,gold=label; a bank column not "
        "named is read from the file's column of that name",
    )
    parser.add_argument(
        "--gold-values",
        type=_gold_values_option,
        metavar="A=VALUE,...",
        help="what the file's gold values mean, e.g. A=1,B=2,tie=0 (a gold may be named more than once)",
    )


def _add_skip_options(parser: argparse.ArgumentParser, *, rows: str) -> None:
    parser.add_argument(
        "--skip-invalid",
        action="store_true",
        help=f"import the valid {rows} and refuse the others, instead of refusing the whole file; "
        "problems of the whole file (encoding, a CSV header, JSON list syntax) still refuse it",
    )
    parser.add_argument(
        "--rejects",
        metavar="FILE",
        help="with --skip-invalid: write every refused row here as CSV (line, field, message, raw)",
    )


def _add_validate(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="check a bank file and report every problem",
        description="Check a bank file. Exit 0 with a one-line summary when it is valid; exit 1 with "
        "every problem on stderr, one per line as FILE:LINE: field: message, when it is not.",
    )
    parser.add_argument("file", metavar="FILE", help="the bank file to check")
    _add_format_option(parser)
    _add_mapping_options(parser)
    parser.set_defaults(run=cmd_validate)


def _add_convert(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "convert",
        help="import a file in any supported format and write a native JSONL bank",
        description="Import INPUT and write it as a native JSONL bank. The output is written to a "
        "temporary file and renamed, so nothing is written when INPUT has problems (exit 1).",
    )
    parser.add_argument("file", metavar="INPUT", help="the file to convert")
    _add_format_option(parser)
    parser.add_argument("--out", required=True, metavar="BANK.jsonl", help="where to write the bank")
    _add_mapping_options(parser)
    _add_skip_options(parser, rows="pairs")
    parser.set_defaults(run=cmd_convert)


def _add_stats(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "stats",
        help="counts by gold, tag and domain, and how balanced the bank is",
        description="Print the number of pairs, gold counts, counts by tag and domain, the share of "
        "pairs where the shorter or the plainer response is gold, trap counts, and which "
        "starter-bank requirements are not met. The exit code does not depend on balance.",
    )
    parser.add_argument("file", metavar="FILE", help="the bank file to summarize")
    _add_format_option(parser)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(run=cmd_stats)


def _kinds_option(text: str) -> list[str]:
    kinds = [k.strip().lower() for k in text.split(",") if k.strip()]
    if "swap" in kinds:
        raise argparse.ArgumentTypeError(
            "swap probes are not written to a file: the drill draws them from the pairs a rater "
            "answered before, with the sides swapped"
        )
    unknown = [k for k in kinds if k not in PROBE_KINDS]
    if unknown or not kinds:
        raise argparse.ArgumentTypeError(
            f"unknown kind {', '.join(map(repr, unknown)) or '(none given)'}: "
            f"choose from {', '.join(PROBE_KINDS)}"
        )
    return list(dict.fromkeys(kinds))


def _add_derive(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "derive",
        help="derive counterfactual probes from a bank: one response restyled, nothing else changed",
        description="Read BANK and write, for each decided pair, a probe per kind: the same pair with "
        "one response restyled (polish: the same words with a heading, bold, bullets and emoji; "
        "padding: the same answer with a restated question, a hedge and a recap; authority: the "
        "same answer behind an unsupported appeal to authority). The restyled response is the gold "
        "one in about half of the probes. Ties, probes, prompts with a length or format rule and "
        "responses the style does not fit are skipped, and the summary says how many and why. "
        "With any problem in BANK, every problem is listed (exit 1) and nothing is written.",
    )
    parser.add_argument("file", metavar="BANK", help="the bank file to derive probes from")
    _add_format_option(parser)
    parser.add_argument(
        "--kinds",
        type=_kinds_option,
        default=["polish", "padding"],
        metavar="KIND,...",
        help=f"kinds of probe, separated by commas, from {', '.join(PROBE_KINDS)} (default: polish,padding)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, metavar="N", help="fixes the styled side and the phrasing (default: 0)"
    )
    parser.add_argument("--out", required=True, metavar="PROBES.jsonl", help="where to write the probes")
    parser.set_defaults(run=cmd_derive)


def _add_db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db", metavar="URL", help="SQLAlchemy database URL (default: PAIRCAL_DB_URL, else data/paircal.db)"
    )


def _add_import(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "import",
        help="import a bank file into the database, all or nothing",
        description="Validate FILE and add its pairs to bank NAME in the database (created if new). "
        "With any problem, every problem is listed (exit 1) and nothing is imported. Pairs whose "
        "id is already in the bank are updated, so judgments made on them are kept.",
    )
    parser.add_argument("file", metavar="FILE", help="the bank file to import")
    parser.add_argument("--bank", required=True, metavar="NAME", help="the bank to add the pairs to")
    _add_format_option(parser)
    _add_mapping_options(parser)
    _add_skip_options(parser, rows="pairs")
    _add_db_option(parser)
    parser.set_defaults(run=cmd_import)


def _add_export(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "export",
        help="write a bank from the database as native JSONL",
        description="Write bank NAME from the database to OUT as a native JSONL bank (atomically).",
    )
    parser.add_argument("--bank", required=True, metavar="NAME", help="the bank to export")
    parser.add_argument("--out", required=True, metavar="BANK.jsonl", help="where to write it")
    _add_db_option(parser)
    parser.set_defaults(run=cmd_export)


def _add_judgments(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "judgments",
        help="import or export judgments as CSV",
        description=f"Judgments in the CSV layout {','.join(JUDGMENT_COLUMNS)} "
        "(choice and left are A or B; confidence in [0.5, 1]).",
    )
    sub = parser.add_subparsers(dest="judgments_command", required=True, metavar="{import,export}")
    imp = sub.add_parser(
        "import",
        help="import judgments on a stored bank, all or nothing",
        description="Validate FILE against bank NAME (every problem listed, exit 1, nothing imported) "
        "and store its judgments in one transaction. A judgment already stored (same rater, pair "
        "and answered_at) is skipped, so the same file may be imported twice or from several "
        "processes at once. FILE is a judgments CSV, or a file of raters' votes ("
        + ", ".join(JUDGMENT_FORMATS)
        + ") whose pairs were imported into NAME: each vote for one response becomes a judgment, "
        "and a tie vote, which picks neither, is skipped and counted.",
    )
    imp.add_argument("file", metavar="FILE", help="the judgments file, or a file of raters' votes")
    imp.add_argument(
        "--from",
        dest="fmt",
        choices=["auto", "csv", *JUDGMENT_FORMATS],
        default="auto",
        metavar="FORMAT",
        help="csv (the judgments CSV) or one of " + ", ".join(JUDGMENT_FORMATS) + " (default: auto)",
    )
    _add_skip_options(imp, rows="judgments")
    imp.add_argument("--bank", required=True, metavar="NAME", help="the bank the pairs belong to")
    imp.add_argument(
        "--cohort",
        default=IMPORTED_COHORT,
        metavar="NAME",
        help=f"cohort of new raters (default: {IMPORTED_COHORT})",
    )
    _add_db_option(imp)
    imp.set_defaults(run=cmd_judgments_import)
    exp = sub.add_parser(
        "export",
        help="write judgments from the database as CSV",
        description="Write all judgments, or one bank's or cohort's, to OUT as CSV (atomically). Cells a "
        "spreadsheet would run as a formula (starting =, +, -, @) are prefixed with an apostrophe.",
    )
    exp.add_argument("--out", required=True, metavar="J.csv", help="where to write them")
    exp.add_argument("--bank", metavar="NAME", help="only judgments on this bank")
    exp.add_argument("--cohort", metavar="NAME", help="only judgments by this cohort")
    _add_db_option(exp)
    exp.set_defaults(run=cmd_judgments_export)


def _add_store(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "store",
        help="export the whole database to a directory of plain files, or import one",
        description="Move or back up a whole PairCal database, e.g. from SQLite to PostgreSQL: export, "
        "then import into an empty database; exporting that again gives identical files. The directory "
        "holds paircal-store.json (format, version, row counts), settings.csv, banks.csv with "
        "banks/NNN-NAME.jsonl (native bank files), cohorts.csv, raters.csv, drill_items.csv and "
        "judgments.csv, all UTF-8. No passwords, password hashes, sessions or failed sign-ins are "
        "exported, so imported people cannot sign in until given a new password with 'accounts "
        "set-password'. Cohort invite codes ARE exported, so a moved cohort keeps its code: keep the "
        "directory private. Text cells starting with =, +, -, @ (which a spreadsheet would run) or with "
        "an apostrophe get one leading apostrophe, which the import removes.",
    )
    sub = parser.add_subparsers(dest="store_command", required=True, metavar="{export,import}")
    exp = sub.add_parser(
        "export",
        help="write the whole database to a new directory",
        description="Write the whole database, read in one consistent snapshot, to DIR. DIR must not "
        "exist or be empty (exit 2 otherwise); it appears complete or not at all. The export holds "
        "the cohorts' invite codes but no password or hash.",
    )
    exp.add_argument("out", metavar="DIR", help="the directory to create")
    _add_db_option(exp)
    exp.set_defaults(run=cmd_store_export)
    imp = sub.add_parser(
        "import",
        help="import an exported directory into an empty database, all or nothing",
        description="Check every file of DIR (every problem listed as FILE:LINE: field: message, exit "
        "1) and import it all in one transaction. The database must be empty (exit 2 otherwise): "
        "import before the app first starts, since it adds the starter bank. Imported people have no "
        "password; set one with 'python -m pairs accounts set-password'.",
    )
    imp.add_argument("file", metavar="DIR", help="a directory written by 'store export'")
    _add_db_option(imp)
    imp.set_defaults(run=cmd_store_import)


def _add_accounts(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "accounts",
        help="administer accounts: set a rater's password",
        description="Administer accounts directly in the database (for whoever runs the server).",
    )
    sub = parser.add_subparsers(dest="accounts_command", required=True, metavar="{set-password}")
    setpw = sub.add_parser(
        "set-password",
        help="give a rater or lead a new password, e.g. after 'store import'",
        description="Give rater NAME of cohort NAME a new password: by default a random temporary one, "
        "printed once on standard output (nothing else keeps it); with --stdin, the first line of "
        "standard input (8 to 256 characters), not printed. Their failed sign-ins and lock are cleared "
        "and their sessions end. Simulated raters cannot be given a password. Exit 1 if there is no "
        "such rater or the password is refused.",
    )
    setpw.add_argument("--cohort", required=True, metavar="NAME", help="the rater's cohort")
    setpw.add_argument("--rater", required=True, metavar="NAME", help="the rater's (or lead's) name")
    setpw.add_argument("--stdin", action="store_true", help="read the new password from standard input")
    _add_db_option(setpw)
    setpw.set_defaults(run=cmd_accounts_set_password)


def _add_cohort(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "cohort",
        help="create a cohort and invite its lead (for whoever runs the server)",
        description="Create cohorts on the server. Besides the server's admin in the app, only whoever runs "
        "the server can: this command writes the database directly.",
    )
    sub = parser.add_subparsers(dest="cohort_command", required=True, metavar="{create,invite-lead}")
    create = sub.add_parser(
        "create",
        help="create a cohort and print a one-time invite for its lead",
        description="Create cohort NAME (no lead yet) drilling on a shared bank, and print a one-time "
        "invite: the lead enters it under 'Join a cohort' and becomes the cohort's lead. Exit 1 if the "
        "name is taken or the bank is not a shared bank.",
    )
    create.add_argument("name", metavar="NAME", help="the cohort's name (at most 60 characters)")
    create.add_argument("--bank", default="starter", metavar="NAME", help="a shared bank (default: starter)")
    create.add_argument(
        "--drill-size", type=int, default=10, metavar="N", help="pairs per daily drill (1-50)"
    )
    _add_db_option(create)
    create.set_defaults(run=cmd_cohort_create)
    invite = sub.add_parser(
        "invite-lead",
        help="print a new one-time invite to lead an existing cohort",
        description="Print a one-time invite for another lead of cohort NAME. Exit 1 if there is none.",
    )
    invite.add_argument("name", metavar="NAME", help="the cohort's name")
    _add_db_option(invite)
    invite.set_defaults(run=cmd_cohort_invite_lead)


COMMANDS: list[Callable[[Any], None]] = [
    _add_validate,
    _add_convert,
    _add_stats,
    _add_derive,
    _add_import,
    _add_export,
    _add_judgments,
    _add_store,
    _add_accounts,
    _add_cohort,
]
"""Functions that each add one subcommand to the parser, in the order ``--help`` lists them."""


# --------------------------------------------------------------------------- helpers


def _count(n: int, noun: str, *, plural: str | None = None) -> str:
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def _describe(error: OSError) -> str:
    if error.filename is not None and error.strerror:
        return f"{error.filename}: {error.strerror}"
    return str(error)


_json_ready = json_ready
