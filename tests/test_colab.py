"""utils.colab: the setup cell every chapter starts with, and what it installs.

Nothing here reaches the network or changes this environment: the cell runs with a
stand-in ``google.colab`` module and a recording ``subprocess.run``.
"""
from __future__ import annotations

import json
import re
import sys
import types
from pathlib import Path

import pytest

from utils import colab

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))


def _first_code_cell(path: Path) -> str:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return "".join(next(c for c in cells if c["cell_type"] == "code")["source"])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_notebook_starts_with_the_generated_setup_cell(path):
    cell = _first_code_cell(path)
    match = re.search(r"setup\((\[.*?\]), folder\)", cell)
    assert match, f"{path.name}: the first code cell is not the Colab setup cell"
    frameworks = json.loads(match.group(1))
    assert cell == colab.setup_cell(frameworks), (
        f"{path.name}: regenerate its first cell with utils.colab.setup_cell("
        f"{frameworks})")
    assert "kill" not in cell and "restart" not in cell.lower()


def _fake_installed(present: dict[str, str]):
    return lambda name: present.get(name)


def test_setup_installs_only_what_is_missing_without_following_mxnet_caps(tmp_path):
    (tmp_path / "requirements.txt").write_text(
        "torch==2.13.0\nnumpy==2.1.3\nsetuptools==80.9.0\nmatplotlib==3.10.9\n")
    (tmp_path / "requirements-no-deps.txt").write_text(
        "mxnet==1.9.1\ngluonnlp==0.10.0\n")
    calls = []
    present = {"numpy": "2.1.3", "matplotlib": "3.10.0", "tqdm": "4.67.1",
               "scikit-learn": "1.6.1", "torch": "2.11.0", "setuptools": "75.2.0"}
    line = colab.setup(["torch", "mxnet"], tmp_path,
                       run=lambda cmd, check: calls.append(cmd[5:]),
                       installed=_fake_installed(present),
                       requirements_of=lambda name: pytest.fail(name))
    assert calls == [["--no-deps", "-e", str(tmp_path)],
                     ["--no-deps", "mxnet==1.9.1"],
                     ["--no-deps", "--use-pep517", "gluonnlp==0.10.0"]]
    assert ("installed the book's utils (editable, without dependencies), "
            "mxnet==1.9.1, gluonnlp==0.10.0") in line
    assert "no preinstalled package was changed" in line


def test_setup_adds_the_missing_requirements_under_constraints(tmp_path, monkeypatch):
    (tmp_path / "requirements.txt").write_text("paddlepaddle==3.3.1\n")
    monkeypatch.setattr(colab, "_constraints_file", lambda: "/tmp/held.txt")
    calls = []
    present = {name: "1" for name in ("numpy", "matplotlib", "tqdm", "scikit-learn",
                                      "seqbook-utils")}
    line = colab.setup(["paddle"], tmp_path,
                       run=lambda cmd, check: calls.append(cmd[5:]),
                       installed=_fake_installed(present),
                       requirements_of=lambda name: ["opt_einsum==3.3.0"])
    assert calls == [["--no-deps", "paddlepaddle==3.3.1"],
                     ["--constraint", "/tmp/held.txt", "opt_einsum==3.3.0"]]
    assert "paddlepaddle==3.3.1, opt_einsum==3.3.0" in line


def test_setup_says_when_nothing_was_needed(tmp_path):
    (tmp_path / "requirements.txt").write_text("numpy==2.1.3\n")
    line = colab.setup([], tmp_path, run=lambda cmd, check: pytest.fail(str(cmd)),
                       installed=lambda name: "1")
    assert "nothing: Colab has every package" in line


def test_setup_checks_its_arguments(tmp_path):
    with pytest.raises(TypeError, match="frameworks must be a list"):
        colab.setup("torch", tmp_path)
    with pytest.raises(ValueError, match=r"drawn from .* got \['jax'\]"):
        colab.setup(["jax"], tmp_path)
    with pytest.raises(ValueError, match="clone of the book's repository"):
        colab.setup(["torch"], tmp_path)
    (tmp_path / "requirements.txt").write_text("numpy==2.1.3\n")
    with pytest.raises(ValueError, match="paddlepaddle is missing here"):
        colab.setup(["paddle"], tmp_path, run=lambda cmd, check: None,
                    installed=lambda name: None if name == "paddlepaddle" else "1")


def test_the_cell_clones_then_sets_up_on_colab_only(tmp_path, monkeypatch):
    """Run the real cell text: off Colab it does nothing, on Colab it clones and calls
    setup with the chapter's frameworks."""
    cell = colab.setup_cell(["paddle"])
    calls = []
    monkeypatch.setattr(colab.subprocess, "run", lambda cmd, check: calls.append(cmd))
    exec(cell, {})                                   # not on Colab: nothing happens
    assert calls == []
    folder = tmp_path / "clone"
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    monkeypatch.setenv(colab.REPO_ENV_VAR, "file:///somewhere/book.git")
    monkeypatch.setenv(colab.CLONE_DIR_ENV_VAR, str(folder))
    seen = {}
    monkeypatch.setattr(colab, "setup", lambda frameworks, where: seen.update(
        frameworks=frameworks, where=where) or "set up")
    monkeypatch.setattr(sys, "path", list(sys.path))
    exec(cell, {})
    assert calls == [["git", "clone", "-q", "--depth", "1", "file:///somewhere/book.git",
                      str(folder)]]
    assert seen == {"frameworks": ["paddle"], "where": str(folder)}
    assert sys.path[0] == str(folder)


def test_pinned_versions_reads_exact_pins_only(tmp_path):
    path = tmp_path / "requirements.txt"
    path.write_text("# comment\ntorch==2.13.0\nscikit_learn == 1.7.2  # why\n"
                    "tqdm>=4\n\n")
    assert colab.pinned_versions(path) == {"torch": "2.13.0", "scikit-learn": "1.7.2"}


def test_the_repository_url_is_the_same_for_the_launch_buttons_and_the_setup_cell():
    """The book's launch buttons (``_config.yml``) and the setup cell clone one repository."""
    config = (ROOT / "_config.yml").read_text(encoding="utf-8")
    match = re.search(r"(?m)^repository:\n  url: (\S+)$", config)
    assert match, "_config.yml has no repository url"
    assert match.group(1) == colab.REPO_URL, (
        f"_config.yml's repository url {match.group(1)} differs from utils.colab.REPO_URL "
        f"{colab.REPO_URL}: change both, then regenerate the setup cells")
