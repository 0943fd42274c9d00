"""push is a stage above the build: nothing below imports it, and importing it loads no anki."""

from __future__ import annotations

import ast
import subprocess
import sys

from conftest import REPO


def imports(path: object) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_only_the_cli_imports_push() -> None:
    package = REPO / "ankismith"
    for path in package.rglob("*.py"):
        if path.parent.name == "push" or path.name == "cli.py":
            continue
        assert not any(name.startswith("ankismith.push") for name in imports(path)), path


def test_push_imports_the_stages_below_it_only() -> None:
    allowed = ("ankismith.pipeline", "ankismith.model", "ankismith.package", "ankismith.errors", "ankismith.rules")
    for path in (REPO / "ankismith" / "push").glob("*.py"):
        ours = {name for name in imports(path) if name.startswith("ankismith.")}
        assert all(name.startswith((*allowed, "ankismith.push")) for name in ours), (path, ours)


def test_importing_push_loads_no_anki() -> None:
    code = "import sys, ankismith.push; print([m for m in ('anki', 'genanki') if m in sys.modules])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert done.stdout.strip() == "[]"
