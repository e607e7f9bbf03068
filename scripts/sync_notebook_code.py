"""Write the package's code into the chapters' code cells that show it.

    python scripts/sync_notebook_code.py            # every notebook in book/
    python scripts/sync_notebook_code.py --check    # only report cells that differ

A chapter shows the code it teaches as code cells that start with the line
``# From utils/<module>.py; the package holds the same code.`` followed by the
imports the definition needs and one function, class or method (a method as a
function decorated with ``@utils.add_to_class(Class)``). This script regenerates each
such cell from the package: the definition's source, and the imports of the names it
uses that the notebook has not bound in an earlier cell. ``tests/test_notebook_code.py``
fails when a cell and the package differ; after changing the package, run this script
and re-execute the chapter. It also rewrites each chapter's first cell, the Colab setup
cell, from ``utils.colab.setup_cell`` (a fork that changes ``REPO_URL`` runs it once).
"""
from __future__ import annotations

import argparse
import ast
import dis
import importlib
import inspect
import json
import re
import sys
import textwrap
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MARKER_RE = re.compile(r"^# From utils/([\w/]+)\.py\b")
SETUP_RE = re.compile(r"setup\((\[.*?\]), folder\)")  # the frameworks it installs


def marker(module_path: str) -> str:
    return f"# From utils/{module_path}.py; the package holds the same code."


def _global_names(code: types.CodeType) -> set[str]:
    names = {ins.argval for ins in dis.get_instructions(code)
             if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME")}
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names


def _names_in(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _definition_time_names(source: str) -> set[str]:
    """Names a def/class statement evaluates when it runs: annotations, defaults,
    decorators, base classes and the statements of a class body."""
    found: set[str] = set()

    def visit(node):
        for decorator in node.decorator_list:
            found.update(_names_in(decorator))
        if isinstance(node, ast.ClassDef):
            for base in node.bases + [k.value for k in node.keywords]:
                found.update(_names_in(base))
            for stmt in node.body:
                if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef,
                                     ast.ClassDef)):
                    visit(stmt)
                else:
                    found.update(_names_in(stmt))
            return
        args = node.args
        for arg in args.posonlyargs + args.args + args.kwonlyargs + [args.vararg,
                                                                       args.kwarg]:
            if arg is not None and arg.annotation is not None:
                found.update(_names_in(arg.annotation))
        for default in args.defaults + [d for d in args.kw_defaults if d is not None]:
            found.update(_names_in(default))
        if node.returns is not None:
            found.update(_names_in(node.returns))

    visit(ast.parse(source).body[0])
    return found


def _bound_before(cells: list[dict], index: int) -> set[str]:
    """Names bound at the top level of the code cells before ``index``."""
    names: set[str] = set()
    for cell in cells[:index]:
        if cell["cell_type"] != "code":
            continue
        source = "\n".join(line for line in "".join(cell["source"]).splitlines()
                           if not line.lstrip().startswith(("!", "%")))
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names |= {alias.asname or alias.name.split(".")[0]
                          for alias in node.names}
            elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    names |= _names_in(target)
    return names


def _import_line(name: str, value, module: types.ModuleType) -> str:
    if isinstance(value, types.ModuleType):
        full = value.__name__
        if full == name:
            return f"import {name}"
        if "." in full and full.rsplit(".", 1)[1] == name:
            return f"from {full.rsplit('.', 1)[0]} import {name}"
        return f"import {full} as {name}"
    origin = getattr(value, "__module__", None) or module.__name__
    if not hasattr(importlib.import_module(origin), name):
        origin = module.__name__
    return f"from {origin} import {name}"


def _from_import(origin: str, names: list[str], width: int = 88) -> str:
    """``from origin import a, b``, wrapped in parentheses when it is too long."""
    line = f"from {origin} import {', '.join(names)}"
    if len(line) <= width:
        return line
    head = f"from {origin} import ("
    wrapped = textwrap.wrap(", ".join(names) + ")", width=width - len(head),
                            break_on_hyphens=False)
    return head + ("\n" + " " * len(head)).join(wrapped)


