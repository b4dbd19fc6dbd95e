"""The libraries stay plain Python: no Streamlit in pairs/ or calibration/."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LIBRARY_FILES = sorted([*ROOT.glob("pairs/*.py"), *ROOT.glob("calibration/*.py")])


@pytest.mark.parametrize("path", LIBRARY_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_library_module_does_not_import_streamlit(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        assert not any(n == "streamlit" or n.startswith("streamlit.") for n in names), path


def test_app_is_a_router_over_view_modules():
    source = (ROOT / "app.py").read_text()
    assert "st.navigation(" in source
    for page in ast.parse(source).body:
        assert not isinstance(page, (ast.FunctionDef, ast.ClassDef)), "app.py holds no page logic"
