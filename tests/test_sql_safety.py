"""SQL only through bound parameters: read in the code, then watched on the wire.

1. The code: no module builds SQL text (``sa.text``, ``exec_driver_sql`` with
   anything but a constant, a DB-API cursor).
2. The wire: every statement sent to SQLite and PostgreSQL while a whole user
   journey runs on hostile names, passwords, bank names and pair ids is
   recorded; no hostile string appears in any statement's SQL, only in its
   parameters, and every value comes back exactly as it went in.
"""

from __future__ import annotations

import ast
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from pairs.importers import read_bank
from pairs.judgments import parse_judgments
from storage.store import Store, raters
from training import accounts, drills

ROOT = Path(__file__).resolve().parent.parent
CODE = [p for d in ("pairs", "calibration", "views") for p in (ROOT / d).rglob("*.py")] + [ROOT / "app.py"]

INJECTIONS = [
    "x'; DROP TABLE judgments; --",
    'Robert"); DROP TABLE raters; --',
    "' OR '1'='1",
    "1 OR 1=1",
    "%s %(name)s :name ? $1",
    "\\'; SELECT pg_sleep(1); --",
    "ü'||(SELECT password_hash FROM raters LIMIT 1)||'",
]


def _constant_text(node: ast.expr) -> bool:
    if isinstance(node, ast.IfExp):
        return _constant_text(node.body) and _constant_text(node.orelse)
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _built_text(node: ast.expr) -> bool:
    """An f-string, a concatenation, ``%`` or ``.format``: SQL made from values."""
    if isinstance(node, ast.JoinedStr | ast.BinOp):
        return True
    if not isinstance(node, ast.Call):
        return False
    method, receiver = getattr(node.func, "attr", ""), getattr(node.func, "value", None)
    # "...".format(...) on anything; str.join only on a string ("; ".join(parts)), not select().join()
    return method == "format" or (method == "join" and receiver is not None and _constant_text(receiver))


def sql_offenders(paths: list[Path]) -> list[str]:
    """Calls that send textual or string-built SQL, as ``file:line: call``."""
    offenders = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            where = f"{path.name}:{node.lineno}: {ast.unparse(node)[:70]}"
            first = node.args[0] if node.args else None
            owner = getattr(getattr(node.func, "value", None), "id", None)
            if name in ("text", "literal_column", "TextClause") and owner in (None, "sa", "sqlalchemy"):
                offenders.append(where)  # textual SQL: none is needed
            elif name in ("exec_driver_sql", "executescript", "executemany") and not (
                first is not None and _constant_text(first)
            ):
                offenders.append(where)
            elif name == "execute" and first is not None and _built_text(first):
                offenders.append(where)
    return offenders


def test_no_module_builds_sql_text():
    assert sql_offenders(CODE) == []


def test_the_code_check_catches_built_sql(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "def f(conn, cur, name):\n"
        "    conn.exec_driver_sql(f\"SELECT * FROM raters WHERE name = '{name}'\")\n"
        "    conn.execute(sa.text('SELECT 1'))\n"
        "    cur.execute('SELECT ' + name)\n"
        "    cur.execute('SELECT 1')\n"
        "    cur.execute(' AND '.join(clauses))\n"
        "    cur.execute('SELECT {}'.format(name))\n"
        "    conn.execute(sa.select(raters).join(cohorts))\n"
    )
    assert sorted(o.split(":")[1] for o in sql_offenders([bad])) == ["2", "3", "4", "6", "7"]


def _bank_file(path: Path) -> Path:
    rows = [
        {
            "id": pid,
            "prompt": f"prompt {i} {pid}",
            "response_a": f"answer {pid}",
            "response_b": "plain",
            "gold": "A",
            "rationale": pid,
            "tags": ["control"],
        }
        for i, pid in enumerate(INJECTIONS)
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def test_hostile_values_travel_only_as_parameters(db_url, tmp_path):
    store = Store(db_url)
    statements: list[str] = []
    event.listen(store.engine, "before_cursor_execute", lambda c, cur, sql, *rest: statements.append(sql))
    store.ensure_starter_bank()
    bank_name = INJECTIONS[0]
    store.import_bank(bank_name, read_bank(_bank_file(tmp_path / "b.jsonl")))
    today = datetime.now(UTC).date()
    admin = None  # the first cohort's lead is the admin, who creates the others
    for i, evil in enumerate(INJECTIONS):
        cohort = f"{evil} {i}"
        lead, invite = accounts.create_cohort(
            store, cohort, f"lead {evil}", f"pw {evil}", bank=bank_name, by=admin
        )
        admin = admin or lead
        rater = accounts.join_cohort(store, invite, evil, f"pw {evil}")
        again = accounts.login(store, cohort, evil, f"pw {evil}")
        assert (again.id, again.name, again.cohort) == (rater.id, evil, cohort)
        token = accounts.start_session(store, rater.id)
        assert accounts.resolve_session(store, token).id == rater.id
        with pytest.raises(accounts.AccountError):
            accounts.login(store, cohort, evil, evil)  # a wrong password that is itself an injection
        drill = drills.get_or_create_drill(store, rater.id, bank_name, today, size=len(INJECTIONS))
        for item in drill.items:
            drills.submit(store, rater.id, drill.key, item.position, choice="A", confidence=0.75)
        store.set_setting(evil, evil)
        assert store.get_setting(evil) == evil
        csv = "rater,pair_id,choice,confidence\n" + f'"{evil.replace(chr(34), chr(34) * 2)}",'
        csv += f'"{INJECTIONS[1].replace(chr(34), chr(34) * 2)}",B,0.6\n'
        store.import_judgments(parse_judgments(csv.encode(), "j.csv"), bank=bank_name, cohort=f"imp {evil}")

    exported = store.export_judgments(bank=bank_name)
    assert set(exported["pair_id"]) == set(INJECTIONS)
    assert len(exported) == len(INJECTIONS) ** 2 + len(INJECTIONS)
    with store.read() as conn:
        names = set(conn.execute(sa.select(raters.c.name)).scalars())
    assert set(INJECTIONS) <= names
    assert {"judgments", "raters", "banks", "pairs"} <= set(sa.inspect(store.engine).get_table_names())

    assert len(statements) > 100
    leaked = [sql for sql in statements for evil in INJECTIONS if evil in sql or "DROP TABLE" in sql]
    assert leaked == []