def cell_source(module_path: str, qualified: str, cells: list[dict], index: int) -> str:
    """The text of the code cell that shows ``utils.<module>.<qualified>``."""
    module = importlib.import_module("utils." + module_path.replace("/", "."))
    parts = qualified.split(".")
    obj = module
    for part in parts:
        obj = getattr(obj, part)
    definition = textwrap.dedent(inspect.getsource(obj)).rstrip("\n")
    if inspect.isclass(obj):  # decorated functions: the code is the wrapped one's
        codes = [inspect.unwrap(f).__code__ for f in vars(obj).values()
                 if inspect.isfunction(f)]
    else:
        codes = [inspect.unwrap(obj).__code__]
    needed = set().union(*(_global_names(code) for code in codes))
    needed |= _definition_time_names(definition)
    bound = _bound_before(cells, index)
    lines = []
    if len(parts) == 2 and parts[0] not in bound:
        lines.append(f"from {module.__name__} import {parts[0]}")
    for name in sorted(needed):
        if name in vars(module) and name != parts[-1] and name not in bound:
            lines.append(_import_line(name, vars(module)[name], module))
    plain = sorted(line for line in lines if line.startswith("import "))
    grouped: dict[str, list[str]] = {}
    for line in lines:
        if line.startswith("from "):
            origin, _, name = line[len("from "):].partition(" import ")
            grouped.setdefault(origin, []).append(name)
    froms = [_from_import(origin, sorted(names))
             for origin, names in sorted(grouped.items())]
    if len(parts) == 2:
        definition = f"@utils.add_to_class({parts[0]})\n" + definition
    head = [marker(module_path)] + plain + froms
    return "\n".join(head) + ("\n\n\n" if len(head) > 1 else "\n") + definition


def shown_definition(source: str) -> str:
    """The qualified name (``f``, ``Class`` or ``Class.method``) a marked cell shows."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.ClassDef):
            return node.name
        if isinstance(node, ast.FunctionDef):
            for decorator in node.decorator_list:
                if (isinstance(decorator, ast.Call)
                        and ast.unparse(decorator.func).endswith("add_to_class")):
                    return f"{ast.unparse(decorator.args[0])}.{node.name}"
            return node.name
    raise ValueError("the cell defines no function or class")


def _as_lines(text: str) -> list[str]:
    lines = text.split("\n")
    return [line + "\n" for line in lines[:-1]] + [lines[-1]]


def sync(path: Path, check: bool) -> list[str]:
    """Regenerate the marked cells of one notebook; return what differed."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    cells, changed = notebook["cells"], []
    first = next((i for i, cell in enumerate(cells) if cell["cell_type"] == "code"), None)
    setup = SETUP_RE.search("".join(cells[first]["source"])) if first is not None else None
    if setup:  # the Colab setup cell, with the repository URL of utils.colab
        from utils import colab
        fresh = colab.setup_cell(json.loads(setup.group(1)))
        if fresh != "".join(cells[first]["source"]):
            changed.append(f"{path.name} cell {first}: the Colab setup cell")
            cells[first]["source"] = _as_lines(fresh)
    for index, cell in enumerate(cells):
        source = "".join(cell["source"])
        match = MARKER_RE.match(source)
        if cell["cell_type"] != "code" or not match:
            continue
        qualified = shown_definition(source)
        fresh = cell_source(match.group(1), qualified, cells, index)
        if fresh != source:
            changed.append(f"{path.name} cell {index}: {qualified}")
            cell["source"] = _as_lines(fresh)
    if changed and not check:
        path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n",
                        encoding="utf-8")
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to update (default: every one in book/)")
    parser.add_argument("--check", action="store_true",
                        help="report the cells that differ, change nothing")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "book").glob("*.ipynb"))
    changed = [line for path in paths for line in sync(path, args.check)]
    for line in changed:
        print(("differs: " if args.check else "updated: ") + line)
    if not changed:
        print("every code cell that shows the package's code is up to date")
    return 1 if (changed and args.check) else 0


if __name__ == "__main__":
    sys.exit(main())
