"""The code a chapter teaches is a code cell of its notebook, and equal to the package's.

A chapter shows the functions, classes and methods it explains as code cells that a
reader can edit and run in Jupyter or Colab. Each such cell starts with the line
``# From utils/<module>.py; ...`` and then defines them; a method is attached to its
class with ``@utils.add_to_class(Class)``. The rest of the book imports the same code
from ``utils``, so the two copies must not drift: this test compares every definition
in those cells, character for character, with the package's source.
"""
from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import json
import re
import textwrap
from pathlib import Path

import pytest

BOOK = Path(__file__).resolve().parent.parent / "book"
MARKER = re.compile(r"^# From utils/([\w/]+)\.py\b")


def _code_cells():
    """(notebook name, cell index, module path, source) of every marked code cell."""
    found = []
    for path in sorted(BOOK.glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        for index, cell in enumerate(cells):
            source = "".join(cell["source"])
            match = MARKER.match(source)
            if cell["cell_type"] == "code" and match:
                found.append((path.name, index, match.group(1), source))
    return found


CELLS = _code_cells()


def _add_to_class_target(node: ast.FunctionDef) -> str | None:
    """``Class`` when the function is decorated with ``utils.add_to_class(Class)``."""
    for decorator in node.decorator_list:
        if (isinstance(decorator, ast.Call)
                and ast.unparse(decorator.func) in ("utils.add_to_class", "add_to_class")
                and len(decorator.args) == 1):
            return ast.unparse(decorator.args[0])
    return None


def _definitions(source: str):
    """(qualified name, the definition's text) of each top-level def/class of a cell."""
    lines = source.splitlines()
    for node in ast.parse(source).body:
        if not isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            continue
        owner = _add_to_class_target(node) if isinstance(node, ast.FunctionDef) else None
        own_decorators = [d.lineno for d in node.decorator_list
                          if not (isinstance(d, ast.Call)
                                  and "add_to_class" in ast.unparse(d.func))]
        start = min(own_decorators + [node.lineno])
        text = "\n".join(lines[start - 1:node.end_lineno])
        yield (f"{owner}.{node.name}" if owner else node.name), text


def test_the_chapters_show_their_code_as_code_cells():
    assert len(CELLS) >= 20, [cell[:2] for cell in CELLS]
    for path in sorted(BOOK.glob("*.ipynb")):
        text = path.read_text(encoding="utf-8")
        assert "{literalinclude} ../utils/" not in text, (
            f"{path.name} includes package code that Jupyter and Colab do not show; "
            f"make it a code cell that starts with '# From utils/<module>.py'.")


@pytest.mark.parametrize("notebook, index, module_path, source", CELLS,
                         ids=[f"{c[0]}:cell{c[1]}" for c in CELLS])
def test_a_notebook_copy_equals_the_package_source(notebook, index, module_path,
                                                   source):
    module = importlib.import_module("utils." + module_path.replace("/", "."))
    definitions = list(_definitions(source))
    assert definitions, f"{notebook} cell {index} is marked but defines nothing"
    for qualified, cell_text in definitions:
        target = module
        for part in qualified.split("."):
            assert hasattr(target, part), (
                f"{notebook} cell {index} defines {qualified}, which utils/"
                f"{module_path}.py does not have")
            target = getattr(target, part)
        package_text = textwrap.dedent(inspect.getsource(target)).rstrip("\n")
        assert cell_text == package_text, (
            f"{notebook} cell {index}: {qualified} differs from utils/{module_path}.py; "
            f"run  python scripts/sync_notebook_code.py  to copy the package's code into "
            f"the cell (or copy the cell's into the package), then re-execute the chapter.")


def test_the_sync_script_finds_every_cell_up_to_date():
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        "sync_notebook_code", BOOK.parent / "scripts" / "sync_notebook_code.py")
    sync = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sync)
    for path in sorted(BOOK.glob("*.ipynb")):
        assert sync.sync(path, check=True) == [], path.name


def test_the_sync_script_rewrites_the_setup_cell_for_a_fork(monkeypatch):
    from utils import colab
    spec = importlib.util.spec_from_file_location(
        "sync_notebook_code", BOOK.parent / "scripts" / "sync_notebook_code.py")
    sync_notebook_code = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sync_notebook_code)
    path = sorted(BOOK.glob("*.ipynb"))[0]
    assert not [line for line in sync_notebook_code.sync(path, check=True)
                if "setup cell" in line]
    monkeypatch.setattr(colab, "REPO_URL", "https://github.com/someone/a-fork")
    assert [line for line in sync_notebook_code.sync(path, check=True)
            if "setup cell" in line] == [f"{path.name} cell 1: the Colab setup cell"]
