"""docs/errors.md must document every code and exit code the code base can produce.

The codes are collected from the source itself, by walking the AST of every module
under src/qualiscore (new modules are picked up automatically), not by importing it:

* string constants passed as the keyword ``code=`` (``code=NAME`` resolved through
  module-level string constants, of the module or of any other module);
* class-body assignments ``code = "..."`` (the default code of an error class);
* the positional argument that lands in a parameter or dataclass field named ``code``
  of a function, class or method defined in the code base (``self._fail(...,
  "yaml-alias")``, ``_Bad("not-integer", ...)``, ``Problem(..., "no-period", ...)``):
  a function or class counts where it is defined or imported by name, a method only
  in its own module, so an unrelated ``set.add`` or ``Change`` call elsewhere is not
  mistaken for one;
* explicitly: the second positional argument of ``Finding(...)`` and ``*.add(...)``
  whose first argument is "error" or "warning", the first positional argument of
  ``Discrepancy(...)`` and ``_Bad(...)``, the 6th positional argument of ``Problem(...)``;
* module-level constants of expressions.py that look like codes (``UNKNOWN_NAME = ...``);
* records.PROBLEM_CODES and the keys of verify._EXIT (verify/__init__.py);
* ``error[code]`` written literally into a message (the CLI's ``error[io]``).

A code built with an f-string (``f"{what}-kind"``) is expanded from the string
constants assigned to the formatted name in the same function; if that is not
possible the test fails and asks for the collector to be taught the new form.

Exit codes: every module-level ``EXIT_* = <int>`` and every class-body
``exit_code = <int>`` must have a row in the "Exit codes" table, and each ``EXIT_*``
name must be mentioned there.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "qualiscore"
DOC = ROOT / "docs" / "errors.md"

CODE_SHAPE = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
LITERAL_ERROR = re.compile(r"error\[([a-z0-9-]+)\]")
SEVERITIES = ("error", "warning")
# Callee name -> index of the positional argument that is the code (explicit rules).
POSITIONAL = {"Discrepancy": 0, "_Bad": 0, "Problem": 5}


def _modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if p.is_file())


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _str(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _module_strings(tree: ast.Module) -> dict[str, str]:
    """Module-level ``NAME = "text"`` assignments."""
    out: dict[str, str] = {}
    for node in tree.body:
        targets: list[ast.expr] = []
        value: ast.expr | None = None
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        text = _str(value)
        if text is None:
            continue
        for target in targets:
            if isinstance(target, ast.Name):
                out[target.id] = text
    return out


def _callee(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _slot(params: list[str], skip_self: bool) -> int | None:
    if "code" not in params:
        return None
    index = params.index("code")
    return index - 1 if skip_self else index


def _is_dataclass(node: ast.ClassDef) -> bool:
    return any(
        (isinstance(d, ast.Name) and d.id == "dataclass")
        or (isinstance(d, ast.Call) and _callee(d) == "dataclass")
        or (isinstance(d, ast.Attribute) and d.attr == "dataclass")
        for d in node.decorator_list
    )


def _params(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    return [a.arg for a in (*fn.args.posonlyargs, *fn.args.args)]


class _Slots:
    """Where a positional argument lands in a parameter or dataclass field named ``code``.

    ``top[name]``: module-level functions and classes (called by name, in their module
    or wherever they are imported by name); ``methods[module][name]``: methods, which
    only count when called as ``something.name(...)`` in their own module.
    """

    def __init__(self, trees: dict[Path, ast.Module]) -> None:
        self.top: dict[str, set[int]] = {}
        self.local_top: dict[Path, set[str]] = {}
        self.methods: dict[Path, dict[str, set[int]]] = {}
        self.imported: dict[Path, set[str]] = {}
        for path, tree in trees.items():
            self.local_top[path] = set()
            self.methods[path] = {}
            self.imported[path] = {
                alias.asname or alias.name
                for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom)
                for alias in node.names
            }
            for node in tree.body:
                index: int | None = None
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    index = _slot(_params(node), skip_self=False)
                elif isinstance(node, ast.ClassDef):
                    index = self._class_slot(node)
                    for item in node.body:
                        if (
                            isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
                            and item.name != "__init__"
                        ):
                            is_static = any(
                                isinstance(d, ast.Name) and d.id == "staticmethod"
                                for d in item.decorator_list
                            )
                            m = _slot(_params(item), skip_self=not is_static)
                            if m is not None:
                                self.methods[path].setdefault(item.name, set()).add(m)
                if index is not None:
                    self.top.setdefault(node.name, set()).add(index)
                    self.local_top[path].add(node.name)

    @staticmethod
    def _class_slot(node: ast.ClassDef) -> int | None:
        init = next((b for b in node.body if isinstance(b, ast.FunctionDef) and b.name == "__init__"), None)
        if init is not None:
            return _slot(_params(init), skip_self=True)
        if _is_dataclass(node):
            fields = [
                b.target.id
                for b in node.body
                if isinstance(b, ast.AnnAssign) and isinstance(b.target, ast.Name)
            ]
            return _slot(fields, skip_self=False)
        return None

    def indexes(self, path: Path, call: ast.Call) -> set[int]:
        func = call.func
        if isinstance(func, ast.Name):
            name = func.id
            if name in self.local_top[path] or name in self.imported[path]:
                return self.top.get(name, set())
            return set()
        if isinstance(func, ast.Attribute):
            return self.methods[path].get(func.attr, set())
        return set()


class _Collected:
    def __init__(self) -> None:
        self.codes: dict[str, set[str]] = {}  # code -> where it was found
        self.unexpanded: list[str] = []  # f-string codes the collector could not expand

    def add(self, code: str, where: str) -> None:
        self.codes.setdefault(code, set()).add(where)


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}


def _enclosing_function(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> ast.AST | None:
    current = parents.get(node)
    while current is not None and not isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef)):
        current = parents.get(current)
    return current


def _choices(expr: ast.expr) -> Iterator[str]:
    """The string constants an expression can evaluate to (constants, a if c else b, x or y)."""
    text = _str(expr)
    if text is not None:
        yield text
    elif isinstance(expr, ast.IfExp):
        yield from _choices(expr.body)
        yield from _choices(expr.orelse)
    elif isinstance(expr, ast.BoolOp):
        for value in expr.values:
            yield from _choices(value)


def _expand_fstring(node: ast.JoinedStr, scope: ast.AST | None) -> list[str] | None:
    """Every text an f-string with one formatted name can produce, from that name's assignments."""
    parts: list[list[str]] = []
    for value in node.values:
        text = _str(value)
        if text is not None:
            parts.append([text])
            continue
        if not (
            isinstance(value, ast.FormattedValue) and isinstance(value.value, ast.Name) and scope is not None
        ):
            return None
        name = value.value.id
        options = [
            choice
            for assign in ast.walk(scope)
            if isinstance(assign, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == name for t in assign.targets)
            for choice in _choices(assign.value)
        ]
        if not options:
            return None
        parts.append(options)
    results = [""]
    for options in parts:
        results = [prefix + option for prefix in results for option in options]
    return results


