"""Tests of the packaging: pins agree, and ``import utils`` stays framework-free."""
from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _pins(lines) -> dict[str, str]:
    """``name==version`` requirements, by lower-case name."""
    found = {}
    for line in lines:
        match = re.match(r"\s*([A-Za-z0-9_.\-]+)\s*==\s*([^\s;#]+)", line)
        if match:
            found[match.group(1).lower()] = match.group(2)
    return found


def test_requirement_files_pin_numpy_2_and_install_mxnet_without_requirements():
    required = _pins((ROOT / "requirements.txt").read_text().splitlines())
    no_deps = _pins((ROOT / "requirements-no-deps.txt").read_text().splitlines())
    assert int(required["numpy"].split(".")[0]) >= 2, required["numpy"]
    # mxnet's metadata says numpy<2: in requirements.txt it would make pip's resolver
    # refuse the set (or take NumPy 1), so it lives in the --no-deps file alone.
    assert {"mxnet", "gluonnlp"} <= set(no_deps), no_deps
    assert not {"mxnet", "gluonnlp"} & set(required), required
    setup = (ROOT / "scripts" / "setup_env.sh").read_text()
    assert "--no-deps --use-pep517 -r requirements-no-deps.txt" in setup


def test_optional_dependency_pins_match_requirements_txt():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    required = _pins((ROOT / "requirements.txt").read_text().splitlines())
    for extra, deps in project["optional-dependencies"].items():
        for name, version in _pins(deps).items():
            assert required.get(name) == version, (
                f"pyproject.toml [{extra}] pins {name}=={version} but requirements.txt "
                f"has {required.get(name)}; make them agree")


def test_import_utils_imports_no_framework():
    code = ("import sys, utils; "
            "print(sorted(m for m in ('torch', 'mxnet', 'paddle', 'gluonnlp') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
