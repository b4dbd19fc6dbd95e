"""The store commands of ``python -m pairs``: import, export and judgments.

They act on the database named by ``PAIRCAL_DB_URL`` (default: the SQLite file
``data/paircal.db``), or by ``--db URL``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from pairs.bank import bank_to_records
from pairs.errors import InputError
from pairs.judgments import read_judgments, to_csv
from pairs.store import IMPORTED_COHORT, Store


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temp file and a rename: never a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _db_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db", metavar="URL", help="SQLAlchemy URL (default: PAIRCAL_DB_URL or data/paircal.db)"
    )


def add_store_commands(sub, formats: list[str]) -> None:
    """Register ``import``, ``export`` and ``judgments`` on an argparse subparsers object."""
    p = sub.add_parser(
        "import",
        help="import a pair bank into the database (all or nothing)",
        description="Validate FILE and add its pairs to bank NAME (created if new). Any problem: "
        "every problem is listed and nothing is imported. Pairs already in the bank are updated.",
    )
    p.add_argument("file")
    p.add_argument("--bank", required=True, metavar="NAME")
    p.add_argument("--from", dest="fmt", default="auto", choices=formats, metavar="FORMAT")
    _db_arg(p)
    p.set_defaults(func=cmd_import)

    p = sub.add_parser(
        "export",
        help="export a bank from the database as JSON Lines",
        description="Write bank NAME from the database to OUT in the native JSONL format.",
    )
    p.add_argument("--bank", required=True, metavar="NAME")
    p.add_argument("--out", required=True, metavar="BANK.jsonl")
    _db_arg(p)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser(
        "judgments",
        help="import or export judgments as CSV",
        description="Judgments in the CSV layout rater,pair_id,choice,confidence,left,answered_at,seconds.",
    )
    jsub = p.add_subparsers(dest="judgments_command", required=True, metavar="{import,export}")
    q = jsub.add_parser(
        "import",
        help="import judgments on a bank's pairs (all or nothing)",
        description="Validate J.csv against bank NAME and store its judgments in one transaction. "
        "Judgments already stored (same rater, pair and time) are skipped, so the same file "
        "can be imported twice or from several processes at once.",
    )
    q.add_argument("file", metavar="J.csv")
    q.add_argument("--bank", required=True, metavar="NAME")
    q.add_argument("--cohort", default=IMPORTED_COHORT, metavar="NAME", help=f"default: {IMPORTED_COHORT}")
    _db_arg(q)
    q.set_defaults(func=cmd_judgments_import)
    q = jsub.add_parser(
        "export",
        help="export judgments as CSV",
        description="Write all judgments (or one bank's / cohort's) to OUT. Cells that a spreadsheet "
        "would run as formulas are prefixed with an apostrophe.",
    )
    q.add_argument("--out", required=True, metavar="J.csv")
    q.add_argument("--bank", metavar="NAME")
    q.add_argument("--cohort", metavar="NAME")
    _db_arg(q)
    q.set_defaults(func=cmd_judgments_export)


def _store(args) -> Store:
    return Store(args.db)


def cmd_import(args) -> int:
    from pairs.importers import read_bank

    try:
        bank = read_bank(args.file, args.fmt)
    except InputError as exc:
        print(exc, file=sys.stderr)
        print(f"{len(exc.problems)} problem(s): nothing imported", file=sys.stderr)
        return 1
    counts = _store(args).import_bank(args.bank, bank, source_file=Path(args.file).name)
    print(f"bank {args.bank!r}: {counts['added']} pairs added, {counts['updated']} updated")
    return 0


def cmd_export(args) -> int:
    store = _store(args)
    try:
        bank = store.load_bank(args.bank)
    except KeyError:
        print(
            f"no bank named {args.bank!r}; banks: {', '.join(store.bank_names()) or 'none'}", file=sys.stderr
        )
        return 1
    lines = [json.dumps(rec, ensure_ascii=False) for rec in bank_to_records(bank)]
    atomic_write_text(args.out, "".join(line + "\n" for line in lines))
    print(f"wrote {len(lines)} pairs to {args.out}")
    return 0


def cmd_judgments_import(args) -> int:
    store = _store(args)
    try:
        bank = store.load_bank(args.bank)
    except KeyError:
        print(
            f"no bank named {args.bank!r}; banks: {', '.join(store.bank_names()) or 'none'}", file=sys.stderr
        )
        return 1
    try:
        frame = read_judgments(args.file, pair_ids=bank["id"])
    except InputError as exc:
        print(exc, file=sys.stderr)
        print(f"{len(exc.problems)} problem(s): nothing imported", file=sys.stderr)
        return 1
    counts = store.import_judgments(frame, bank=args.bank, cohort=args.cohort)
    print(f"{counts['added']} judgments imported, {counts['already_present']} already present")
    return 0


def cmd_judgments_export(args) -> int:
    frame = _store(args).export_judgments(bank=args.bank, cohort=args.cohort)
    atomic_write_text(args.out, to_csv(frame))
    print(f"wrote {len(frame)} judgments to {args.out}")
    return 0