def collect_codes() -> _Collected:
    trees = {path: _tree(path) for path in _modules()}
    strings = {path: _module_strings(tree) for path, tree in trees.items()}
    everywhere: dict[str, str] = {}
    for table in strings.values():
        for name, text in table.items():
            everywhere.setdefault(name, text)
    slots = _Slots(trees)
    found = _Collected()

    for path, tree in trees.items():
        rel = path.relative_to(SRC).as_posix()
        local = strings[path]
        parents = _parents(tree)

        def take(
            expr: ast.expr,
            node: ast.AST,
            rel: str = rel,
            local: dict[str, str] = local,
            parents: dict[ast.AST, ast.AST] = parents,
        ) -> None:
            where = f"{rel}:{getattr(node, 'lineno', '?')}"
            text = _str(expr)
            if text is None and isinstance(expr, ast.Name):
                text = local.get(expr.id, everywhere.get(expr.id))
            if text is None and isinstance(expr, ast.Attribute):
                text = everywhere.get(expr.attr)
            if text is not None:
                found.add(text, where)
            elif isinstance(expr, ast.JoinedStr):
                expanded = _expand_fstring(expr, _enclosing_function(node, parents))
                if expanded is None:
                    found.unexpanded.append(f"{where}: {ast.unparse(expr)}")
                else:
                    for code in expanded:
                        found.add(code, where)
            # Other expressions (a variable passed through, e.g. err.code) carry a code made elsewhere.

        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = _callee(node)
                for keyword in node.keywords:
                    if keyword.arg == "code":
                        take(keyword.value, node)
                if name in ("Finding", "add") and len(node.args) >= 2 and _str(node.args[0]) in SEVERITIES:
                    take(node.args[1], node)
                if name in POSITIONAL and len(node.args) > POSITIONAL[name]:
                    take(node.args[POSITIONAL[name]], node)
                if name not in POSITIONAL:
                    for index in slots.indexes(path, node):
                        if index < len(node.args):
                            take(node.args[index], node)
            elif isinstance(node, ast.ClassDef):
                for statement in node.body:
                    if isinstance(statement, ast.Assign) and any(
                        isinstance(t, ast.Name) and t.id == "code" for t in statement.targets
                    ):
                        take(statement.value, statement)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                for match in LITERAL_ERROR.finditer(node.value):
                    found.add(match.group(1), f"{rel}:{node.lineno}")

        if rel == "expressions.py":
            for name, text in local.items():
                if name.isupper() and CODE_SHAPE.match(text) and "-" in text:
                    found.add(text, f"{rel}:{name}")
        for node in tree.body:
            if not isinstance(node, ast.Assign):
                continue
            names = [t.id for t in node.targets if isinstance(t, ast.Name)]
            if (
                rel == "records/results.py"
                and "PROBLEM_CODES" in names
                and isinstance(node.value, (ast.Tuple, ast.List))
            ):
                for element in node.value.elts:
                    if _str(element) is not None:
                        found.add(_str(element), f"{rel}:PROBLEM_CODES")  # type: ignore[arg-type]
            if rel == "verify/__init__.py" and "_EXIT" in names and isinstance(node.value, ast.Dict):
                for key in node.value.keys:
                    if _str(key) is not None:
                        found.add(_str(key), f"{rel}:_EXIT")  # type: ignore[arg-type]
    return found


