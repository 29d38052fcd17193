"""The layers (docs/architecture.md) hold: import-linter's contracts in pyproject.toml pass, a new
upward import or a cycle breaks them, and an import inside a function says why it is there."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
PACKAGES = ["gateway", "spiders", "plugins", "normalizers", "index", "fixture_sites"]


def _lint_imports(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([str(LINT_IMPORTS), "--config", str(root / "pyproject.toml"), "--no-cache"], cwd=root,
                          env=env, capture_output=True, text=True, timeout=300)


def test_the_layer_contracts_hold():
    result = _lint_imports(REPO)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


@pytest.fixture(scope="module")
def copy(tmp_path_factory):
    """The packages and the contracts, copied, to break them on purpose."""
    root = tmp_path_factory.mktemp("layers")
    for package in PACKAGES:
        shutil.copytree(REPO / package, root / package, ignore=shutil.ignore_patterns("__pycache__", "*.sqlite"))
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    return root


@pytest.mark.parametrize("module, line, contract", [
    ("normalizers/text.py", "from gateway.cli import main", "The layers of the gateway"),  # the bottom imports the top
    ("gateway/store/models.py", "import spiders.crawlstate", "The layers of the gateway"),  # the store imports the crawl
    ("plugins/spec.py", "from index.base import SearchQuery", "The layers of the gateway"),  # siblings of a layer
    ("index/base.py", "from index.embedded import EmbeddedIndex", "The index contract knows no backend"),
    ("spiders/listing.py", "from spiders.runner import crawl_settings", "Spiders: the runner over the spider"),
    ("plugins/cron.py", "import plugins.manager", "No cycles between the modules"),  # manager → spec → cron → manager
])
def test_an_upward_import_or_a_cycle_breaks_a_contract(copy, module, line, contract):
    path = copy / module
    original = path.read_text(encoding="utf-8")
    try:
        # inside a function, where imports used to hide from the module graph
        path.write_text(original + f"\n\ndef _added_on_purpose():\n    {line}\n", encoding="utf-8")
        result = _lint_imports(copy)
    finally:
        path.write_text(original, encoding="utf-8")
    assert result.returncode == 1, result.stdout[-3000:]
    broken = [block for block in result.stdout.split("\n\n") if "BROKEN" in block]
    assert any(contract in block for block in broken), result.stdout[-3000:]


def _function_level_imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for sub in ast.walk(node):
                if isinstance(sub, (ast.Import, ast.ImportFrom)):
                    found.append((sub.lineno, ast.unparse(sub)))
    return found


def test_an_import_inside_a_function_says_why():
    unexplained = []
    for package in PACKAGES[:-1]:
        for path in sorted((REPO / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            lines = path.read_text(encoding="utf-8").splitlines()
            for lineno, statement in _function_level_imports(path):
                above = " ".join(lines[max(0, lineno - 4):lineno - 1])
                if "imported here" not in above:
                    unexplained.append(f"{path.relative_to(REPO)}:{lineno}: {statement}")
    assert not unexplained, "imports inside functions without a '# imported here: why' comment:\n" + \
        "\n".join(unexplained)
