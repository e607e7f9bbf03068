"""The first cell of every chapter, on Colab: fetch the book's code, install what is missing.

A Colab runtime already has NumPy, PyTorch, matplotlib, scikit-learn and much more,
in versions that other preinstalled packages (jax, say) depend on. The setup cell
must therefore *add* and never *change*:

* the book's code is cloned from ``REPO_URL`` (or ``$SEQBOOK_REPO``, for a fork or a
  local copy) and put on ``sys.path``, and installed with ``--no-deps`` so that the
  processes a chapter starts (``torchrun``) import it too;
* each package a chapter needs (``FRAMEWORK_PACKAGES``) is installed only when it is
  missing, at the version ``requirements.txt`` pins, with ``--no-deps``; then only
  those of its own requirements that are missing are installed, under a constraints
  file that holds every installed package at its installed version. MXNet 1.9.1 and
  GluonNLP 0.10.0 declare ``numpy<2`` but run on NumPy 2 with the names
  ``utils.mxnet`` restores, so their requirements are not followed at all;
* nothing asks for a restart, and ``setup`` returns one line saying what it did.

``setup_cell(frameworks)`` is the text of that cell; a test checks that every chapter's
first cell is exactly it, so the URL and the logic live here alone.
"""
from __future__ import annotations

import importlib.metadata
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

REPO_URL = "https://github.com/seqbook/sequence-models-for-text"
# The pinned versions: the second file lists what is installed without requirements.
REQUIREMENT_FILES = ("requirements.txt", "requirements-no-deps.txt")
REPO_ENV_VAR = "SEQBOOK_REPO"
CLONE_DIR = "/content/seqbook"
CLONE_DIR_ENV_VAR = "SEQBOOK_CLONE_DIR"

# What each framework's chapters need beyond the base packages, as pip names.
BASE_PACKAGES = ("numpy", "matplotlib", "tqdm", "scikit-learn")
FRAMEWORK_PACKAGES = {"torch": ("torch",), "mxnet": ("setuptools", "mxnet", "gluonnlp"),
                      "paddle": ("paddlepaddle",)}
# Installed without following their requirements: their metadata caps NumPy below 2.
IGNORE_REQUIREMENTS = {"mxnet", "gluonnlp"}
PEP517_BUILDS = {"gluonnlp"}  # a source package that builds only through PEP 517


def setup_cell(frameworks: Sequence[str]) -> str:
    """The text of a chapter's first (hidden) cell for ``frameworks``."""
    frameworks = _check_frameworks(frameworks)
    return "\n".join([
        "# On Colab: fetch the book's code and install only what Colab lacks. "
        "Elsewhere: nothing.",
        "import os, subprocess, sys",
        'if "google.colab" in sys.modules:',
        f'    repo = os.environ.get("{REPO_ENV_VAR}", "{REPO_URL}")',
        f'    folder = os.environ.get("{CLONE_DIR_ENV_VAR}", "{CLONE_DIR}")',
        "    if not os.path.isdir(folder):",
        '        subprocess.run(["git", "clone", "-q", "--depth", "1", repo, folder], '
        "check=True)",
        "    sys.path.insert(0, folder)",
        "    from utils.colab import setup",
        f"    print(setup({json.dumps(list(frameworks))}, folder), flush=True)",
    ])


def _check_frameworks(frameworks) -> tuple[str, ...]:
    """A list drawn from ``FRAMEWORK_PACKAGES`` (empty: the base packages only)."""
    if isinstance(frameworks, str) or not isinstance(frameworks, Sequence):
        raise TypeError(f"frameworks must be a list of names, got "
                        f"{type(frameworks).__name__} {frameworks!r}")
    unknown = [name for name in frameworks if name not in FRAMEWORK_PACKAGES]
    if unknown:
        raise ValueError(f"frameworks must be drawn from {sorted(FRAMEWORK_PACKAGES)}, "
                         f"got {unknown}")
    return tuple(frameworks)