def collect_exit_codes() -> dict[int, set[str]]:
    """Exit status -> the constants or classes that define it."""
    out: dict[int, set[str]] = {}
    for path in _modules():
        rel = path.relative_to(SRC).as_posix()
        tree = _tree(path)
        for node in tree.body:
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Constant)
                and type(node.value.value) is int
            ):
                for target in node.targets:
                    if isinstance(target, ast.Name) and target.id.startswith("EXIT_"):
                        out.setdefault(node.value.value, set()).add(target.id)
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                for statement in node.body:
                    if (
                        isinstance(statement, ast.Assign)
                        and any(isinstance(t, ast.Name) and t.id == "exit_code" for t in statement.targets)
                        and isinstance(statement.value, ast.Constant)
                        and type(statement.value.value) is int
                    ):
                        out.setdefault(statement.value.value, set()).add(f"{rel}:{node.name}")
    return out


@pytest.fixture(scope="module")
def doc() -> str:
    return DOC.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def collected() -> _Collected:
    return collect_codes()


def _documented(text: str) -> set[str]:
    return set(re.findall(r"`([^`\s]+)`", text))


def _exit_table(text: str) -> str:
    match = re.search(r"^## Exit codes\s*$(.*?)(?=^## )", text, re.M | re.S)
    assert match, "docs/errors.md needs a '## Exit codes' section followed by another '## ' section"
    return match.group(1)


def test_collector_finds_codes(collected: _Collected) -> None:
    codes = set(collected.codes)
    assert len(codes) > 60, sorted(codes)
    for known in (
        "yaml-alias",
        "yaml-duplicate-key",
        "file-not-found",
        "unknown-name",
        "disallowed-syntax",
        "evaluation-error",
        "not-in-enum",
        "missing-value",
        "no-period",
        "no-version",
        "unknown-key",
        "measure-kind",
        "bands-not-exhaustive",
        "output-changed",
        "signature",
        "too-many-rejects",
        "io",
    ):
        assert known in codes, f"collector missed {known!r}: {sorted(codes)}"
    # The tables of codes are read where they live: a module that moves must take the collector along.
    places = {where for wheres in collected.codes.values() for where in wheres}
    assert {"records/results.py:PROBLEM_CODES", "verify/__init__.py:_EXIT"} <= places


def test_collector_understands_every_code_expression(collected: _Collected) -> None:
    assert not collected.unexpanded, (
        "codes built in a way the collector cannot expand; teach tests/test_errors_doc.py the new form: "
        + "; ".join(collected.unexpanded)
    )


def test_every_code_is_documented(doc: str, collected: _Collected) -> None:
    documented = _documented(doc)
    missing = {code: sorted(where) for code, where in collected.codes.items() if code not in documented}
    assert not missing, f"codes missing from docs/errors.md (write them as `code`): {missing}"


def test_every_exit_code_is_documented(doc: str) -> None:
    table = _exit_table(doc)
    exits = collect_exit_codes()
    assert {0, 1, 2, 3, 4, 5, 6, 9, 10, 11, 12, 13, 14} <= set(exits), exits
    rows = {int(m.group(1)) for m in re.finditer(r"^\|\s*`?(\d+)`?\s*\|", table, re.M)}
    missing = sorted(set(exits) - rows)
    assert not missing, f"exit codes without a row in the Exit codes table: {missing}"
    names = {name for defined in exits.values() for name in defined if name.startswith("EXIT_")}
    unnamed = sorted(n for n in names if f"`{n}`" not in table)
    assert not unnamed, f"exit code constants not named in the Exit codes table: {unnamed}"
