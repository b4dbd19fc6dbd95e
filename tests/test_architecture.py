"""The layout holds: each concern in its own package, and imports only go down the layers.

    app.py, views/        Streamlit: the router and one module per page
    cli/                  the two command lines
    training/             the app's own logic: accounts, drills, drill selection
    storage/              all SQL (SQLAlchemy)
    calibration/          statistics          (may use pairs/)
    pairs/                file formats        (uses nothing above)

``pairs/__main__.py`` and ``calibration/__main__.py`` are the ``python -m``
entry points: one line each handing over to ``cli/``, so they are exempt.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("pairs", "calibration", "storage", "training", "cli", "views")
ENTRY_POINTS = {"pairs/__main__.py", "calibration/__main__.py"}


def python_files() -> list[Path]:
    files = [ROOT / "app.py"]
    for package in PACKAGES:
        files += sorted((ROOT / package).rglob("*.py"))
    return files


def imports(path: Path) -> set[str]:
    """Top-level names of every module ``path`` imports (``sqlalchemy.exc`` -> ``sqlalchemy``)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def home(path: Path) -> str:
    rel = path.relative_to(ROOT)
    return rel.parts[0] if len(rel.parts) > 1 else rel.name


# Which top-level imports each home may not use.
FORBIDDEN = {
    "pairs": {"sqlalchemy", "streamlit", "calibration", "storage", "training", "cli", "views", "alembic"},
    "calibration": {"sqlalchemy", "streamlit", "storage", "training", "cli", "views", "alembic"},
    "storage": {"streamlit", "calibration", "training", "cli", "views"},
    "training": {"sqlalchemy", "streamlit", "cli", "views", "alembic"},
    "cli": {"sqlalchemy", "streamlit", "views", "alembic"},
    "views": {"sqlalchemy", "cli", "alembic"},
    "app.py": {"sqlalchemy", "cli", "alembic"},
}

FILES = [p for p in python_files() if str(p.relative_to(ROOT)) not in ENTRY_POINTS]


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_stay_in_their_layer(path):
    bad = imports(path) & FORBIDDEN[home(path)]
    assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_the_guard_sees_a_violation(tmp_path):
    # The checker itself must notice each kind of import it forbids.
    sample = tmp_path / "x.py"
    sample.write_text(
        "import sqlalchemy.exc\nfrom streamlit import runtime\nfrom storage.store import Store\n"
    )
    assert imports(sample) == {"sqlalchemy", "streamlit", "storage"}


def test_entry_points_only_hand_over_to_cli():
    for rel in ENTRY_POINTS:
        assert imports(ROOT / rel) <= {"cli", "sys"}, rel


def test_app_is_a_router_over_view_modules():
    source = (ROOT / "app.py").read_text()
    assert "st.navigation(" in source
    for node in ast.parse(source).body:
        assert not isinstance(node, (ast.FunctionDef, ast.ClassDef)), "app.py holds no page logic"


def page_scripts() -> list[Path]:
    """The scripts Streamlit runs as pages (``st.Page("views/...")`` in app.py), and app.py."""
    source = (ROOT / "app.py").read_text()
    pages = {ROOT / name for name in re.findall(r'st\.Page\(\s*"(views/[a-z_]+\.py)"', source)}
    return sorted(pages | {ROOT / "app.py"})


@pytest.mark.parametrize("path", page_scripts(), ids=lambda p: p.name)
def test_a_page_shows_no_stray_string(path):
    """Streamlit's "magic" draws every bare expression of a page script: a string meant as a
    comment or an attribute's docstring would appear on the page (as one once did above the
    lead console's title). Only the module docstring may stand alone."""
    body = ast.parse(path.read_text()).body
    for node in body[1:]:
        for stmt in ast.walk(node):
            if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
                in_function = any(
                    isinstance(outer, (ast.FunctionDef, ast.AsyncFunctionDef))
                    and stmt in list(ast.walk(outer))
                    for outer in ast.walk(node)
                )
                assert in_function, f"{path.name}:{stmt.lineno}: a bare value the page would draw"


LIBRARIES = ("pairs", "calibration", "storage", "training", "cli")


def public_functions():
    for package in LIBRARIES:
        pkg = importlib.import_module(package)
        for info in pkgutil.walk_packages(pkg.__path__, prefix=f"{package}."):
            if ".migrations" in info.name or info.name.endswith("__main__"):
                continue
            module = importlib.import_module(info.name)
            for name, obj in vars(module).items():
                if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
                    continue
                if inspect.isfunction(obj):
                    yield f"{info.name}.{name}", obj
                elif inspect.isclass(obj):
                    for attr, member in vars(obj).items():
                        if not attr.startswith("_") and inspect.isfunction(member):
                            yield f"{info.name}.{name}.{attr}", member


def test_every_public_function_has_a_docstring():
    missing = sorted(name for name, fn in public_functions() if not (fn.__doc__ or "").strip())
    assert missing == []


@pytest.mark.parametrize("package", LIBRARIES[:4])
def test_package_exports_its_public_api(package):
    module = importlib.import_module(package)
    exported = getattr(module, "__all__", [])
    assert exported, f"{package}/__init__.py exports nothing"
    for name in exported:
        assert hasattr(module, name), f"{package}.__all__ names {name!r}, which it does not define"