def pinned_versions(requirements: str | os.PathLike) -> dict[str, str]:
    """``{name: version}`` of the ``name==version`` lines of a requirements file."""
    pins = {}
    for line in Path(requirements).read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*==\s*([^\s;#]+)", line)
        if match:
            pins[_normal(match.group(1))] = match.group(2)
    return pins


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_version(name: str) -> str | None:
    """The installed version of distribution ``name``, or ``None``."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def missing_requirements(name: str,
                         installed: Callable[[str], str | None] = installed_version
                         ) -> list[str]:
    """The requirements of installed distribution ``name`` that are not installed.

    Requirements behind extras, or whose environment markers do not hold here, are
    left out.
    """
    from packaging.requirements import Requirement

    result = []
    for text in importlib.metadata.requires(name) or []:
        requirement = Requirement(text)
        if requirement.marker is not None and not requirement.marker.evaluate(
                {"extra": ""}):
            continue
        if installed(requirement.name) is None:
            result.append(str(requirement))
    return result


def _constraints_file() -> str:
    """A constraints file that holds every installed distribution at its version."""
    lines = sorted({f"{dist.metadata['Name']}=={dist.version}"
                    for dist in importlib.metadata.distributions()
                    if dist.metadata["Name"]})
    handle = tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False)
    with handle:
        handle.write("\n".join(lines) + "\n")
    return handle.name


def _quiet_run(command: list[str], check: bool = True):
    """Run a pip command; show what it printed only when it fails."""
    done = subprocess.run(command, capture_output=True, text=True)
    if check and done.returncode != 0:
        print(done.stdout + done.stderr, file=sys.stderr, flush=True)
        raise subprocess.CalledProcessError(done.returncode, command)
    return done


def setup(frameworks: Sequence[str], folder: str | os.PathLike = CLONE_DIR, *,
          run: Callable | None = None,
          installed: Callable[[str], str | None] = installed_version,
          requirements_of: Callable[[str], list[str]] = missing_requirements) -> str:
    """Install what the chapters of ``frameworks`` need and Colab lacks; say what.

    Args:
        frameworks: e.g. ``["torch"]`` or ``["mxnet", "paddle"]``.
        folder: the clone of the book's repository (its ``REQUIREMENT_FILES`` hold
            the versions to install).
        run, installed, requirements_of: how commands run (quietly: pip's output is
            shown only when it fails) and what is installed (replaced in the tests).

    Returns:
        One line: what was installed (nothing else was changed).
    """
    frameworks = _check_frameworks(frameworks)
    run = run or _quiet_run
    folder = Path(folder)
    if not (folder / "requirements.txt").is_file():
        raise ValueError(f"folder must be a clone of the book's repository (with its "
                         f"requirements.txt), got {folder}")
    pins = {}
    for name in REQUIREMENT_FILES:
        if (folder / name).is_file():
            pins.update(pinned_versions(folder / name))
    pip = [sys.executable, "-m", "pip", "install", "-q"]
    added = []
    if installed("seqbook-utils") is None:  # for the processes a chapter starts
        run(pip + ["--no-deps", "-e", str(folder)], check=True)
        added.append("the book's utils (editable, without dependencies)")
    wanted = list(BASE_PACKAGES) + [p for f in frameworks for p in FRAMEWORK_PACKAGES[f]]
    constraints = None
    for name in dict.fromkeys(wanted):
        if installed(name) is not None:
            continue
        if _normal(name) not in pins:
            raise ValueError(f"{name} is missing here and none of {REQUIREMENT_FILES} "
                             f"pins a version of it; add one to requirements.txt.")
        spec = f"{name}=={pins[_normal(name)]}"
        run(pip + ["--no-deps"] + (["--use-pep517"] if name in PEP517_BUILDS else [])
            + [spec], check=True)
        added.append(spec)
        if name in IGNORE_REQUIREMENTS:
            continue
        needed = requirements_of(name)
        if needed:
            constraints = constraints or _constraints_file()
            run(pip + ["--constraint", constraints] + needed, check=True)
            added += needed
    what = ", ".join(added) if added else "nothing: Colab has every package"
    return (f"Colab setup: the book's code from {folder}; installed {what}; no "
            f"preinstalled package was changed.")
