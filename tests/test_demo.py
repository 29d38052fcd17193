"""The README's main job, `blgw demo`, end to end on two of its fixture subsites (PHP through
`php -S` and the classic ASP server): crawled into the store, indexed, searched."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import BLGW, WORKDIR

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(shutil.which("php") is None and not os.environ.get("BLGW_REQUIRE_FIXTURES"),
                                reason="php-cli is not installed")


def test_demo_crawls_indexes_and_searches_the_fixture_subsites(tmp_path):
    env = {**os.environ, "BLGW_DATA_DIR": str(tmp_path)}
    run = subprocess.run([*BLGW, "demo", "--no-serve", "--site", "rsj",
                          "--site", "dqjd", "--site", "sfj", "--articles", "12", "-q", "社保"],
                         cwd=WORKDIR, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "fixture subsite rsj" in run.stdout and "fixture subsite dqjd" in run.stdout
    assert "fixture subsite sfj" in run.stdout
    assert "results for '社保'" in run.stdout
    assert (tmp_path / "gateway.sqlite").is_file() and (tmp_path / "index.sqlite").is_file()

    exported = {}
    for code in ("rsj", "dqjd", "sfj"):
        out = subprocess.run([*BLGW, "export", code], cwd=WORKDIR, env=env,
                             capture_output=True, text=True, timeout=120, check=True).stdout
        items = [json.loads(line) for line in out.splitlines() if line.strip()]
        exported[code] = [i for i in items if i.get("item_type") == "article"]
    truth_rsj = json.loads((tmp_path / "fixture-rsj" / "truth.json").read_text(encoding="utf-8"))
    assert len(exported["rsj"]) == len(truth_rsj["articles"] if isinstance(truth_rsj, dict) else truth_rsj) == 12
    assert len(exported["dqjd"]) == 12
    # the documents that are their attachments: every file kept and read (the demo's site has no hostile files)
    files = [a for item in exported["sfj"] for a in item["attachments"]]
    assert files and all(a["status"] == "stored" and a["sha256"] for a in files)
    assert sum(1 for a in files if a["text_status"] == "ok") >= len(files) // 2

    search = subprocess.run([*BLGW, "search", "--json", "就业"], cwd=WORKDIR, env=env,
                            capture_output=True, text=True, timeout=120, check=True)
    hits = json.loads(search.stdout)
    assert {h["site_code"] for h in hits["hits"]} <= {"rsj", "dqjd", "sfj"} and hits["total"] > 0


def test_an_unknown_demo_site_is_a_usage_error_naming_the_codes(tmp_path):
    """``--site php`` (a platform, not a code) is refused before anything starts, with the
    codes it takes; it used to start nothing and say only that no fixture could be started."""
    env = {**os.environ, "BLGW_DATA_DIR": str(tmp_path)}
    run = subprocess.run([*BLGW, "demo", "--no-serve", "--site", "php"], capture_output=True, text=True,
                         env=env, cwd=WORKDIR, timeout=60)
    assert run.returncode == 2
    assert "'php' is not one of" in run.stderr and "'rsj'" in run.stderr and "'wlj'" in run.stderr
    assert not (tmp_path / "gateway.sqlite").exists()
