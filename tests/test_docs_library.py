"""docs/library.md is run as a notebook: every Python block in order, each printed output checked.

The blocks run in one namespace, in a temporary directory holding copies of ``rules/`` and
``data/sample/``. As in a notebook, a block ending in an expression shows its value. A
``text`` block right after a Python block is what that block must print.
"""

from __future__ import annotations

import ast
import contextlib
import io
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("polars")
pytest.importorskip("pyarrow")
pytest.importorskip("pandas")

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "library.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def blocks() -> list[tuple[str, str, int]]:
    """(language, code, line) of every fenced block of the page."""
    text = DOC.read_text(encoding="utf-8")
    return [(m.group(1), m.group(2), text.count("\n", 0, m.start()) + 1) for m in FENCE.finditer(text)]


def run_cell(code: str, namespace: dict[str, Any], name: str) -> str:
    """Run ``code`` as a notebook cell; what it printed, and the value of a last expression, as text."""
    tree = ast.parse(code, name)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(tree, name, "exec"), namespace)
        if last is not None:
            value = eval(compile(ast.Expression(last.value), name, "eval"), namespace)
            if value is not None:
                print(repr(value))
    return out.getvalue()


def test_every_block_of_the_library_page_runs_and_prints_what_it_shows(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    shutil.copytree(ROOT / "data" / "sample", tmp_path / "data" / "sample")
    monkeypatch.chdir(tmp_path)
    found = blocks()
    assert [lang for lang, _, _ in found if lang not in ("python", "text")] == []
    namespace: dict[str, Any] = {"__name__": "__notebook__"}
    printed: str | None = None
    ran = checked = 0
    for lang, code, line in found:
        if lang == "python":
            printed = run_cell(code, namespace, f"{DOC.name}:{line}")
            ran += 1
            continue
        assert printed is not None, f"{DOC.name}:{line}: a text block must follow a Python block"
        assert printed.rstrip("\n") == code.rstrip("\n"), f"{DOC.name}:{line}: the block above prints otherwise"
        printed = None
        checked += 1
    assert ran >= 10 and checked >= 8


def test_the_readme_links_the_page() -> None:
    assert "docs/library.md" in (ROOT / "README.md").read_text(encoding="utf-8")
